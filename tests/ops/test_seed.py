"""Seeding: determinism, the two distributions, and the consistency of what lands in the DB."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import numpy as np
import pytest

from gallery_gql.ops.seed.database import asyncpg_dsn, database_is_empty
from gallery_gql.ops.seed.items import build_items
from gallery_gql.ops.seed.links import genonaut_links, slice_links, zipf_adversarial, zipf_links
from gallery_gql.ops.seed.plan import Profile, SeedError, SeedPlan
from gallery_gql.ops.seed.run import seed_database
from gallery_gql.ops.seed.tags import genonaut_tags
from gallery_gql.ops.seed.zipf_tags import (
    ADV_DISJOINT_A,
    ADV_DISJOINT_B,
    ADV_OLD_SKEW,
    ADV_TINY,
    ADVERSARIAL_TAGS,
    ZIPF_MIN_TAGS,
    zipf_tags,
)

SEEDED_TABLES = (
    "users",
    "tags",
    "tag_parents",
    "content_items",
    "content_items_auto",
    "content_tags",
    "tag_counts",
)
RESET_SQL = f"TRUNCATE {', '.join(SEEDED_TABLES)} RESTART IDENTITY CASCADE"
CONTENT_TABLES = {0: "content_items", 1: "content_items_auto"}
DISTRIBUTION_ITEMS = 3000


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Any]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield conn
    finally:
        await conn.close()


async def _digest(conn: Any) -> dict[str, str]:
    """md5 over every row of every seeded table (order-independent)."""
    digests = {}
    for table in SEEDED_TABLES:
        digests[table] = await conn.fetchval(
            f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {table} t"
        )
    return digests


async def _items(conn: Any) -> list[Any]:
    return [
        row
        for source, table in CONTENT_TABLES.items()
        for row in await conn.fetch(
            f"SELECT {source} AS source, id, tags, created_at, quality_score, is_private, "
            f"title, prompt, content_type, content_data, path_thumb, path_thumbs_alt_res, "
            f"item_metadata, updated_at, creator_id FROM {table}"
        )
    ]


async def _tag_names(conn: Any) -> dict[int, str]:
    return {r["tag_key"]: r["name"] for r in await conn.fetch("SELECT tag_key, name FROM tags")}


async def _tag_items(conn: Any) -> dict[str, set[tuple[int, int]]]:
    rows = await conn.fetch(
        "SELECT t.name, ct.source, ct.item_id FROM content_tags ct JOIN tags t USING (tag_key)"
    )
    by_tag: dict[str, set[tuple[int, int]]] = {}
    for row in rows:
        by_tag.setdefault(row["name"], set()).add((row["source"], row["item_id"]))
    return by_tag


# -- pure generation (no database) --------------------------------------------------------


def test_genonaut_tree_shape() -> None:
    tree, leaves = genonaut_tags(7)
    parents: dict[int, set[int]] = {}
    for child, parent in tree.edges:
        parents.setdefault(child, set()).add(parent)
    roots = [i for i in range(len(tree.names)) if i not in parents]
    assert len(roots) == 4
    assert len(leaves) == 101
    assert len(tree.names) == 4 + 22 + 101
    assert len(set(tree.names)) == len(tree.names)
    assert {"anime", "3D-render", "worm's-eye", "watercolor", "portrait"} <= set(tree.names)
    assert sum(len(parents[leaf]) == 2 for leaf in leaves.tolist()) >= 3

    def depth(tag: int) -> int:
        return 1 + max((depth(p) for p in parents.get(tag, ())), default=0)

    assert {depth(leaf) for leaf in leaves.tolist()} == {3}


def test_genonaut_links_follow_randint_then_sample() -> None:
    _, leaves = genonaut_tags(1)
    links = genonaut_links(1, 0, 20_000, leaves)
    sizes = np.diff(links.indptr)
    assert sizes.min() >= 0
    assert sizes.max() == 101
    assert abs(float(np.mean(sizes == 101)) - 100 / 201) < 0.02
    for i in range(0, 20_000, 997):
        row = links.tags[links.indptr[i] : links.indptr[i + 1]]
        assert np.all(np.diff(row) > 0)  # ascending and distinct
        assert set(row.tolist()) <= set(leaves.tolist())


def test_generation_is_repeatable() -> None:
    first = build_items(5000, 20, 3)
    second = build_items(5000, 20, 3)
    for name in ("source", "item_id", "created_us", "quality", "private", "creator"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    tags = zipf_tags(5000, 3)
    extra = zipf_adversarial(first, 3, tags)
    a = zipf_links(3, 0, tags, slice_links(extra, 0, 5000))
    b = zipf_links(3, 0, tags, slice_links(extra, 0, 5000))
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.tags, b.tags)
    assert zipf_tags(5000, 3).tree.ids == tags.tree.ids


def test_plan_validation() -> None:
    with pytest.raises(SeedError):
        SeedPlan("uniform", 10)  # type: ignore[arg-type]
    with pytest.raises(SeedError):
        SeedPlan("genonaut", -1)
    with pytest.raises(SeedError):
        SeedPlan("genonaut", 10, users=0)
    assert SeedPlan("genonaut", 100).user_count == 5
    assert SeedPlan("genonaut", 350_000).user_count == 1000


# -- seeded databases ---------------------------------------------------------------------


async def test_same_plan_gives_identical_data(database_url: str, db: Any) -> None:
    plan = SeedPlan("zipf", 700, users=12, seed=5)
    report = await seed_database(database_url, plan)
    first = await _digest(db)
    await db.execute(RESET_SQL)
    again = await seed_database(database_url, plan)
    assert await _digest(db) == first
    assert (report.links, report.regular_items, report.tags) == (
        again.links,
        again.regular_items,
        again.tags,
    )
    await db.execute(RESET_SQL)
    await seed_database(database_url, SeedPlan("zipf", 700, users=12, seed=6))
    other = await _digest(db)
    assert all(other[table] != first[table] for table in SEEDED_TABLES)


async def test_refuses_a_database_with_data(database_url: str, db: Any) -> None:
    assert await database_is_empty(database_url)
    await seed_database(database_url, SeedPlan("genonaut", 50))
    assert not await database_is_empty(database_url)
    before = await _digest(db)
    with pytest.raises(SeedError, match="empty"):
        await seed_database(database_url, SeedPlan("genonaut", 50))
    assert await _digest(db) == before


async def test_refuses_when_only_a_user_exists(database_url: str, db: Any) -> None:
    await db.execute(
        "INSERT INTO users (id, username, email) "
        "VALUES ('00000000-0000-4000-8000-000000000001', 'someone', 'someone@example.com')"
    )
    assert not await database_is_empty(database_url)
    with pytest.raises(SeedError, match="users"):
        await seed_database(database_url, SeedPlan("zipf", 10))
    assert await db.fetchval("SELECT count(*) FROM tags") == 0


async def test_schema_is_unchanged_by_seeding(database_url: str, db: Any) -> None:
    catalog_sql = """
        SELECT 'index ' || indexdef AS def FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL
        SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' '
               || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        ORDER BY 1
    """
    before = [r["def"] for r in await db.fetch(catalog_sql)]
    await seed_database(database_url, SeedPlan("genonaut", 300))
    assert [r["def"] for r in await db.fetch(catalog_sql)] == before


async def test_identity_sequences_continue_after_seeded_ids(database_url: str, db: Any) -> None:
    report = await seed_database(database_url, SeedPlan("genonaut", 400))
    tag_key = await db.fetchval(
        "INSERT INTO tags (id, name) VALUES ('00000000-0000-4000-8000-000000000002', 'new-tag') "
        "RETURNING tag_key"
    )
    assert tag_key == report.tags + 1
    creator = await db.fetchval("SELECT id FROM users WHERE username = 'admin'")
    for table, count in (
        ("content_items", report.regular_items),
        ("content_items_auto", report.auto_items),
    ):
        new_id = await db.fetchval(
            f"INSERT INTO {table} (title, content_type, content_data, prompt, creator_id) "
            "VALUES ('t', 'image', '/x.png', 'p', $1) RETURNING id",
            creator,
        )
        assert new_id == count + 1


async def test_genonaut_distribution(database_url: str, db: Any) -> None:
    report = await seed_database(database_url, SeedPlan("genonaut", DISTRIBUTION_ITEMS))
    items = await _items(db)
    total = len(items)
    assert total == DISTRIBUTION_ITEMS == report.regular_items + report.auto_items
    assert abs(report.regular_items / total - 0.055) < 0.015
    assert abs(sum(r["is_private"] for r in items) / total - 0.10) < 0.025
    assert abs(sum(len(r["tags"]) == 101 for r in items) / total - 100 / 201) < 0.04
    assert await db.fetchval("SELECT count(DISTINCT tag_key) FROM content_tags") == 101
    used_as_parent = await db.fetchval(
        "SELECT count(*) FROM content_tags ct JOIN tags t USING (tag_key) "
        "WHERE EXISTS (SELECT 1 FROM tag_parents p WHERE p.parent_id = t.id)"
    )
    assert used_as_parent == 0  # only leaves are applied
    assert report.links == sum(len(r["tags"]) for r in items)
    assert report.users == round(DISTRIBUTION_ITEMS / 350) == 9
    counts = Counter(r["content_type"] for r in items)
    assert counts["image"] / total > 0.9


async def test_genonaut_hierarchy_in_database(database_url: str, db: Any) -> None:
    await seed_database(database_url, SeedPlan("genonaut", 100))
    depth = await db.fetch(
        """
        WITH RECURSIVE up(tag_id, depth) AS (
            SELECT id, 1 FROM tags t
            WHERE NOT EXISTS (SELECT 1 FROM tag_parents p WHERE p.tag_id = t.id)
          UNION ALL
            SELECT p.tag_id, up.depth + 1 FROM tag_parents p JOIN up ON p.parent_id = up.tag_id
        )
        SELECT depth, count(DISTINCT tag_id) AS n FROM up GROUP BY depth ORDER BY depth
        """
    )
    assert [(r["depth"], r["n"]) for r in depth] == [(1, 4), (2, 22), (3, 101)]
    multi = await db.fetchval(
        "SELECT count(*) FROM (SELECT tag_id FROM tag_parents GROUP BY tag_id "
        "HAVING count(*) > 1) x"
    )
    assert multi >= 3


async def test_users_and_item_columns(database_url: str, db: Any) -> None:
    await seed_database(database_url, SeedPlan("genonaut", 800, users=40))
    users = await db.fetch("SELECT * FROM users ORDER BY created_at")
    assert len(users) == 40
    admins = [u["username"] for u in users if u["is_admin"]]
    assert admins == ["admin"]
    assert all(len(u["username"]) <= 50 for u in users)
    assert len({u["email"] for u in users}) == 40
    low, high = datetime(2025, 5, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC)
    prompt_shape = re.compile(r"[a-z]+( [a-z]+){9,39}")
    user_ids = {u["id"] for u in users}
    for item in await _items(db):
        assert low <= item["created_at"] < high
        assert item["updated_at"] == item["created_at"]
        assert 0 <= item["quality_score"] <= 1
        assert prompt_shape.fullmatch(item["prompt"])
        assert item["title"]
        folder = "regular" if item["source"] == 0 else "auto"
        assert item["content_data"].startswith("/data/")
        assert f"/{folder}/{item['id']}." in item["content_data"]
        assert item["path_thumb"] is None or item["path_thumb"].startswith("/data/thumbs/")
        assert item["creator_id"] in user_ids
        assert "model" in item["item_metadata"]


async def test_zipf_long_tail_and_adversarial_tags(database_url: str, db: Any) -> None:
    report = await seed_database(database_url, SeedPlan("zipf", DISTRIBUTION_ITEMS))
    items = await _items(db)
    total = len(items)
    by_tag = await _tag_items(db)
    zipf_names = [n for n in by_tag if not n.startswith("adv-")]
    sizes = sorted(len(by_tag[n]) for n in zipf_names)
    assert report.tags >= ZIPF_MIN_TAGS + len(ADVERSARIAL_TAGS)
    assert sizes[len(sizes) // 2] < 0.02 * total  # the median tag is rare
    assert sizes[-1] > 0.5 * total  # the head is huge
    per_item = [len(r["tags"]) for r in items]
    assert 30 <= sum(per_item) / total <= 50
    assert min(per_item) >= 20

    created = {(r["source"], r["id"]): r["created_at"] for r in items}
    old = by_tag[ADV_OLD_SKEW]
    assert len(old) == math.ceil(0.02 * total)
    newest_old = max(created[k] for k in old)
    assert all(created[k] >= newest_old for k in created.keys() - old)
    a, b = by_tag[ADV_DISJOINT_A], by_tag[ADV_DISJOINT_B]
    assert not a & b
    assert abs(len(a) / total - 0.05) < 0.01
    assert abs(len(b) / total - 0.05) < 0.01
    assert len(by_tag[ADV_TINY]) == 20


@pytest.mark.parametrize("profile", ["genonaut", "zipf"])
async def test_arrays_junction_and_counts_agree(
    database_url: str, db: Any, profile: Profile
) -> None:
    await seed_database(database_url, SeedPlan(profile, 1500))
    items = await _items(db)
    tag_ids = {r["id"]: r["tag_key"] for r in await db.fetch("SELECT id, tag_key FROM tags")}
    from_arrays = {(r["source"], r["id"], tag) for r in items for tag in r["tags"]}
    assert sum(len(r["tags"]) for r in items) == len(from_arrays)  # no repeats in an array
    junction = await db.fetch(
        "SELECT ct.source, ct.item_id, t.id AS tag_id, ct.created_at "
        "FROM content_tags ct JOIN tags t USING (tag_key)"
    )
    assert {(r["source"], r["item_id"], r["tag_id"]) for r in junction} == from_arrays
    assert len(junction) == len(from_arrays)

    keys = {(r["source"], r["id"]): r["created_at"] for r in items}
    for row in junction:
        assert keys[(row["source"], row["item_id"])] == row["created_at"]

    expected: Counter[tuple[int, int, str]] = Counter()
    for r in items:
        for tag in r["tags"]:
            expected[(tag_ids[tag], r["source"], "items")] += 1
            if r["is_private"]:
                expected[(tag_ids[tag], r["source"], "private")] += 1
    stored = await db.fetch("SELECT tag_key, source, items, private_items FROM tag_counts")
    assert {(r["tag_key"], r["source"]) for r in stored} == {
        (k, s) for k, s, kind in expected if kind == "items"
    }
    for row in stored:
        assert row["items"] == expected[(row["tag_key"], row["source"], "items")]
        assert row["private_items"] == expected[(row["tag_key"], row["source"], "private")]


async def test_progress_reports_every_stage(database_url: str) -> None:
    seen: dict[str, tuple[int, int]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        assert 0 <= done <= total
        seen[stage] = (done, total)

    report = await seed_database(database_url, SeedPlan("genonaut", 200), progress)
    assert {"users", "tags", "items", "links", "counts"} <= seen.keys()
    assert all(done == total for done, total in seen.values())
    assert seen["links"] == (report.links, report.links)
    assert seen["items"] == (200, 200)


async def test_empty_plan_seeds_users_and_tags_only(database_url: str, db: Any) -> None:
    report = await seed_database(database_url, SeedPlan("genonaut", 0))
    assert (report.regular_items, report.auto_items, report.links) == (0, 0, 0)
    assert report.users == 5
    assert await db.fetchval("SELECT count(*) FROM tag_counts") == 0
