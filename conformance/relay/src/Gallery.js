// The gallery grid, paged both ways (`first`/`after`, `last`/`before`) by Relay's
// bidirectional pagination, with the filter as refetch variables.
import { graphql } from "react-relay";

export const galleryFragment = graphql`
  fragment Gallery_query on Query
  @refetchable(queryName: "GalleryPaginationQuery")
  @argumentDefinitions(
    tags: { type: "[ID!]" }
    match: { type: "TagMatchMode", defaultValue: ANY }
    sort: { type: "ContentSort", defaultValue: NEWEST }
    first: { type: "Int", defaultValue: 25 }
    after: { type: "Cursor" }
    last: { type: "Int" }
    before: { type: "Cursor" }
  ) {
    contentItems(
      tags: $tags
      match: $match
      sort: $sort
      first: $first
      after: $after
      last: $last
      before: $before
    ) @connection(key: "Gallery_contentItems", filters: ["tags", "match", "sort"]) {
      edges {
        node {
          id
          ...GalleryItem_item
        }
      }
      totalCount {
        count
        isExact
      }
    }
  }
`;

export const galleryQuery = graphql`
  query GalleryQuery($tags: [ID!], $first: Int) {
    ...Gallery_query @arguments(tags: $tags, first: $first)
  }
`;
