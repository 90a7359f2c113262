"""The command line: every command listed, URLs, tokens and the schema export."""

from __future__ import annotations

import asyncio
import sys

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from gallery_gql.api.sdl import schema_sdl
from gallery_gql.auth import verify_token
from gallery_gql.cli import app
from gallery_gql.settings import Settings, get_settings
from tests.factories import Dataset, add_users

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    get_settings.cache_clear()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "db",
        "migrate",
        "seed",
        "serve",
        "token",
        "export-schema",
        "demo",
        "backfill",
        "verify",
        "bench",
        "loadtest",
        "purge-idempotency-keys",
        "media",
    ):
        assert command in result.output
    db_help = runner.invoke(app, ["db", "--help"]).output
    for command in ("start", "stop", "status", "url"):
        assert command in db_help


def test_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example:5433/gallery")
    result = runner.invoke(app, ["db", "url"])
    assert result.exit_code == 0
    assert result.output.strip() == "postgresql+asyncpg://someone@db.example:5433/gallery"


def test_export_schema_prints_the_sdl() -> None:
    result = runner.invoke(app, ["export-schema"])
    assert result.exit_code == 0
    assert result.output == schema_sdl()


async def test_token_names_the_user(
    engine: AsyncEngine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = Dataset()
    await add_users(engine, 2, dataset)
    assert settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GALLERY_GQL_SECRET", settings.signing_secret())
    by_name = await asyncio.to_thread(runner.invoke, app, ["token", "user1"])
    assert by_name.exit_code == 0, by_name.output
    assert verify_token(by_name.output.strip(), settings) == dataset.users[1]
    by_id = await asyncio.to_thread(runner.invoke, app, ["token", str(dataset.users[0])])
    assert verify_token(by_id.output.strip(), settings) == dataset.users[0]
    missing = await asyncio.to_thread(runner.invoke, app, ["token", "nobody"])
    assert missing.exit_code == 1
    assert "no user" in missing.output


async def test_purge_idempotency_keys(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    result = await asyncio.to_thread(runner.invoke, app, ["purge-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert "removed 0 expired" in result.output


def test_loadtest_refuses_an_external_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@127.0.0.1:1/none")
    result = runner.invoke(app, ["loadtest", "--seconds", "1"])
    assert result.exit_code == 1
    assert "embedded cluster" in result.output


def test_unreachable_database_is_exit_4(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "gallery_gql", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 4
    assert "cannot use the database" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["bench", "--no-http"], ["loadtest", "--seconds", "1"]])
def test_load_tools_name_the_extra_they_need(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # as if not installed
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    assert "pip install 'gallery-gql[bench]'" in result.output
