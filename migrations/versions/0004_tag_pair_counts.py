"""tag pair counts: the planner's estimate of how often common tags meet

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

An empty table: `gallery-gql pair-stats` (and `seed`) fills it from a sample of items.
Until then the planner takes the tags as independent, as before (docs/decisions.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tag_pair_counts",
        sa.Column("source", sa.SmallInteger(), nullable=False),
        sa.Column("tag_a", sa.Integer(), nullable=False),
        sa.Column("tag_b", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "tag_a", "tag_b", name=op.f("pk_tag_pair_counts")),
    )


def downgrade() -> None:
    op.drop_table("tag_pair_counts")
