"""An item plan renders an item from the columns it names (`ItemPlan.columns`, all a page
statement reads for it) as from the whole row: the same values in the same order, or the
same refusal."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from graphql import parse
from graphql.execution.values import VariableValues
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.api.documents.gallery_plans import item_plan
from gallery_gql.api.documents.item_rows import COLUMN_FIELDS
from gallery_gql.api.documents.plans import BoundVariables, Fallback
from tests.api.test_compiled_documents import ITEM_LEAVES
from tests.api.test_item_rows import COMPILER, item_rows

LEAVES = [leaf for leaf in ITEM_LEAVES if not any(mark in leaf for mark in "${.@")]
"""The item view's plain leaves: no variable, sub-selection, fragment or directive."""
ODD_VALUES = st.sampled_from([None, True, 0, 2**31, -(2**31) - 1, 1.5, math.inf, math.nan, ""])


@st.composite
def odd_rows(draw: st.DrawFn) -> dict[str, Any]:
    """A row whose plain columns are sometimes what no scalar gives back unchanged (a
    null, a bool for a number, an integer past 32 bits, a float not finite)."""
    row = draw(item_rows())
    for column in draw(st.lists(st.sampled_from(sorted(set(COLUMN_FIELDS.values()))))):
        row[column] = draw(ODD_VALUES)
    return row


def _plan(fields: list[str]) -> Any:
    operation = parse("{ " + " ".join(fields) + " }").definitions[0]
    selections = COMPILER.collect(COMPILER.object_type("ContentItem"), [operation.selection_set])  # type: ignore[attr-defined]
    return item_plan(COMPILER, selections, "/media/")


def _outcome(render: Any, item: Any) -> tuple[str, Any]:
    try:
        out = render(item)
    except Fallback:
        return "fallback", None
    except Exception as error:  # the scalar's own refusal
        return "refused", type(error)
    # NaN never equals itself: compared by its text
    return "value", [(key, "nan" if value != value else value) for key, value in out.items()]


fields = st.lists(
    st.sampled_from(LEAVES).map(lambda f: f if not f.startswith("thumbnail(") else f"t: {f}"),
    min_size=1,
    max_size=8,
)


@given(chosen=fields, row=odd_rows())
def test_a_plan_renders_from_its_columns_as_from_the_whole_row(
    chosen: list[str], row: dict[str, Any]
) -> None:
    plan = _plan(chosen)
    variables = BoundVariables(VariableValues({}, {}))
    only = {column: row[column] for column in plan.columns | {"source", "id"}}

    def render(item: dict[str, Any]) -> Any:
        (out,) = asyncio.run(plan.render([item], None, variables))  # type: ignore[arg-type]
        return out

    assert _outcome(render, only) == _outcome(render, row)
