// One tile, refetchable by its global id through `node(id:)`.
import { graphql } from "react-relay";

export const galleryItemFragment = graphql`
  fragment GalleryItem_item on ContentItem
  @refetchable(queryName: "GalleryItemRefetchQuery")
  @argumentDefinitions(resolution: { type: "String" }) {
    id
    title
    thumbnail(resolution: $resolution)
    qualityScore
    tags {
      id
      name
    }
    creator {
      id
      username
    }
  }
`;
