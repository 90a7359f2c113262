"""What an item's global id and source cost as `ContentItem` builds them (25 times a grid
page), the way before 2026-12-04 (a new `ItemKey`, base64's wrapper, the enum called by
value) against `item_global_id_of` and the enum's lookup, alternated in one process.

    .venv/bin/python scripts/item_values_cost.py --rounds 15
"""

from __future__ import annotations

import argparse
import base64
import statistics
import timeit

from gallery_gql.api.global_id import item_global_id_of
from gallery_gql.api.types.enums import ContentSource
from gallery_gql.gallery.keys import ItemKey, Source

SOURCE, ITEM_ID = Source.AUTO, 123456
CALLS = 20_000


def before() -> tuple[str, ContentSource]:
    key = ItemKey(SOURCE, ITEM_ID)
    text = f"ContentItem:{key.source.name}:{key.id}"
    return base64.b64encode(text.encode()).decode(), ContentSource(SOURCE.name)


def after() -> tuple[str, ContentSource]:
    return item_global_id_of(SOURCE, ITEM_ID), ContentSource.from_domain(SOURCE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    rounds = max(1, min(parser.parse_args().rounds, 1000))
    assert before() == after()
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(rounds):
        for name, run in (("before", before), ("after", after)):
            times[name].append(timeit.timeit(run, number=CALLS) / CALLS * 1e6)
    for name, values in times.items():
        print(
            f"{name}: median {statistics.median(values):.2f} µs an item, "
            f"min {min(values):.2f}, max {max(values):.2f}"
        )


if __name__ == "__main__":
    main()
