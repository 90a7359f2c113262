"""Relay edges in compiled plans: each edge's `cursor`, `node` and `__typename`, for the
item connection and the tag connection alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.documents.plans import (
    BoundVariables,
    Compiler,
    Selection,
    selection_sets,
)


class NodePlan(Protocol):
    async def render(
        self, nodes: list[Any], context: GalleryContext, variables: BoundVariables
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class EdgesPlan:
    type_name: str
    entries: tuple[tuple[str, str, NodePlan | None], ...]
    """(key, `cursor` | `typename` | `node`, the node's plan)."""

    @property
    def node_plans(self) -> list[NodePlan]:
        return [plan for _, kind, plan in self.entries if plan is not None]

    @property
    def shows_cursors(self) -> bool:
        return any(kind == "cursor" for _, kind, _ in self.entries)

    async def render(
        self,
        cursors: Sequence[str],
        nodes: list[Any],
        context: GalleryContext,
        variables: BoundVariables,
    ) -> list[dict[str, Any]]:
        """An edge per node; `cursors` are the nodes' own, and may be empty when the edges
        do not show them (`shows_cursors`)."""
        rendered_nodes = {
            key: await plan.render(nodes, context, variables)
            for key, _, plan in self.entries
            if plan is not None
        }
        rendered = []
        for index in range(len(nodes)):
            edge: dict[str, Any] = {}
            for key, kind, _ in self.entries:
                if kind == "cursor":
                    edge[key] = cursors[index]
                elif kind == "typename":
                    edge[key] = self.type_name
                else:
                    edge[key] = rendered_nodes[key][index]
            rendered.append(edge)
        return rendered


def edges_plan(
    compiler: Compiler,
    selection: Selection,
    edge_type: str,
    node_type: str,
    node_plan: Callable[[list[Selection]], NodePlan],
) -> EdgesPlan:
    entries: list[tuple[str, str, NodePlan | None]] = []
    for part in compiler.collect(compiler.object_type(edge_type), selection_sets(selection)):
        if part.field is None:
            entries.append((part.key, "typename", None))
        elif part.name == "cursor":
            entries.append((part.key, "cursor", None))
        else:  # node
            fields = compiler.collect(compiler.object_type(node_type), selection_sets(part))
            entries.append((part.key, "node", node_plan(fields)))
    return EdgesPlan(edge_type, tuple(entries))
