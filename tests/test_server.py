"""`gallery-gql serve` runs gunicorn with uvicorn workers, one listening socket each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gunicorn.glogging import Logger

from gallery_gql.server import GatewayServer, GatewayWorker
from gallery_gql.settings import get_settings
from gallery_gql.web.connection_limits import BoundedHttpProtocol


def test_each_worker_listens_on_its_own_socket() -> None:
    server = GatewayServer("127.0.0.1", 8123, workers=3)
    assert server.cfg.bind == ["127.0.0.1:8123"]
    assert server.cfg.workers == 3
    # SO_REUSEPORT: the kernel spreads connections over the workers (a shared socket let
    # keep-alive clients pile onto one worker).
    assert server.cfg.reuse_port is True
    assert server.cfg.worker_class is GatewayWorker


def test_workers_run_uvicorn_with_the_connection_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GALLERY_GQL_MAX_CONNECTIONS", "77")
    monkeypatch.setenv("GALLERY_GQL_MAX_HEADER_BYTES", "4096")
    get_settings.cache_clear()
    try:
        server = GatewayServer("127.0.0.1", 8123, workers=1)
        worker = GatewayWorker(0, os.getpid(), [], server, 30, server.cfg, Logger(server.cfg))
    finally:
        get_settings.cache_clear()
    config = worker.config
    assert config.access_log is False
    assert config.limit_concurrency == 77
    assert config.ws_max_size == get_settings().max_body_bytes  # a WebSocket message too
    assert config.proxy_headers is False  # X-Forwarded-For only from configured proxies
    assert issubclass(config.http, BoundedHttpProtocol)
    assert config.http.max_header_bytes == 4096


def _serve_workers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> list[int]:
    """The worker count `serve` hands gunicorn (the server itself not started)."""
    from typer.testing import CliRunner

    from gallery_gql import cli

    started: list[int] = []

    class NoServer:
        def __init__(self, host: str, port: int, workers: int) -> None:
            started.append(workers)

        def run(self) -> None:
            pass

    # serve sets these for its workers: set through monkeypatch, they are undone after
    # (left set, production would turn introspection off for every later test).
    monkeypatch.setenv("GALLERY_GQL_ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_REPLICA_URLS", "")
    monkeypatch.setenv("GALLERY_GQL_HOME", str(tmp_path))
    monkeypatch.setenv("GALLERY_GQL_SECRET", "s" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setattr("gallery_gql.server.GatewayServer", NoServer)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve", *args])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return started


def test_serve_starts_a_worker_per_cpu_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GALLERY_GQL_WORKERS", raising=False)
    assert _serve_workers(monkeypatch, tmp_path) == [len(os.sched_getaffinity(0))]


def test_the_setting_and_the_option_choose_the_worker_count(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GALLERY_GQL_WORKERS", "3")
    assert _serve_workers(monkeypatch, tmp_path) == [3]
    assert _serve_workers(monkeypatch, tmp_path, "--workers", "5") == [5]
