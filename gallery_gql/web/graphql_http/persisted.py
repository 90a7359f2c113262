"""Documents sent by hash: Apollo's automatic persisted queries, and the trusted documents.

A request's `extensions.persistedQuery` is `{"version": 1, "sha256Hash": "<64 hex>"}`.
Without `query`, the hash names the document: a trusted one (api/documents/manifest.py),
else one this worker registered; unknown → 404 `PERSISTED_QUERY_NOT_FOUND`, on which
Apollo's clients send the document again with its hash, which registers it. A hash that
is not the SHA-256 of the `query` sent with it → 400 `BAD_REQUEST`, and nothing is
registered. The store is bounded in entries (least recently used go first) and in each
document's length; with `trusted_documents_only` nothing is registered and only trusted
documents run, by hash or in full (anything else → 403 `PERSISTED_QUERY_NOT_IN_LIST`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gallery_gql.api.documents.lru import LRU
from gallery_gql.api.documents.manifest import document_hash
from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.graphql_http.params import GraphQLParams
from gallery_gql.web.graphql_http.problems import ProtocolError, bad_request

_SHA256 = re.compile(r"[0-9a-f]{64}")


class PersistedQueryStore:
    """Registered documents by hash, least recently used first out, each bounded."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._documents: LRU[str, str] = LRU(max_entries)

    def get(self, digest: str) -> str | None:
        return self._documents.get(digest)

    def put(self, digest: str, text: str) -> None:
        if len(text.encode()) <= self.max_bytes:
            self._documents.put(digest, text)

    def __len__(self) -> int:
        return len(self._documents)


@dataclass(frozen=True, slots=True)
class Document:
    text: str
    persisted: bool
    """Named by `extensions.persistedQuery` (by hash, or registered with it)."""


NOT_IN_LIST = "only trusted documents run here: send one of the bundled clients' operations"


class PersistedDocuments:
    """Turns a request's parameters into the text of the document to run."""

    def __init__(
        self, trusted: Mapping[str, str], store: PersistedQueryStore, trusted_only: bool
    ) -> None:
        self.trusted = trusted
        self.store = store
        self.trusted_only = trusted_only
        self._trusted_texts = frozenset(trusted.values())

    def refuses(self, text: object) -> bool:
        """A document sent in full that may not run (trusted-only, and not trusted)."""
        return self.trusted_only and text not in self._trusted_texts

    def document(self, params: GraphQLParams) -> Document:
        digest = _persisted_hash(params.extensions)
        if digest is None:
            assert params.query is not None  # params.py requires one or the other
            if self.refuses(params.query):
                raise _not_in_list()
            return Document(params.query, persisted=False)
        if params.query is None:
            text = self.trusted.get(digest)
            if text is None and not self.trusted_only:
                text = self.store.get(digest)
            if text is None:
                raise ProtocolError(
                    404, ErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound"
                )
            return Document(text, persisted=True)
        if document_hash(params.query) != digest:
            raise bad_request("provided sha does not match query")
        if digest not in self.trusted:
            if self.trusted_only:
                raise _not_in_list()
            self.store.put(digest, params.query)
        return Document(params.query, persisted=True)


def _not_in_list() -> ProtocolError:
    return ProtocolError(403, ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, NOT_IN_LIST)


def _persisted_hash(extensions: Mapping[str, object] | None) -> str | None:
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, Mapping):
        raise bad_request("`extensions.persistedQuery` must be an object")
    if persisted.get("version") != 1:
        raise bad_request("`extensions.persistedQuery.version` must be 1")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise bad_request(
            "`extensions.persistedQuery.sha256Hash` must be a SHA-256 in lowercase hex"
        )
    return digest
