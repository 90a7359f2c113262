"""`gallery-gql serve` runs gunicorn with uvicorn workers, one listening socket each."""

from __future__ import annotations

from gallery_gql.server import GatewayServer, GatewayWorker


def test_each_worker_listens_on_its_own_socket() -> None:
    server = GatewayServer("127.0.0.1", 8123, workers=3)
    assert server.cfg.bind == ["127.0.0.1:8123"]
    assert server.cfg.workers == 3
    # SO_REUSEPORT: the kernel spreads connections over the workers (a shared socket let
    # keep-alive clients pile onto one worker).
    assert server.cfg.reuse_port is True
    assert server.cfg.worker_class is GatewayWorker
    assert GatewayWorker.CONFIG_KWARGS["access_log"] is False
