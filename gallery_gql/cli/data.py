"""The data commands: migrate, seed, media, backfill, verify, purge-idempotency-keys,
pair-stats."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from gallery_gql.cli.common import EXIT_FAILURE, console, database_url, fail, stdout
from gallery_gql.ops.progress import stage_progress
from gallery_gql.settings import get_settings


def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema to a revision (alembic upgrade)."""
    from gallery_gql.db.migrate import upgrade

    url = database_url(get_settings())
    upgrade(url, revision)
    console.print(f"migrated to {revision}")


def run_seed(
    url: str, profile: str, items: int, users: int | None, seed: int, media: bool | None
) -> None:
    """Seed the database (`seed`, and `demo` when it is empty); write thumbnail files too
    when `media` says so, or by default up to AUTO_MEDIA_ITEMS items."""
    from gallery_gql.ops.media.files import AUTO_MEDIA_ITEMS
    from gallery_gql.ops.seed.plan import SeedError, SeedPlan
    from gallery_gql.ops.seed.run import seed_database

    plan = SeedPlan(profile=profile, items=items, users=users, seed=seed)  # type: ignore[arg-type]
    with stage_progress(console) as report:
        try:
            result = asyncio.run(seed_database(url, plan, report))
        except SeedError as exc:
            raise fail(str(exc)) from exc
    console.print(
        f"seeded {result.users:,} users, {result.tags:,} tags, "
        f"{result.regular_items:,} regular + {result.auto_items:,} auto items, "
        f"{result.links:,} links in {result.seconds:.1f}s"
    )
    if media is None:
        media = items <= AUTO_MEDIA_ITEMS
        if not media:
            console.print(
                f"no thumbnail files: more than {AUTO_MEDIA_ITEMS:,} items "
                "(`seed --media` or `gallery-gql media` writes them)"
            )
    if media:
        _write_media(url)


def seed_media_root() -> Path:
    """Where `seed` and `media` write thumbnail files (`demo` serves them from there)."""
    return get_settings().home.expanduser().resolve() / "media"


def _write_media(url: str) -> None:
    from gallery_gql.ops.media.files import write_item_media

    root = seed_media_root()
    with stage_progress(console) as report:
        result = asyncio.run(write_item_media(url, root, report))
    console.print(f"{result.summary(root)}\nserve them with GALLERY_GQL_MEDIA_ROOT={root}")


def seed(
    profile: Annotated[
        str, typer.Option(help="genonaut (real distribution) or zipf (long tail).")
    ] = "genonaut",
    items: Annotated[int, typer.Option(min=1, help="Items across both sources.")] = 10_000,
    users: Annotated[int | None, typer.Option(min=1, help="Users (default: from items).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    media: Annotated[
        bool | None,
        typer.Option(
            "--media/--no-media",
            help="Write thumbnail files under $GALLERY_GQL_HOME/media "
            "(default: up to 100,000 items).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fill an empty database with deterministic synthetic gallery data (and, up to
    100,000 items, generated thumbnail files for it)."""
    if profile not in ("genonaut", "zipf"):
        raise fail("--profile must be genonaut or zipf")
    run_seed(database_url(get_settings()), profile, items, users, seed, media)


def media_command() -> None:
    """Write generated thumbnail files for every item in the database under
    $GALLERY_GQL_HOME/media (what `seed` does; for a database seeded without them)."""
    _write_media(database_url(get_settings()))


BACKFILL_SOURCES = ("regular", "auto", "both")


def _run_verify(url: str, fix: bool, batch_size: int, show: int) -> bool:
    from gallery_gql.ops.verify import render, verify

    with stage_progress(console) as report:
        result = asyncio.run(
            verify(url, fix=fix, batch_size=batch_size, show=show, progress=report)
        )
    render(result, stdout)
    return result.clean


def backfill_command(
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Items per batch (one transaction each).")
    ] = 250,
    throttle_ms: Annotated[int, typer.Option(min=0, help="Pause between batches (ms).")] = 0,
    source: Annotated[str, typer.Option(help="regular, auto or both.")] = "both",
    reset: Annotated[bool, typer.Option(help="Start again from the first item.")] = False,
    verify_after: Annotated[
        bool, typer.Option("--verify", help="Run `verify` when done (exit 1 on mismatches).")
    ] = False,
) -> None:
    """Write the junction rows (and tag counts) the items' tag arrays call for, online and
    resumably: each batch of items is one transaction with its checkpoint."""
    from gallery_gql.gallery.keys import Source
    from gallery_gql.ops.backfill import backfill, render

    if source not in BACKFILL_SOURCES:
        raise fail("--source must be regular, auto or both")
    sources = list(Source) if source == "both" else [Source[source.upper()]]
    url = database_url(get_settings())
    with stage_progress(console) as report:
        result = asyncio.run(
            backfill(
                url,
                batch_size=batch_size,
                throttle_ms=throttle_ms,
                sources=sources,
                reset=reset,
                progress=report,
            )
        )
    render(result, stdout)
    if verify_after and not _run_verify(url, fix=False, batch_size=5000, show=20):
        raise typer.Exit(EXIT_FAILURE)


def verify_command(
    fix: Annotated[
        bool, typer.Option(help="Repair from the arrays (the source of truth) and recount.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=1_000_000, help="Items per batch.")] = 5000,
    show: Annotated[int, typer.Option(min=0, help="Problems to list.")] = 20,
) -> None:
    """Report every disagreement between tag arrays, junction rows and tag counts.

    Exit code 0 when consistent (after --fix: when everything was repaired), 1 otherwise."""
    if not _run_verify(database_url(get_settings()), fix, batch_size, show):
        raise typer.Exit(EXIT_FAILURE)


def purge_idempotency_keys() -> None:
    """Delete idempotency keys older than 24 hours (run it daily)."""
    from gallery_gql.ops.maintenance import purge_idempotency

    removed = asyncio.run(purge_idempotency(database_url(get_settings())))
    console.print(f"removed {removed:,} expired idempotency keys")


def pair_stats_command() -> None:
    """Refresh the planner's estimates of how often common tags meet (tag_pair_counts),
    from a sample of each source's items: after a bulk load, and now and then as tags
    drift (the estimates steer which SQL shape reads a page, never its rows)."""
    from gallery_gql.ops.pair_stats import refresh_pair_counts_at

    for done in asyncio.run(refresh_pair_counts_at(database_url(get_settings()))):
        console.print(
            f"{done.source.name.lower()}: {done.sampled:,} items sampled, "
            f"{done.covered:,} tags covered, {done.pairs:,} pairs seen together"
        )
