"""The trusted documents' manifest, built from the bundled clients' sources: every
GraphQL operation written as a JavaScript template literal in the gallery page's scripts
and in GraphiQL's page (its examples), each exactly as the client sends it.

A literal counts when its text (after `${NAME}` is replaced by the literal constant
`NAME`, as GraphiQL's examples share their page fields) parses as a GraphQL document with
one operation. Every such document must validate against the schema: a client's document
that does not is a bug, and the export refuses it.
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import OperationDefinitionNode, parse, validate
from graphql.error import GraphQLSyntaxError

from gallery_gql.api.documents.manifest import TrustedDocument, document_hash, manifest_text
from gallery_gql.api.schema import build_schema
from gallery_gql.settings import Settings

STATIC = Path(__file__).resolve().parents[1] / "static"


def client_sources() -> tuple[Path, ...]:
    """The gallery page's scripts (every module of it) and GraphiQL's page."""
    return (*sorted((STATIC / "gallery").glob("*.js")), STATIC / "graphiql.html")


_CONSTANT = re.compile(r"const\s+([A-Z_][A-Z0-9_]*)\s*=\s*`([^`$]*)`")
_LITERAL = re.compile(r"`([^`]*)`")
_INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class ClientDocumentError(ValueError):
    """A client's operation that the schema refuses."""


def _literals(source: str) -> list[str]:
    constants = dict(_CONSTANT.findall(source))
    texts = []
    for literal in _LITERAL.findall(source):
        names = _INTERPOLATION.findall(literal)
        if any(name not in constants for name in names):
            continue  # built at run time: not a fixed document
        texts.append(_INTERPOLATION.sub(lambda m: constants[m.group(1)], literal))
    return texts


def _operation(text: str) -> OperationDefinitionNode | None:
    try:
        document = parse(text)
    except GraphQLSyntaxError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return operations[0] if len(operations) == 1 else None


def client_documents(sources: tuple[Path, ...] | None = None) -> list[TrustedDocument]:
    schema = build_schema(Settings(environment="development"))._schema
    found: dict[str, TrustedDocument] = {}
    for path in sources if sources is not None else client_sources():
        for text in _literals(path.read_text(encoding="utf-8")):
            operation = _operation(text)
            if operation is None:
                continue
            name = operation.name.value if operation.name else "anonymous"
            errors = validate(schema, parse(text))
            if errors:
                raise ClientDocumentError(f"{path.name}: {name}: {errors[0].message}")
            digest = document_hash(text)
            found[digest] = TrustedDocument(digest, name, operation.operation.value, text)
    return list(found.values())


def export_manifest() -> str:
    return manifest_text(client_documents())
