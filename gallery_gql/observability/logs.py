"""Structured JSON logs (structlog over the standard library), each line carrying the
request id of the request it belongs to.

`direct_info` writes a structlog line without the standard library's record machinery (two
`LogRecord`s, a caller lookup, the handler chain: ~30 us a line, the largest part of a
compiled request's metrics and log line), running the very processors and renderer
`configure_logging` installed and writing to its handler: the same bytes. It does so only
while that configuration is in force and nothing else listens (another handler, a filter,
a level); otherwise it logs through structlog."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TextIO

import structlog
from asgi_correlation_id import correlation_id


def _request_id(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = correlation_id.get()
    if request_id:
        event.setdefault("request_id", request_id)
    return event


@cache
def _json_encoder(default: Callable[[Any], Any] | None) -> json.JSONEncoder:
    return json.JSONEncoder(default=default)


def _json_dumps(obj: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """`json.dumps(obj, default=default)`, its encoder made once: given a `default`,
    `json.dumps` builds a new encoder for every line (half of the renderer's time)."""
    return _json_encoder(default).encode(obj)


def configure_logging(level: str = "INFO", json: bool = True, stream: TextIO | None = None) -> None:
    """Route standard-library and structlog records through one JSON renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _request_id,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json_dumps)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    chain = [*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # No access log: the one JSON line per GraphQL operation, with its request id, is it.
    # uvicorn logs a line per request whenever this logger has a handler anywhere up the
    # tree (its own `access_log` flag is not consulted): ~4% of throughput.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
    structlog.configure(
        processors=chain,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    global _CONFIGURED
    _CONFIGURED = _Configured(handler, chain, tuple(shared), tuple(formatter.processors))


@dataclass(frozen=True)
class _Configured:
    """What `configure_logging` installed: its handler and both processor chains."""

    handler: logging.StreamHandler[TextIO]
    chain: list[Any]
    """structlog's processors, as configured (identity tells whether they still are)."""
    shared: Sequence[Any]
    final: Sequence[Any]
    """The formatter's processors: the renderer last."""

    def serves(self, logger: logging.Logger) -> bool:
        """A line of `logger` at INFO would reach this handler alone, unfiltered."""
        if not logger.isEnabledFor(logging.INFO) or structlog.get_config()["processors"] is not (
            self.chain
        ):
            return False
        handler = self.handler
        if handler.filters or handler.level > logging.INFO:
            return False
        current: logging.Logger | None = logger
        while current is not None:
            if current.filters or current.disabled:
                return False
            if current.handlers and (current.parent is not None or current.handlers != [handler]):
                return False
            if not current.propagate:
                return current.parent is None
            current = current.parent
        return True


_CONFIGURED: _Configured | None = None


def direct_info(name: str, fallback: Any) -> Callable[..., None]:
    """`fallback.info(event, **fields)` (a structlog logger of `name`), writing its line
    straight to the configured handler when `configure_logging`'s setup is the one in
    force (see the module's docstring)."""
    logger = logging.getLogger(name)

    def info(event: str, **fields: Any) -> None:
        configured = _CONFIGURED
        if configured is None or not configured.serves(logger):
            fallback.info(event, **fields)
            return
        fields["event"] = event  # structlog's order: the fields, then the event
        for processor in configured.shared:
            fields = processor(logger, "info", fields)
        fields["_record"] = None  # what ProcessorFormatter adds, and its first processor drops
        fields["_from_structlog"] = True
        line: Any = fields
        for processor in configured.final:
            line = processor(logger, "info", line)
        handler = configured.handler
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
        except Exception:  # as logging's handlers do: a failed write never fails a request
            handler.handleError(logging.makeLogRecord({"msg": line}))
        finally:
            handler.release()

    return info
