"""The laws of the planner's bitmap cost for ALL (`plan_costs.all_list_us`, `plan_costs.bitmap_us`):
what a list costs grows with its length and with the rarest tag's items, never passes
reading the list whole, and never falls below a flat skip a rarest item."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query import plan_costs
from gallery_gql.gallery.query.filters import ContentFilter, TagMatch
from gallery_gql.gallery.query.tag_stats import TagStats

AUTO = Source.AUTO
lengths = st.integers(0, 2_000_000)


@given(lengths, lengths, lengths, lengths)
def test_a_list_costs_more_the_longer_it_is_and_the_more_rare_items_skip_into_it(
    count: int, more: int, rare: int, rarer: int
) -> None:
    longer, smaller = count + more, min(rare, rarer)
    assert plan_costs.all_list_us(count, rare) <= plan_costs.all_list_us(longer, rare)
    assert plan_costs.all_list_us(count, smaller) <= plan_costs.all_list_us(count, rare)


@given(lengths, lengths)
def test_a_list_costs_between_a_flat_skip_a_rare_item_and_reading_it_whole(
    count: int, rare: int
) -> None:
    whole = count * plan_costs.GIN_US_PER_ENTRY
    cost = plan_costs.all_list_us(count, rare)
    assert cost <= whole
    assert cost >= min(whole, rare * plan_costs.GIN_SKIP_US)


@given(lengths, lengths)
def test_skips_cost_a_leaf_each_until_every_leaf_is_read(count: int, rare: int) -> None:
    leaves = min(rare, count / plan_costs.GIN_LEAF_ENTRIES)
    assert plan_costs.all_list_us(count, rare) >= min(
        count * plan_costs.GIN_US_PER_ENTRY, leaves * plan_costs.GIN_LEAF_US
    )


@given(st.lists(lengths, min_size=2, max_size=6), st.data())
def test_alls_bitmap_costs_more_when_any_tag_is_on_more_items(
    counts: list[int], data: st.DataObject
) -> None:
    keys = tuple(range(1, len(counts) + 1))
    flt = ContentFilter(tag_keys=keys, match=TagMatch.ALL, sources=(AUTO,))
    grown = list(counts)
    at = data.draw(st.integers(0, len(counts) - 1))
    grown[at] += data.draw(lengths)

    def stats(of: list[int]) -> TagStats:
        return TagStats({k: {AUTO: n} for k, n in zip(keys, of, strict=True)}, {AUTO: 2_000_000})

    assert plan_costs.bitmap_us(flt, AUTO, stats(counts)) <= plan_costs.bitmap_us(
        flt, AUTO, stats(grown)
    )
