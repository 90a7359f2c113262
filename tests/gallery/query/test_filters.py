"""The filter digest cursors are bound to: one per filter and sort, whatever the spelling
(tag order, repeats, the viewer, equivalent forms), and different for every other filter."""

from __future__ import annotations

from uuid import UUID

from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.query.filters import ContentFilter, Sort, TagMatch

USER_A = UUID(int=1)
USER_B = UUID(int=2)


def test_digest_ignores_tag_order_duplicates_and_viewer() -> None:
    same = [
        ContentFilter(tag_keys=(1, 2, 3), exclude_tag_keys=(9, 8)),
        ContentFilter(tag_keys=(3, 1, 2), exclude_tag_keys=(8, 9)),
        ContentFilter(tag_keys=(2, 3, 1, 3), exclude_tag_keys=(9, 8, 9)),
        ContentFilter(tag_keys=(1, 2, 3), exclude_tag_keys=(8, 9), viewer_id=USER_A),
    ]
    for sort in Sort:
        assert len({flt.digest(sort) for flt in same}) == 1


def test_digest_ignores_equivalent_spellings() -> None:
    pairs = [
        (ContentFilter(tag_keys=(5,), match=TagMatch.ALL), ContentFilter(tag_keys=(5,))),
        (ContentFilter(match=TagMatch.ALL), ContentFilter()),
        (ContentFilter(sources=(Source.AUTO, Source.REGULAR)), ContentFilter()),
        (ContentFilter(search="  Neon, CAT!"), ContentFilter(search="neon cat")),
        (ContentFilter(search="!!!"), ContentFilter()),
    ]
    for left, right in pairs:
        assert left.digest(Sort.NEWEST) == right.digest(Sort.NEWEST)


def test_different_filters_and_sorts_give_different_digests() -> None:
    filters = [
        ContentFilter(),
        ContentFilter(tag_keys=(1,)),
        ContentFilter(tag_keys=(2,)),
        ContentFilter(tag_keys=(1, 2)),
        ContentFilter(tag_keys=(1, 2), match=TagMatch.ALL),
        ContentFilter(tag_keys=(12,)),
        ContentFilter(tag_keys=(1,), exclude_tag_keys=(2,)),
        ContentFilter(exclude_tag_keys=(1,)),
        ContentFilter(exclude_tag_keys=(1, 2)),
        ContentFilter(sources=(Source.REGULAR,)),
        ContentFilter(sources=(Source.AUTO,)),
        ContentFilter(sources=()),
        ContentFilter(creator_id=USER_A),
        ContentFilter(creator_id=USER_B),
        ContentFilter(exclude_creator_id=USER_A),
        ContentFilter(creator_id=USER_A, exclude_creator_id=USER_B),
        ContentFilter(search="cat"),
        ContentFilter(search="cat dog"),
        ContentFilter(search="dog cat"),
    ]
    digests = [flt.digest(sort) for flt in filters for sort in Sort]
    assert len(set(digests)) == len(filters) * len(Sort)
    assert all(len(d) == 16 and set(d) <= set("0123456789abcdef") for d in digests)
