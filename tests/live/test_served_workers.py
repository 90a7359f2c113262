"""Events across the worker processes of `gallery-gql serve --workers 2` (gunicorn with
uvicorn workers, as production runs), not two apps in the test's process."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from gallery_gql.auth import mint_token
from gallery_gql.ops.bench.http import served
from gallery_gql.settings import Settings
from tests.api.mutations.calls import CREATE, new_item
from tests.live.client import LiveClient, live_client, post
from tests.live.conftest import Gallery

MATCHING: dict[str, Any] = {"search": "cat"}
NOT_MATCHING: dict[str, Any] = {"search": "dog"}
MOST_SOCKETS = 24  # each lands on a worker of the kernel's choosing; 2 per worker needed


async def test_a_write_reaches_the_subscribers_of_every_worker_process(
    settings: Settings, gallery: Gallery
) -> None:
    secret = settings.signing_secret()
    token = mint_token(gallery.dataset.users[1], settings)
    assert settings.database_url is not None
    with served(settings.database_url, secret, workers=2) as base:
        port = int(base.rsplit(":", 1)[1])
        async with AsyncExitStack() as stack:
            by_worker: dict[int, list[LiveClient]] = defaultdict(list)
            for _ in range(MOST_SOCKETS):
                if len(by_worker) == 2 and all(len(c) >= 2 for c in by_worker.values()):
                    break
                client = await stack.enter_async_context(live_client(base))
                by_worker[worker_pid(port, client.ws.local_address[1])].append(client)
            assert len(by_worker) == 2, "every socket landed on one worker"
            assert all(len(clients) >= 2 for clients in by_worker.values())
            # Alternating filters: each worker holds matching and non-matching subscribers.
            subscribers = [
                (client, n % 2 == 0)
                for clients in by_worker.values()
                for n, client in enumerate(clients)
            ]
            for client, matching in subscribers:
                await client.subscribe(MATCHING if matching else NOT_MATCHING)
            await until_subscribed([client for client, _ in subscribers], base, token)

            data = await post(base, CREATE, {"input": new_item(title="A cat")}, token)
            created = data["createContent"]["item"]["id"]
            for client, matching in subscribers:  # matching ones first: then both workers
                if matching:  # have handled the write when the others are read
                    event = (await client.receive(5.0))["payload"]["data"]["contentItemEvents"]
                    assert (event["kind"], event["itemId"]) == ("CREATED", created)
            rest = await asyncio.gather(*(client.quiet(0.2) for client, _ in subscribers))
            assert rest == [[] for _ in subscribers]


async def until_subscribed(clients: list[LiveClient], base: str, token: str) -> None:
    """Until every subscription is running on its worker (no message says so): items
    both filters select ("cat and dog") are written until each subscriber has had one,
    then one more that every subscriber reads up to, leaving nothing unread."""
    waiting = set(clients)
    for _ in range(20):
        if not waiting:
            break
        await _write_both(base, token)
        clients_waiting = list(waiting)
        heard = await asyncio.gather(*(client.quiet(0.3) for client in clients_waiting))
        waiting -= {client for client, got in zip(clients_waiting, heard, strict=True) if got}
    assert not waiting, "a subscription did not start"
    last = await _write_both(base, token)
    for client in clients:
        for _ in range(25):  # at most one event per write above, and this one
            event = (await client.receive(5.0))["payload"]["data"]["contentItemEvents"]
            if event["itemId"] == last:
                break
        else:
            raise AssertionError("the last write did not arrive")


async def _write_both(base: str, token: str) -> str:
    data = await post(base, CREATE, {"input": new_item(title="A cat and a dog")}, token)
    item_id: str = data["createContent"]["item"]["id"]
    return item_id


def worker_pid(server_port: int, client_port: int) -> int:
    """The pid of the process holding the server's end of a loopback TCP connection
    (/proc/net/tcp names the socket, a process's /proc/<pid>/fd links to it)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (
            int(local.split(":")[1], 16) == server_port
            and int(remote.split(":")[1], 16) == client_port
        ):
            inode = fields[9]
            break
    assert inode is not None, "no such connection"
    link = f"socket:[{inode}]"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(
                os.readlink(f"/proc/{pid}/fd/{fd}") == link for fd in os.listdir(f"/proc/{pid}/fd")
            ):
                return int(pid)
        except OSError:  # not ours to read, or gone
            continue
    raise AssertionError("no process holds the connection")
