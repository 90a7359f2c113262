// Tag autocomplete, paged forward as Relay pages a connection: `first`/`after`.
import { graphql } from "react-relay";

export const tagSearchFragment = graphql`
  fragment TagSearch_query on Query
  @refetchable(queryName: "TagSearchPaginationQuery")
  @argumentDefinitions(
    search: { type: "String" }
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "Cursor" }
  ) {
    tags(search: $search, first: $count, after: $cursor)
      @connection(key: "TagSearch_tags", filters: ["search"]) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`;

export const tagSearchQuery = graphql`
  query TagSearchQuery($search: String, $first: Int) {
    ...TagSearch_query @arguments(search: $search, count: $first)
  }
`;
