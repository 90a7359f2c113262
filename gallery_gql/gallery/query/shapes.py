"""What a page's SQL looks like, as hashable values: the plan `plan.plan_walk` makes and
`sql` builds a statement from (once per shape), and the names of its bind parameters.

The vocabulary (docs/architecture.md, "The read planner"):
- a *walk* reads rows in the page's sort order from an index, past a keyset bound, and
  stops after a limit; a page merges one walk (a *branch*) per source;
- a tag's *postings* are its rows in the junction's `(tag, source, created_at, item)`
  index: walking them is walking the tag's items newest first;
- a *probe* looks one link up by its whole key in that unique index (one descent): ALL
  keeps a walked item when a probe finds each other tag, NOT drops it when one is found;
- the *driver* is the tag whose postings an ALL walk reads (the rarest, by exact counts);
- the *bitmap* is every item carrying the tags, found through the GIN index on the items'
  tag arrays and sorted: it reads whole posting lists, never walks in order;
- a *capped walk* reads at most a planned number of rows, and when they do not fill the
  page the bitmap answers instead, in the same statement;
- the *matching set* is the bitmap of every source at once, with the items' columns: the
  page and its edge probe are taken from it (`matching_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import Position, Sort, Whose


class FilterParam(StrEnum):
    """Bind parameters of the filter, shared by every walk of a statement."""

    VIEWER_ID = "viewer_id"
    CREATOR_ID = "creator_id"
    EXCLUDE_CREATOR_ID = "exclude_creator_id"
    SEARCH = "search"
    EXCLUDE_TAGS = "exclude_tags"
    TAG_KEYS = "tag_keys"
    TAG_COUNT = "tag_count"
    TAG_IDS = "tag_ids"
    EXCLUDE_IDS = "exclude_ids"


class WalkParam(StrEnum):
    """Bind parameters of one walk (`LIMIT`, `BOUND_*`) or one of its branches."""

    LIMIT = "limit"
    BOUND_VALUE = "value"
    BOUND_ID = "id"
    DRIVER = "driver"  # POSTINGS, CAPPED_POSTINGS: the walked tag
    OTHERS = "others"  # the other ALL tags, probed (CAPPED_POSTINGS: all but FIRST)
    FIRST = "first"  # CAPPED_POSTINGS: the other tag probed first, alone
    OTHERS_COUNT = "others_count"
    CAP = "cap"  # CAPPED_POSTINGS, RATED_WALK: rows walked before the bitmap answers
    KEYS = "keys"  # EACH_TAG_POSTINGS: the walked tags


def param(walk: str, name: WalkParam, branch: int | None = None) -> str:
    """The bind parameter name of a walk's (or one of its branches') value."""
    return f"{walk}_{name}" if branch is None else f"{walk}_{branch}_{name}"


@dataclass(frozen=True)
class Walk:
    """One traversal: the sort, its direction, where to start (exclusive), how many rows."""

    sort: Sort
    descending: bool
    bound: Position | None
    limit: int
    include_bound: bool = False


class BranchKind(Enum):
    ITEMS = "items"  # the item table's sort index (or one creator's items)
    POSTINGS = "postings"  # one tag's postings (the driver), probing the other ALL tags
    EACH_TAG_POSTINGS = "each-tag-postings"  # ANY: POSTINGS of each tag, one LATERAL walk
    CAPPED_POSTINGS = "capped-postings"  # ALL by date: a capped driver walk, else BITMAP
    RATED_WALK = "rated-walk"  # ALL by rating: a capped quality-index walk, else BITMAP
    BITMAP = "bitmap"  # the matching items (tag-array GIN), sorted


class TagTest(Enum):
    """How a branch over item rows tests the filter's tags."""

    NONE = "none"
    ANY = "any"  # the row's tag array overlaps them
    ALL_ARRAY = "all-array"  # the row's tag array contains them
    ALL_PROBES = "all-probes"  # each is found in the junction (one probe a tag)


@dataclass(frozen=True)
class BranchShape:
    source: Source
    kind: BranchKind
    tags: TagTest = TagTest.NONE
    probes_others: bool = False  # POSTINGS: keep items carrying the other ALL tags
    probes_first: bool = False  # CAPPED_POSTINGS: one tag (FIRST) probed alone first
    whose: Whose = Whose.ANYONE  # the source's collections: anyone's, the viewer's, others'


@dataclass(frozen=True)
class FilterShape:
    """Which optional conditions apply; their values are bind parameters."""

    viewer: bool
    creator: bool
    exclude_creator: bool
    search: bool
    exclude_tags: bool
    tag_ids: bool  # the tags' UUIDs are known: array tests bind them (planned by value)
    exclude_ids: bool = False  # the excluded tags' UUIDs are known (the matching set's test)


@dataclass(frozen=True)
class WalkShape:
    """A merged walk's SQL shape. `name` prefixes its own parameters, so two walks (a page
    and its probe) can share one statement."""

    name: str
    sort: Sort
    descending: bool
    bound_source: Source | None  # the bound's source decides each branch's comparison
    include_bound: bool
    filter: FilterShape
    branches: tuple[BranchShape, ...]
    matching_set: bool = False  # every branch BITMAP, read as one set (`matching_sql`)
    limit: int | None = None
    """The walk's row limit, written into its SQL (`conditions.limit_of`); None: bound."""

    @property
    def merges_repeats(self) -> bool:
        """Per-tag walks of one source can meet an item twice."""
        return any(branch.kind is BranchKind.EACH_TAG_POSTINGS for branch in self.branches)


@dataclass(frozen=True)
class WalkPlan:
    shape: WalkShape
    params: dict[str, Any]
    strategy: str
    """The plan's name for metrics and the bench: each source's branch, named by
    `plan.branch_label`, joined with `+` (one name when the sources agree)."""
