"""Finding: the generated signing secret was created non-atomically (an empty file after a
failed write, then accepted: a token signed with the empty key was taken as admin), and
processes starting together ended with different secrets."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any
from uuid import uuid4

import jwt
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from gallery_gql import cli
from gallery_gql.auth import TokenError, verify_token
from gallery_gql.secret_file import SecretError, read_or_create_secret
from gallery_gql.settings import Settings, get_settings

ROUNDS = 20
PROCESSES = 4


def race(homes: list[str], barrier: Any, out: Any) -> None:
    """In a fresh process: for each home, wait for the others, then read the secret."""
    for home in homes:
        barrier.wait(timeout=30)
        out.put((home, Settings(home=Path(home)).signing_secret()))


def test_processes_starting_together_share_one_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")  # no fork of a threaded test process
    homes = [str(tmp_path / f"home{n}") for n in range(ROUNDS)]
    barrier = context.Barrier(PROCESSES)
    out = context.Queue()
    workers = [context.Process(target=race, args=(homes, barrier, out)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    try:
        seen: dict[str, set[str]] = {}
        for _ in range(ROUNDS * PROCESSES):
            home, value = out.get(timeout=60)
            seen.setdefault(home, set()).add(value)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    split = [home for home, values in seen.items() if len(values) != 1]
    assert not split, f"{len(split)} of {ROUNDS} homes ended with different secrets"
    for home, values in seen.items():
        path = Path(home) / "secret"
        assert path.read_text() == values.pop()
        assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no staged leftovers
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_failed_write_leaves_no_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", full_disk)
        with pytest.raises(OSError, match="No space"):
            read_or_create_secret(path)
    assert list(tmp_path.iterdir()) == []
    assert len(read_or_create_secret(path)) >= 32


@pytest.mark.parametrize("stored", ["", "\n", "short-secret"])
def test_a_short_stored_secret_is_refused(tmp_path: Path, stored: str) -> None:
    (tmp_path / "secret").write_text(stored)
    settings = Settings(home=tmp_path)
    with pytest.raises(SecretError, match="at least 32"):
        settings.signing_secret()


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the attack's key
def test_a_token_signed_with_the_empty_key_is_not_accepted(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("")
    settings = Settings(home=tmp_path)
    forged = jwt.encode(
        {"sub": str(uuid4()), "exp": 2**33, "aud": "gallery-gql", "iss": "gallery-gql"},
        "jwt:",
        algorithm="HS256",
    )
    with pytest.raises((SecretError, TokenError)):
        verify_token(forged, settings)


@pytest.mark.parametrize("value", ["", "x" * 31, "é" * 15])
def test_a_short_configured_secret_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(secret=value)


def test_serve_creates_the_secret_before_the_workers_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The master process writes the secret; the workers (forked later) only read it."""
    seen: list[bool] = []

    class NoServer:
        def __init__(self, host: str, port: int, workers: int) -> None:
            pass

        def run(self) -> None:
            seen.append((tmp_path / "secret").exists())

    # serve sets these for its workers: set through monkeypatch, they are undone after.
    monkeypatch.setenv("GALLERY_GQL_ENVIRONMENT", "production")
    monkeypatch.setenv("GALLERY_GQL_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.delenv("GALLERY_GQL_SECRET", raising=False)
    monkeypatch.setattr("gallery_gql.server.GatewayServer", NoServer)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert seen == [True]


def test_serve_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GALLERY_GQL_ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("GALLERY_GQL_SECRET", "too-short")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "at least 32" in " ".join(result.output.split())
