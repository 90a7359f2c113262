"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("tag_key", sa.Integer(), sa.Identity(always=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "tag_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
        sa.UniqueConstraint("tag_key", name=op.f("uq_tags_tag_key")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "content_items",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=16), nullable=False),
        sa.Column("content_data", sa.Text(), nullable=False),
        sa.Column("path_thumb", sa.Text(), nullable=True),
        sa.Column("path_thumbs_alt_res", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column(
            "item_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("creator_id", sa.UUID(), nullable=False),
        sa.Column("quality_score", sa.Double(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_private", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('simple'::regconfig, (title::text || ' '::text) || prompt)",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "content_type IN ('image', 'video', 'audio', 'text')",
            name=op.f("ck_content_items_content_type"),
        ),
        sa.CheckConstraint(
            "char_length(prompt) <= 20000", name=op.f("ck_content_items_prompt_length")
        ),
        sa.CheckConstraint(
            "quality_score >= 0 AND quality_score <= 1", name=op.f("ck_content_items_quality_range")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["users.id"], name=op.f("fk_content_items_creator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_items")),
    )
    op.create_index(
        "ix_content_items_creator_newest",
        "content_items",
        ["creator_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_content_items_creator_top_rated",
        "content_items",
        ["creator_id", sa.literal_column("quality_score DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_content_items_newest",
        "content_items",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_content_items_search",
        "content_items",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_content_items_tags", "content_items", ["tags"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_content_items_top_rated",
        "content_items",
        [sa.literal_column("quality_score DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "content_items_auto",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=16), nullable=False),
        sa.Column("content_data", sa.Text(), nullable=False),
        sa.Column("path_thumb", sa.Text(), nullable=True),
        sa.Column("path_thumbs_alt_res", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column(
            "item_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("creator_id", sa.UUID(), nullable=False),
        sa.Column("quality_score", sa.Double(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_private", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('simple'::regconfig, (title::text || ' '::text) || prompt)",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "content_type IN ('image', 'video', 'audio', 'text')",
            name=op.f("ck_content_items_auto_content_type"),
        ),
        sa.CheckConstraint(
            "char_length(prompt) <= 20000", name=op.f("ck_content_items_auto_prompt_length")
        ),
        sa.CheckConstraint(
            "quality_score >= 0 AND quality_score <= 1",
            name=op.f("ck_content_items_auto_quality_range"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["users.id"], name=op.f("fk_content_items_auto_creator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_items_auto")),
    )
    op.create_index(
        "ix_content_items_auto_creator_newest",
        "content_items_auto",
        ["creator_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_content_items_auto_creator_top_rated",
        "content_items_auto",
        ["creator_id", sa.literal_column("quality_score DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_content_items_auto_newest",
        "content_items_auto",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_content_items_auto_search",
        "content_items_auto",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_content_items_auto_tags",
        "content_items_auto",
        ["tags"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_content_items_auto_top_rated",
        "content_items_auto",
        [sa.literal_column("quality_score DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "content_tags",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quality_score", sa.Double(), nullable=False),
        sa.Column("tag_key", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_key"],
            ["tags.tag_key"],
            name=op.f("fk_content_tags_tag_key_tags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "item_id", "tag_key", name=op.f("pk_content_tags")),
    )
    op.create_index(
        "ix_content_tags_newest",
        "content_tags",
        [
            "tag_key",
            "source",
            sa.literal_column("created_at DESC"),
            sa.literal_column("item_id DESC"),
        ],
        unique=False,
    )
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
    op.create_table(
        "tag_counts",
        sa.Column("tag_key", sa.Integer(), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=False),
        sa.Column("items", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("private_items", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_key"],
            ["tags.tag_key"],
            name=op.f("fk_tag_counts_tag_key_tags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tag_key", "source", name=op.f("pk_tag_counts")),
    )
    op.create_table(
        "tag_parents",
        sa.Column("tag_id", sa.UUID(), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=False),
        sa.CheckConstraint("tag_id <> parent_id", name=op.f("ck_tag_parents_not_self")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["tags.id"],
            name=op.f("fk_tag_parents_parent_id_tags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_tag_parents_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tag_id", "parent_id", name=op.f("pk_tag_parents")),
    )
    op.create_index(op.f("ix_tag_parents_parent_id"), "tag_parents", ["parent_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tag_parents_parent_id"), table_name="tag_parents")
    op.drop_table("tag_parents")
    op.drop_table("tag_counts")
    op.drop_index("ix_content_tags_top_rated", table_name="content_tags")
    op.drop_index("ix_content_tags_newest", table_name="content_tags")
    op.drop_table("content_tags")
    op.drop_index("ix_content_items_auto_top_rated", table_name="content_items_auto")
    op.drop_index(
        "ix_content_items_auto_tags", table_name="content_items_auto", postgresql_using="gin"
    )
    op.drop_index(
        "ix_content_items_auto_search", table_name="content_items_auto", postgresql_using="gin"
    )
    op.drop_index("ix_content_items_auto_newest", table_name="content_items_auto")
    op.drop_index("ix_content_items_auto_creator_top_rated", table_name="content_items_auto")
    op.drop_index("ix_content_items_auto_creator_newest", table_name="content_items_auto")
    op.drop_table("content_items_auto")
    op.drop_index("ix_content_items_top_rated", table_name="content_items")
    op.drop_index("ix_content_items_tags", table_name="content_items", postgresql_using="gin")
    op.drop_index("ix_content_items_search", table_name="content_items", postgresql_using="gin")
    op.drop_index("ix_content_items_newest", table_name="content_items")
    op.drop_index("ix_content_items_creator_top_rated", table_name="content_items")
    op.drop_index("ix_content_items_creator_newest", table_name="content_items")
    op.drop_table("content_items")
    op.drop_table("users")
    op.drop_table("tags")
