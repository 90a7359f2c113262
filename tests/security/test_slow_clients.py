"""Finding: body reading ran outside the request deadline and the server set no header
size, read timeout or concurrency limit: trickled bodies and headers held connections
for 36 s+, and a 4 MB `Authorization` header was accepted. Served by uvicorn with the
options each worker of `gallery-gql serve` gets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gallery_gql.settings import Settings
from tests.security.served import exchange, served

TIMEOUT = 1.0
MAX_CONNECTIONS = 4
QUERY = b'{"query": "{ __typename }"}'


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[tuple[str, int]]:
    bounded = settings.model_copy(
        update={
            "header_timeout_seconds": TIMEOUT,
            "body_timeout_seconds": TIMEOUT,
            "max_connections": MAX_CONNECTIONS,
        }
    )
    async with served(bounded) as address:
        yield address


def _post(body: bytes, length: int | None = None, extra: bytes = b"") -> bytes:
    return (
        b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\n" + extra + b"Content-Length: %d\r\n\r\n" % (length or len(body))
    ) + body


async def test_a_normal_request_is_served(server: tuple[str, int]) -> None:
    answer, _ = await exchange(*server, [_post(QUERY)])
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"__typename" in answer


async def test_huge_headers_are_refused(server: tuple[str, int]) -> None:
    huge = b"Authorization: Bearer " + b"a" * (4 * 1024 * 1024) + b"\r\n"
    request = _post(QUERY, extra=huge)
    answer, elapsed = await exchange(
        *server, [request[i : i + 65536] for i in range(0, len(request), 65536)]
    )
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert elapsed < 3


async def test_headers_at_the_limit_are_served(server: tuple[str, int]) -> None:
    answer, _ = await exchange(*server, [_post(QUERY, extra=b"X-Pad: " + b"p" * 15_000 + b"\r\n")])
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


async def test_trickled_headers_are_cut_off(server: tuple[str, int]) -> None:
    request = _post(QUERY)
    answer, elapsed = await exchange(*server, [bytes([b]) for b in request], pause=0.2)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert TIMEOUT * 0.9 < elapsed < TIMEOUT + 1.5


async def test_a_silent_connection_is_closed(server: tuple[str, int]) -> None:
    answer, elapsed = await exchange(*server, [])
    assert elapsed < TIMEOUT + 1.5
    assert answer in (b"",) or answer.startswith(b"HTTP/1.1 408")


async def test_a_trickled_body_is_cut_off(server: tuple[str, int]) -> None:
    head = _post(b"", length=len(QUERY))
    answer, elapsed = await exchange(*server, [head, *[bytes([b]) for b in QUERY]], pause=0.2)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"TIMEOUT"' in answer
    assert elapsed < TIMEOUT + 1.5


async def test_connections_beyond_the_limit_get_503(server: tuple[str, int]) -> None:
    host, port = server
    held = [await asyncio.open_connection(host, port) for _ in range(MAX_CONNECTIONS)]
    try:
        await asyncio.sleep(0.1)
        answer, _ = await exchange(host, port, [_post(QUERY)])
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
    finally:
        for _, writer in held:
            writer.close()
    await asyncio.sleep(0.2)
    answer, _ = await exchange(host, port, [_post(QUERY)])
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
