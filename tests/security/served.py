"""The app served by uvicorn with the options `gallery-gql serve` gives each worker, on a
loopback port in the test's event loop: for what only a real HTTP server shows."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from gallery_gql.app import create_app
from gallery_gql.server import uvicorn_options
from gallery_gql.settings import Settings


@asynccontextmanager
async def served(settings: Settings, app: FastAPI | None = None) -> AsyncIterator[tuple[str, int]]:
    """(host, port) of the app (by default, one created with `settings`) served with
    `settings` until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    options = {**uvicorn_options(settings), "loop": "none"}
    config = uvicorn.Config(app or create_app(settings), log_level="warning", **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(200):  # up to 10 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "the server did not start"
        yield sock.getsockname()
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
        sock.close()


async def exchange(
    host: str, port: int, chunks: list[bytes], pause: float = 0.0, read_timeout: float = 5.0
) -> tuple[bytes, float]:
    """Send `chunks` (pausing between them) while reading until the server closes; returns
    what it answered and the seconds until it closed (send `Connection: close`)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader, writer = await asyncio.open_connection(host, port)

    async def send() -> None:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(pause)

    async def receive() -> bytes:
        # Block by block: a client still trickling bytes after the server answered and
        # closed gets a reset after the answer, which `reader.read()` would drop with it.
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while block := await reader.read(65536):
                answer += block
        return answer

    sender = asyncio.create_task(send())
    try:
        answer = await asyncio.wait_for(receive(), timeout=read_timeout)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
        writer.close()
    return answer, loop.time() - started
