"""Item events as NOTIFY payloads: every payload within PostgreSQL's limit, a batch split
over as many as it needs, and read back as written (anything else refused)."""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gallery_gql.db.notifications import MAX_PAYLOAD_BYTES
from gallery_gql.gallery.item_events import EventKind, ItemEvent, event_payloads, parse_payload
from gallery_gql.gallery.keys import ItemKey, Source

events = st.builds(
    ItemEvent,
    st.sampled_from(EventKind),
    st.builds(ItemKey, st.sampled_from(Source), st.integers(1, 2**31 - 1)),
    st.uuids(),
    st.booleans(),
)


@given(st.lists(events, max_size=600))
def test_payloads_fit_and_read_back_in_order(written: list[ItemEvent]) -> None:
    payloads = event_payloads(written)
    assert all(len(payload.encode()) <= MAX_PAYLOAD_BYTES for payload in payloads)
    assert [event for payload in payloads for event in parse_payload(payload)] == written


def test_a_batch_of_500_takes_a_few_notifications() -> None:
    batch = [
        ItemEvent(EventKind.RETAGGED, ItemKey(Source.AUTO, 2_000_000_000 + n), UUID(int=n), False)
        for n in range(500)
    ]
    assert 3 <= len(event_payloads(batch)) <= 5


@pytest.mark.parametrize(
    "payload", ["X 0 1 00000000-0000-0000-0000-000000000001 0", "C 0 1 not-a-uuid 0", "C 0 1"]
)
def test_an_unreadable_payload_is_refused(payload: str) -> None:
    with pytest.raises(ValueError):
        parse_payload(payload)
