"""The process server behind `gallery-gql serve`: gunicorn managing uvicorn workers.

Each worker has its own listening socket (`SO_REUSEPORT`), so the kernel spreads
connections across workers. With uvicorn's own multi-process mode the workers share one
socket and keep-alive clients could pile onto one worker: 8 clients on 2 workers gave
125-203 req/s from run to run, against ~198 every run here (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication
from uvicorn_worker import UvicornWorker

from gallery_gql.app import create_served_app


class GatewayWorker(UvicornWorker):  # type: ignore[misc]  # untyped
    # No uvicorn access log (observability/logs.py says why).
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": "auto", "access_log": False}


class GatewayServer(BaseApplication):  # type: ignore[misc]  # untyped
    def __init__(self, host: str, port: int, workers: int) -> None:
        self.options = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": f"{__name__}.GatewayWorker",
            "reuse_port": True,
            "accesslog": None,
            "loglevel": "warning",
            # Bounded shutdown: in-flight requests get 10 s (the request deadline).
            "graceful_timeout": 10,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Called in each worker after the fork: each builds (and freezes) its own app.
        return create_served_app()
