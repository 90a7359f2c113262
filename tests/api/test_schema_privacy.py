"""Where introspection is off (production), the schema is hidden completely: no error
suggests a name the client did not send ("Did you mean …"), for fields, arguments,
types, enum values or input fields, in literals and in variables alike. Development shows
the suggestions, which is how the cases below are known to reach them."""

from __future__ import annotations

from typing import Any

import pytest

from gallery_gql.api.schema import build_schema
from gallery_gql.settings import Settings

TYPOS: dict[str, tuple[str, dict[str, Any]]] = {
    "field": ("{ contentItemz { edges { cursor } } }", {}),
    "argument": ("{ contentItems(frist: 1) { edges { cursor } } }", {}),
    "type": (
        "query ($c: CreatorFiltr) { contentItems(creator: $c) { edges { cursor } } }",
        {},
    ),
    "enum literal": ("{ contentItems(sort: NEWESTT) { edges { cursor } } }", {}),
    "enum variable": (
        "query ($s: ContentSort!) { contentItems(sort: $s) { edges { cursor } } }",
        {"s": "NEWESTT"},
    ),
    "input field literal": ("{ contentItems(creator: {scop: ME}) { edges { cursor } } }", {}),
    "input field variable": (
        "query ($c: CreatorFilter) { contentItems(creator: $c) { edges { cursor } } }",
        {"c": {"scop": "ME"}},
    ),
    "field of a fragment's type": ("{ ... on Query { viewr { id } } }", {}),
}


async def _messages(environment: str, document: str, variables: dict[str, Any]) -> list[str]:
    schema = build_schema(Settings(environment=environment, secret="s" * 32))  # type: ignore[arg-type]
    result = await schema.execute(document, variable_values=variables)
    assert result.errors, document
    return [error.message for error in result.errors]


@pytest.mark.parametrize(("document", "variables"), TYPOS.values(), ids=list(TYPOS))
async def test_production_suggests_nothing(document: str, variables: dict[str, Any]) -> None:
    messages = await _messages("production", document, variables)
    assert not [m for m in messages if "did you mean" in m.lower()], messages


@pytest.mark.parametrize(("document", "variables"), TYPOS.values(), ids=list(TYPOS))
async def test_development_suggests(document: str, variables: dict[str, Any]) -> None:
    messages = await _messages("development", document, variables)
    assert any("Did you mean" in m for m in messages), messages


async def test_suggestions_follow_introspection() -> None:
    """Introspection turned on in production makes the schema public, suggestions with it."""
    schema = build_schema(Settings(environment="production", introspection=True, secret="s" * 32))
    result = await schema.execute("{ contentItemz { edges { cursor } } }")
    assert result.errors is not None
    assert "Did you mean" in result.errors[0].message
