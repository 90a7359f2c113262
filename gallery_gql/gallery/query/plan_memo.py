"""The planner's memo: a request planned before is answered from what was decided then.

`plan.plan_walk` decides from the filter, the walk and the tag statistics, and that
decision is the same whenever what it reads is the same; a page request plans once or
twice (its edge probe), 13-29 us a walk afresh on the long tail's classes (3-8 us from
the memo, docs/benchmarks.md). `PlanMemo` keeps up to `size` recent plans keyed by
everything the planner reads (`plan_key`) except the values it only copies into the
statement's parameters (`_PER_REQUEST`: the viewer, the tags' UUIDs, the bound's value and
id), which each call fills in afresh. The key is built from the values themselves, never
from the request's objects: TagStats is made per request (`TagDirectory.resolve`) and
the counts it holds change.

What the planner reads, per source of the filter: each filter tag's count (never an
excluded tag's: the bitmap walks only kept tags), the source's size, whether every tag's
(and every excluded tag's) UUID is known, and the pair estimates. Those are keyed by
the PairCounts object's identity: it is replaced, never changed, when the estimates are
read again (`pair_counts.load_pair_counts`), and each entry keeps the object it was
planned with, so its id cannot pass to another while the entry lives.

Anything the planner comes to read must join the key: `tests/gallery/query/
test_plan_memo.py` plans random requests with and without the memo and compares them.
The planner's rules themselves (its module's constants and functions) are not in the
key: code that replaces them (the model tests forcing a shape) clears the memo.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter
from gallery_gql.gallery.query.pair_counts import PairCounts
from gallery_gql.gallery.query.shapes import FilterParam, Walk, WalkParam, WalkPlan, param
from gallery_gql.gallery.query.tag_stats import TagStats

Planner = Callable[[ContentFilter, Walk, TagStats, str], WalkPlan]

PLAN_MEMO_SIZE = 4_096
"""Plans kept at most: distinct filters, counts and walks in use at once (a few hundred
bytes each)."""

_NO_COUNTS: Mapping[Source, int] = {}

_PER_REQUEST = (FilterParam.VIEWER_ID, FilterParam.TAG_IDS, FilterParam.EXCLUDE_IDS)
"""Parameters the planner copies from the request without deciding by their values (the
key holds only whether each is there). The bound's value and id are the fourth and
fifth, named per walk."""


def plan_key(flt: ContentFilter, walk: Walk, stats: TagStats, name: str) -> tuple[Hashable, ...]:
    """Everything `plan.plan_walk` reads but the values of `_PER_REQUEST` and the bound."""
    sources = flt.sources
    tags = stats.tags
    sizes = stats.source_items
    ids = stats.ids
    bound = walk.bound
    return (
        flt,  # its fields but `viewer_id`, which it does not compare
        flt.viewer_id is not None,
        name,
        walk.sort,
        walk.descending,
        walk.limit,
        walk.include_bound,
        None if bound is None else bound.source,
        tuple(
            [tags.get(key, _NO_COUNTS).get(source, 0) for key in flt.tag_keys for source in sources]
        ),
        tuple([sizes.get(source) for source in sources]),
        all(map(ids.__contains__, flt.tag_keys)),
        all(map(ids.__contains__, flt.exclude_tag_keys)),
        id(stats.pairs),
    )


@dataclass(frozen=True, slots=True)
class _Planned:
    """A plan without its per-request values, and which of them it takes."""

    plan: WalkPlan  # params: the decided ones only
    lists: tuple[str, ...]  # decided parameters holding a list: copied per call
    viewer: bool
    tag_ids: bool
    exclude_ids: bool
    bound: tuple[str, str] | None  # the bound's value and id parameters
    pairs: PairCounts  # keeps `id(pairs)` of the key from naming another object


class PlanMemo:
    """`planner`, answering from the plans it made or used last (see the module's
    docstring), at most `size` of them (2 or more).

    The plans are kept in two generations of `size / 2`: a plan is made or found into
    the young one; when it is full it becomes the old one, and the old one is dropped.
    A plan used within the last `size / 2` plans made or found is kept, as by a least
    recently used rule, at one lookup a hit (an OrderedDict's move to the end hashes the
    key a second time: +0.6 us a hit, `scripts/plan_cost.py`)."""

    def __init__(self, planner: Planner, size: int = PLAN_MEMO_SIZE) -> None:
        if size < 2:
            raise ValueError(f"a plan memo keeps 2 plans or more, not {size}")
        self.planner = planner
        self._generation = size // 2
        self._young: dict[tuple[Hashable, ...], _Planned] = {}
        self._old: dict[tuple[Hashable, ...], _Planned] = {}

    def __call__(self, flt: ContentFilter, walk: Walk, stats: TagStats, name: str) -> WalkPlan:
        key = plan_key(flt, walk, stats, name)
        planned = self._young.get(key)
        if planned is None:
            planned = self._old.get(key) or self._plan(flt, walk, stats, name)
            self._keep(key, planned)
        made = planned.plan
        params = made.params.copy()
        for listed in planned.lists:
            params[listed] = params[listed].copy()
        if planned.viewer:
            params[FilterParam.VIEWER_ID] = flt.viewer_id
        if planned.tag_ids:
            params[FilterParam.TAG_IDS] = [stats.ids[key] for key in flt.tag_keys]
        if planned.exclude_ids:
            params[FilterParam.EXCLUDE_IDS] = [stats.ids[key] for key in flt.exclude_tag_keys]
        if planned.bound is not None and walk.bound is not None:
            value, item_id = planned.bound
            params[value] = walk.bound.value
            params[item_id] = walk.bound.id
        return WalkPlan(made.shape, params, made.strategy)

    def _plan(self, flt: ContentFilter, walk: Walk, stats: TagStats, name: str) -> _Planned:
        made = self.planner(flt, walk, stats, name)
        bound = (param(name, WalkParam.BOUND_VALUE), param(name, WalkParam.BOUND_ID))
        dropped = {*_PER_REQUEST, *bound}
        decided = {k: v for k, v in made.params.items() if k not in dropped}
        return _Planned(
            WalkPlan(made.shape, decided, made.strategy),
            tuple(k for k, v in decided.items() if isinstance(v, list)),
            FilterParam.VIEWER_ID in made.params,
            FilterParam.TAG_IDS in made.params,
            FilterParam.EXCLUDE_IDS in made.params,
            bound if bound[0] in made.params else None,
            stats.pairs,
        )

    def _keep(self, key: tuple[Hashable, ...], planned: _Planned) -> None:
        self._young[key] = planned
        if len(self._young) >= self._generation:
            self._old, self._young = self._young, {}

    def clear(self) -> None:
        """Forget every plan (after the planner's rules were replaced)."""
        self._young, self._old = {}, {}

    def __len__(self) -> int:
        return len(self._young.keys() | self._old.keys())
