"""The database schema as SQLAlchemy Core tables (the migrations create exactly these)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("username", String(50), nullable=False, unique=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("is_admin", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tags = Table(
    "tags",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    # Compact surrogate used by content_tags and tag_counts: int4 keys halve the junction.
    Column("tag_key", Integer, Identity(always=True), nullable=False, unique=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("tag_metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

tag_parents = Table(
    "tag_parents",
    metadata,
    Column(
        "tag_id", UUID(as_uuid=True), ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "parent_id", UUID(as_uuid=True), ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True
    ),
    CheckConstraint("tag_id <> parent_id", name="not_self"),
    Index(None, "parent_id"),
)


def _content_table(name: str) -> Table:
    """The two sources share their columns; ids overlap, so an item is (source, id)."""
    return Table(
        name,
        metadata,
        Column("id", Integer, Identity(), primary_key=True),
        Column("title", String(255), nullable=False),
        Column("content_type", String(16), nullable=False),
        Column("content_data", Text, nullable=False),
        Column("path_thumb", Text, nullable=True),
        Column("path_thumbs_alt_res", JSONB, nullable=True),
        Column("prompt", Text, nullable=False),
        Column("item_metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("creator_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
        Column("quality_score", Double, nullable=False, server_default=text("0")),
        Column("is_private", Boolean, nullable=False, server_default=text("false")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column(
            "tags", ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'::uuid[]")
        ),
        Column("version", Integer, nullable=False, server_default=text("1")),
        Column(
            "search_vector",
            TSVECTOR,
            Computed(
                "to_tsvector('simple'::regconfig, (title::text || ' '::text) || prompt)",
                persisted=True,
            ),
            nullable=False,
        ),
        CheckConstraint("content_type IN ('image', 'video', 'audio', 'text')", name="content_type"),
        CheckConstraint("char_length(prompt) <= 20000", name="prompt_length"),
        CheckConstraint("quality_score >= 0 AND quality_score <= 1", name="quality_range"),
        Index(f"ix_{name}_newest", text("created_at DESC"), text("id DESC")),
        Index(f"ix_{name}_top_rated", text("quality_score DESC"), text("id DESC")),
        Index(f"ix_{name}_creator_newest", "creator_id", text("created_at DESC"), text("id DESC")),
        Index(
            f"ix_{name}_creator_top_rated",
            "creator_id",
            text("quality_score DESC"),
            text("id DESC"),
        ),
        Index(f"ix_{name}_tags", "tags", postgresql_using="gin"),
        Index(f"ix_{name}_search", "search_vector", postgresql_using="gin"),
    )


content_items = _content_table("content_items")
content_items_auto = _content_table("content_items_auto")

content_tags = Table(
    "content_tags",
    metadata,
    # Column order packs the heap tuple (the 8-byte column first): 48 bytes a row.
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("tag_key", Integer, ForeignKey("tags.tag_key", ondelete="CASCADE"), nullable=False),
    Column("item_id", Integer, nullable=False),
    Column("source", SmallInteger, nullable=False),
    # No primary key (docs/decisions.md, "Junction without its primary key"): created_at is
    # a function of (source, item_id), so this index is unique exactly when
    # (source, item_id, tag_key) is; it is the ON CONFLICT arbiter, and a link is deleted
    # or probed through it with the item's created_at.
    Index(
        "ix_content_tags_newest",
        "tag_key",
        "source",
        text("created_at DESC"),
        text("item_id DESC"),
        unique=True,
    ),
    # Per-item access (write path, backfill and verify ranges). Non-unique on purpose:
    # an item's ~77 equal keys deduplicate into one index tuple.
    Index("ix_content_tags_item", "source", "item_id"),
)

tag_counts = Table(
    "tag_counts",
    metadata,
    Column("tag_key", Integer, ForeignKey("tags.tag_key", ondelete="CASCADE"), primary_key=True),
    Column("source", SmallInteger, primary_key=True),
    Column("items", BigInteger, nullable=False, server_default=text("0")),
    Column("private_items", BigInteger, nullable=False, server_default=text("0")),
)

tag_pair_counts = Table(
    "tag_pair_counts",
    metadata,
    # The planner's estimate of how many items of a source carry both tags, for pairs
    # among its most common tags, from a sample of items (`gallery-gql pair-stats`).
    # tag_a < tag_b; a row with tag_a = tag_b marks the tag as covered (its sampled
    # estimate): a pair of covered tags without a row was not seen together. Steers
    # which SQL shape reads a page, never which rows it returns.
    Column("source", SmallInteger, primary_key=True),
    Column("tag_a", Integer, primary_key=True),
    Column("tag_b", Integer, primary_key=True),
    Column("items", Integer, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column(
        "user_id", UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("key", String(200), primary_key=True),
    Column("operation", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "created_at"),
)

backfill_progress = Table(
    "backfill_progress",
    metadata,
    # One row per source: the highest item id whose links are known to be written.
    Column("source", SmallInteger, primary_key=True),
    Column("last_item_id", Integer, nullable=False, server_default=text("0")),
    Column("items_done", BigInteger, nullable=False, server_default=text("0")),
    Column("links_written", BigInteger, nullable=False, server_default=text("0")),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

ITEM_COLUMNS = (
    "id",
    "title",
    "content_type",
    "content_data",
    "path_thumb",
    "path_thumbs_alt_res",
    "prompt",
    "item_metadata",
    "creator_id",
    "quality_score",
    "is_private",
    "created_at",
    "updated_at",
    "tags",
)
"""The content tables' data columns in table order (excluding `version` and the derived
`search_vector`)."""

ITEM_READ_COLUMNS = (*ITEM_COLUMNS, "version")
"""The columns an item record is read with (`lookups.item_record`)."""

CONTENT_TABLES: dict[int, Table] = {0: content_items, 1: content_items_auto}
