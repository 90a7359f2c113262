"""The committed manifest of trusted documents is the one the clients' sources give."""

from __future__ import annotations

from gallery_gql.api.documents.manifest import MANIFEST_PATH, trusted_documents
from gallery_gql.ops.trusted_documents import client_documents, export_manifest


def test_the_manifest_is_current() -> None:
    assert MANIFEST_PATH.read_text() == export_manifest(), (
        "run `make documents` and commit the result"
    )


def test_it_holds_the_gallery_pages_and_graphiqls_operations() -> None:
    names = {document.name for document in client_documents()}
    assert {"GalleryPage", "GalleryItem", "TagSearch", "TagAutocomplete", "ItemWithTags"} <= names
    assert len(trusted_documents()) == len(client_documents())
