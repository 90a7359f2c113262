"""Log lines are JSON and carry the request id of their request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from asgi_correlation_id import correlation_id

from gallery_gql.observability.logs import configure_logging


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """JSON logging for one test, into a buffer."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging(stream=buffer)
    yield buffer
    root.handlers[:] = saved
    root.setLevel(level)
    structlog.reset_defaults()


def test_stdlib_and_structlog_lines_are_json_with_request_id(
    json_logs: io.StringIO,
) -> None:
    token = correlation_id.set("req-123")
    try:
        logging.getLogger("gallery_gql.test").warning("from stdlib %s", "args")
        structlog.get_logger("gallery_gql.test").info("from structlog", items=3)
    finally:
        correlation_id.reset(token)
    lines = [json.loads(line) for line in json_logs.getvalue().strip().splitlines()]
    assert [line["event"] for line in lines] == ["from stdlib args", "from structlog"]
    assert all(line["request_id"] == "req-123" for line in lines)
    assert lines[1]["items"] == 3
    assert lines[0]["level"] == "warning"


def test_uvicorn_writes_no_access_log(json_logs: io.StringIO) -> None:
    """uvicorn logs each request whenever its access logger has a handler up the tree:
    ours (the root's) must not be one of them."""
    access = logging.getLogger("uvicorn.access")
    assert access.propagate is False
    access.info("GET / 200")
    assert "GET / 200" not in json_logs.getvalue()
