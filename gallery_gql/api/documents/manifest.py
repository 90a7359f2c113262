"""The trusted documents: the operations the bundled clients send (the gallery page and
GraphiQL's examples), by the SHA-256 of their text, in Apollo's persisted query manifest
format (`gallery-gql documents export` writes it; a test keeps it current).

A client may send such a document by its hash alone; with
`GALLERY_GQL_TRUSTED_DOCUMENTS_ONLY` they are the only documents that run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

MANIFEST_PATH = Path(__file__).resolve().parent / "trusted_documents.json"
MANIFEST_FORMAT = "apollo-persisted-query-manifest"


def document_hash(text: str) -> str:
    """The id Apollo's clients give a document: SHA-256 of its UTF-8 text, in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    id: str
    name: str
    type: str
    body: str

    def manifest_entry(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "type": self.type, "body": self.body}


def manifest_text(documents: list[TrustedDocument]) -> str:
    """The manifest file's text: the documents ordered by name, then id."""
    entries = [d.manifest_entry() for d in sorted(documents, key=lambda d: (d.name, d.id))]
    manifest: dict[str, Any] = {"format": MANIFEST_FORMAT, "version": 1, "operations": entries}
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode() + "\n"


@cache
def trusted_documents(path: Path = MANIFEST_PATH) -> dict[str, str]:
    """Document text by hash, read once per process. Each entry's hash is checked against
    its text: a manifest edited by hand cannot make a hash stand for another document."""
    manifest = orjson.loads(path.read_bytes())
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("version") != 1:
        raise ValueError(f"{path} is not a version 1 {MANIFEST_FORMAT}")
    documents: dict[str, str] = {}
    for entry in manifest["operations"]:
        body = entry["body"]
        if document_hash(body) != entry["id"]:
            raise ValueError(f"{path}: the id of {entry['name']!r} is not its body's SHA-256")
        documents[entry["id"]] = body
    return documents
