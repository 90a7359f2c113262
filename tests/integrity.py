"""An independent check that arrays, junction and counts agree (plain SQL + Python)."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_TABLES = {0: "content_items", 1: "content_items_auto"}


async def integrity_problems(engine: AsyncEngine) -> list[str]:
    """Every disagreement between item arrays, junction rows, sort keys and tag counts."""
    problems: list[str] = []
    async with engine.connect() as conn:
        tag_keys: dict[UUID, int] = {
            row.id: row.tag_key for row in await conn.execute(text("SELECT id, tag_key FROM tags"))
        }
        expected: dict[tuple[int, int, int], object] = {}
        counts: Counter[tuple[int, int, bool]] = Counter()
        for source, table in _TABLES.items():
            items = await conn.execute(
                text(f"SELECT id, tags, created_at, is_private FROM {table}")
            )
            for row in items:
                if len(set(row.tags)) != len(row.tags):
                    problems.append(f"{table} {row.id}: duplicate tags in array")
                for tag in row.tags:
                    expected[(source, row.id, tag_keys[tag])] = row.created_at
                    counts[(tag_keys[tag], source, row.is_private)] += 1
        links = (
            await conn.execute(
                text("SELECT source, item_id, tag_key, created_at FROM content_tags")
            )
        ).all()
        actual = {(r.source, r.item_id, r.tag_key): r.created_at for r in links}
        # No primary key forbids a link twice (with two created_at values): count them.
        for link, n in Counter((r.source, r.item_id, r.tag_key) for r in links).items():
            if n > 1:
                problems.append(f"junction row {link} {n} times")
        for key in expected.keys() - actual.keys():
            problems.append(f"missing junction row {key}")
        for key in actual.keys() - expected.keys():
            problems.append(f"extra junction row {key}")
        for key in expected.keys() & actual.keys():
            if expected[key] != actual[key]:
                problems.append(f"stale sort keys on junction row {key}")
        stored: dict[Any, tuple[int, int]] = {
            (r.tag_key, r.source): (r.items, r.private_items)
            for r in await conn.execute(text("SELECT * FROM tag_counts"))
        }
        wanted: dict[tuple[int, int], tuple[int, int]] = {}
        for (tag, source, private), n in counts.items():
            shown, hidden = wanted.get((tag, source), (0, 0))
            wanted[(tag, source)] = (shown + n, hidden + (n if private else 0))
        for pair in wanted.keys() | stored.keys():
            if wanted.get(pair, (0, 0)) != stored.get(pair, (0, 0)):
                problems.append(f"tag_counts {pair}: {stored.get(pair)} != {wanted.get(pair)}")
    return problems
