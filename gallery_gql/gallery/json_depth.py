"""How deeply a JSON value nests, and a copy of it cut at a depth.

Item metadata is free-form JSON. Stored values nested ~250 deep made every page listing
them fail (orjson refuses to encode past 254 levels, and the response wraps the value in
a few more): writes refuse metadata nested deeper than MAX_METADATA_DEPTH, and what is
served is cut there, so a value stored before the bound cannot break a response.
Both walk iteratively: no recursion limit applies.
"""

from __future__ import annotations

from typing import Any

MAX_METADATA_DEPTH = 32
"""Levels of objects and arrays in item metadata (`{"a": [1]}` is 2 deep)."""


def json_depth(value: Any) -> int:
    """Levels of nested objects and arrays in `value` (0 for a scalar)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def cut_at_depth(value: Any, limit: int = MAX_METADATA_DEPTH) -> Any:
    """`value` itself when it nests at most `limit` deep; else a copy whose objects and
    arrays below `limit` levels are replaced by null."""
    if json_depth(value) <= limit:
        return value
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        current, parent, slot, depth = stack.pop()
        if isinstance(current, dict | list) and depth >= limit:
            parent[slot] = None
        elif isinstance(current, dict):
            copy: dict[str, Any] = {}
            parent[slot] = copy
            stack.extend((child, copy, key, depth + 1) for key, child in current.items())
        elif isinstance(current, list):
            items: list[Any] = [None] * len(current)
            parent[slot] = items
            stack.extend((child, items, index, depth + 1) for index, child in enumerate(current))
        else:
            parent[slot] = current
    return root[0]
