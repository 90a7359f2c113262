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
from gallery_gql.settings import Settings, get_settings
from gallery_gql.web.connection_limits import BoundedHttpProtocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How each worker's uvicorn treats connections (docs/reliability.md, threat model)."""
    return {
        "loop": "auto",
        "http": BoundedHttpProtocol.bounded(
            settings.max_header_bytes, settings.header_timeout_seconds
        ),
        # No uvicorn access log (observability/logs.py says why).
        "access_log": False,
        "limit_concurrency": settings.max_connections,
        # A WebSocket message (a subscription's document) is bounded as a request body is.
        "ws_max_size": settings.max_body_bytes,
        # X-Forwarded-For is read by the app, from the configured proxies only
        # (app.py); uvicorn's own handling trusts any peer on loopback.
        "proxy_headers": False,
        "server_header": False,
    }


class GatewayWorker(UvicornWorker):  # type: ignore[misc]  # untyped
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Built in the gunicorn master (before the fork) from the environment serve set up.
        self.CONFIG_KWARGS = uvicorn_options(get_settings())
        super().__init__(*args, **kwargs)


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
