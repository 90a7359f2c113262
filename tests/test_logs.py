"""Log lines are JSON and carry the request id of their request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from asgi_correlation_id import correlation_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.processors import JSONRenderer

from gallery_gql.observability.logs import _json_dumps, configure_logging, direct_info


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


class _Refused:
    def info(self, event: str, **fields: Any) -> None:
        raise AssertionError("the line took structlog's way")


TIMESTAMP = re.compile(r'"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z"')
"""ISO 8601 as `datetime.isoformat` writes it: no fraction at a whole second."""


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(max_size=30),
    fields=st.dictionaries(
        st.sampled_from(["operation", "type", "ms", "errors", "count"]),
        st.one_of(st.text(max_size=20), st.floats(), st.integers(), st.lists(st.text(max_size=5))),
    ),
    request_id=st.one_of(st.none(), st.text(min_size=1, max_size=12)),
)
def test_a_direct_line_is_the_structlog_line(
    json_logs: io.StringIO, name: str, fields: dict[str, Any], request_id: str | None
) -> None:
    """`direct_info` writes, byte for byte, what structlog writes (timestamps aside)."""
    logger_name = f"gallery_gql.direct.{len(name)}"
    slow = structlog.get_logger(logger_name)
    direct = direct_info(logger_name, _Refused())
    token = correlation_id.set(request_id)
    root = logging.getLogger()
    around = root.handlers[:]  # pytest's capture as well: only ours may listen
    root.handlers[:] = [h for h in around if getattr(h, "stream", None) is json_logs]
    try:
        start = json_logs.tell()
        slow.info(name, **fields)
        middle = json_logs.tell()
        direct(name, **dict(fields))
        written = json_logs.getvalue()
    finally:
        correlation_id.reset(token)
        root.handlers[:] = around
    through_structlog, straight = written[start:middle], written[middle:]
    assert TIMESTAMP.search(straight), straight
    assert TIMESTAMP.sub("", straight) == TIMESTAMP.sub("", through_structlog)


def test_direct_lines_yield_to_other_listeners(json_logs: io.StringIO) -> None:
    """Another handler, a filter or a level above INFO: the line takes structlog's way,
    so each of them sees it as before."""
    logger = logging.getLogger("gallery_gql.direct.listened")
    slow = structlog.get_logger("gallery_gql.direct.listened")
    direct = direct_info("gallery_gql.direct.listened", slow)
    seen = io.StringIO()
    extra = logging.StreamHandler(seen)
    logger.addHandler(extra)
    try:
        direct("heard", n=1)
    finally:
        logger.removeHandler(extra)
    assert "heard" in seen.getvalue()
    assert '"heard"' in json_logs.getvalue()
    logger.setLevel(logging.WARNING)
    try:
        direct("not written")
    finally:
        logger.setLevel(logging.NOTSET)
    assert "not written" not in json_logs.getvalue()


@given(
    fields=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
            max_leaves=20,
        )
        | st.uuids()
        | st.datetimes(),
        max_size=6,
    )
)
def test_lines_render_as_structlogs_json_renderer(fields: dict[str, Any]) -> None:
    """The renderer's encoder, made once, writes what `json.dumps` (structlog's default)
    writes, objects JSON has no type for included."""
    configured = JSONRenderer(serializer=_json_dumps)
    assert configured(None, "info", dict(fields)) == JSONRenderer()(None, "info", dict(fields))
