"""A variable that does not coerce is a request error with one code, BAD_USER_INPUT,
whichever type refused it (a built-in scalar, ours, an enum, an input object, a missing
non-null value): no `path`, no `data`, nothing run."""

from __future__ import annotations

from typing import Any

import pytest

from gallery_gql.api.schema import build_schema
from gallery_gql.settings import Settings

ITEMS = "contentItems({argument}: $v) {{ edges {{ cursor }} }}"
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "Int": ("Int", ITEMS.format(argument="first"), {"v": "ten"}),
    "Int out of 32 bits": ("Int", ITEMS.format(argument="first"), {"v": 2**40}),
    "String": ("String", ITEMS.format(argument="search"), {"v": 5}),
    "Boolean": ("Boolean!", "viewer { id } __typename @include(if: $v)", {"v": "yes"}),
    "ID": ("ID!", "contentItem(id: $v) { id }", {"v": 1.5}),
    "ID missing": ("ID!", "contentItem(id: $v) { id }", {}),
    "ID null": ("ID!", "contentItem(id: $v) { id }", {"v": None}),
    "list of ID": ("[ID!]", ITEMS.format(argument="tags"), {"v": [None]}),
    "Cursor": ("Cursor", ITEMS.format(argument="after"), {"v": "not a cursor!"}),
    "enum": ("ContentSort!", ITEMS.format(argument="sort"), {"v": "SIDEWAYS"}),
    "input object field": ("CreatorFilter", ITEMS.format(argument="creator"), {"v": {"x": 1}}),
    "input object type": ("CreatorFilter", ITEMS.format(argument="creator"), {"v": "ME"}),
}


@pytest.mark.parametrize(("declared", "selection", "variables"), CASES.values(), ids=list(CASES))
async def test_every_coercion_failure_is_bad_user_input(
    declared: str, selection: str, variables: dict[str, Any]
) -> None:
    schema = build_schema(Settings(secret="s" * 32))
    result = await schema.execute(f"query ($v: {declared}) {{ {selection} }}", variables)
    assert result.data is None
    assert result.errors
    for error in result.errors:
        assert error.extensions == {"code": "BAD_USER_INPUT"}, error.message
        assert error.path is None
        assert error.message.startswith("Variable '$v'"), error.message
