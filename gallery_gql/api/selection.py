"""What a query selects below a field: lets a resolver skip reading what nobody asked for."""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types.nodes import FragmentSpread, InlineFragment, Selection


def selects(selections: Iterable[Selection], path: tuple[str, ...]) -> bool:
    """Whether any selection, through fragments and aliases, reaches the fields of `path`
    (GraphQL names). `@skip`/`@include` are not evaluated: a skipped field still counts,
    so the answer may over-read, never under-read."""
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            if selects(selection.selections, path):
                return True
        elif selection.name == path[0] and (
            len(path) == 1 or selects(selection.selections, path[1:])
        ):
            return True
    return False
