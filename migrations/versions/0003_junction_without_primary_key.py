"""junction without its primary key, quality copy or top-rated index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

`content_tags` loses `quality_score` (a mutable copy of the item's), the TOP_RATED index
and the primary key; `ix_content_tags_newest` becomes UNIQUE (created_at is a function of
(source, item_id), so it is unique exactly when the key was) and a non-unique
`(source, item_id)` index keeps per-item access. See docs/decisions.md.

Dropping a column leaves its bytes in every existing heap tuple, so the upgrade rewrites
the table with CLUSTER on the new unique index (allowed in a transaction for one table;
the tuples come out in that index's order, as the seed loads them). It holds an ACCESS
EXCLUSIVE lock on content_tags for the whole migration: reads and writes of the junction
wait. Run `VACUUM (ANALYZE) content_tags` afterwards (outside a transaction): the rewrite
leaves the visibility map empty, so index-only scans visit the heap until it runs.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEWEST: list[Any] = [
    "tag_key",
    "source",
    sa.literal_column("created_at DESC"),
    sa.literal_column("item_id DESC"),
]


def upgrade() -> None:
    # As `seed`'s index builds do: the rewrite sorts the whole junction.
    op.execute("SET LOCAL maintenance_work_mem = '512MB'")
    op.drop_index("ix_content_tags_top_rated", table_name="content_tags")
    op.drop_constraint(op.f("pk_content_tags"), "content_tags", type_="primary")
    op.drop_index("ix_content_tags_newest", table_name="content_tags")
    op.drop_column("content_tags", "quality_score")
    op.create_index("ix_content_tags_newest", "content_tags", _NEWEST, unique=True)
    # Rewrites the heap without the dropped column's bytes and rebuilds the index above.
    op.execute("CLUSTER content_tags USING ix_content_tags_newest")
    op.execute("ALTER TABLE content_tags SET WITHOUT CLUSTER")
    op.create_index("ix_content_tags_item", "content_tags", ["source", "item_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_content_tags_item", table_name="content_tags")
    op.add_column("content_tags", sa.Column("quality_score", sa.Double(), nullable=True))
    for source, table in ((0, "content_items"), (1, "content_items_auto")):
        op.execute(
            f"UPDATE content_tags ct SET quality_score = i.quality_score FROM {table} i"
            f" WHERE ct.source = {source} AND i.id = ct.item_id"
        )
    # A link whose item is gone has no score to copy; such a row is already a stray
    # (verify reports it), and the old layout cannot hold it without one.
    op.execute("DELETE FROM content_tags WHERE quality_score IS NULL")
    op.alter_column("content_tags", "quality_score", nullable=False)
    # Back to the old column order is not needed: alembic compares columns by name.
    op.drop_index("ix_content_tags_newest", table_name="content_tags")
    op.create_primary_key(op.f("pk_content_tags"), "content_tags", ["source", "item_id", "tag_key"])
    op.create_index("ix_content_tags_newest", "content_tags", _NEWEST, unique=False)
    op.create_index(
        "ix_content_tags_top_rated",
        "content_tags",
        [
            "tag_key",
            "source",
            sa.literal_column("quality_score DESC"),
            sa.literal_column("item_id DESC"),
        ],
        unique=False,
    )
