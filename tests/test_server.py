"""`gallery-gql serve` runs gunicorn with uvicorn workers, one listening socket each."""

from __future__ import annotations

import os

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
