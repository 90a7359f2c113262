"""Fan-out of live subscriptions: events delivered per second and the delay from a write's
commit to its event reaching the client, with 1, 100 and 1,000 subscribers
(docs/benchmarks.md, "Live subscriptions: fan-out").

Serves the embedded cluster's database (seed it first) with `gallery-gql serve --workers 2`
(production settings) on loopback, opens the subscribers as graphql-transport-ws clients
(`websockets`, spread over `--client-processes` processes), then commits items through the
write path (`create_items`, `--batch` items a transaction, `--rate` items a second) for
`--seconds` at each level. A delay is the client's receive time less the time the commit
returned to the writer (same machine, wall clock). Every subscriber has the same filter,
or with `--filters distinct` one of its own (`excludeTags` naming a pair of tags of its
own), which all
match every written item, so each event goes to every subscriber.

    export GALLERY_GQL_HOME=/tmp/fanout
    .venv/bin/gallery-gql db start && .venv/bin/gallery-gql migrate
    .venv/bin/gallery-gql seed --items 20000 --no-media
    .venv/bin/python scripts/live_fanout.py --levels 1,100,1000 --seconds 10

The items it writes stay in the database (delete the cluster's home afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import queue
import statistics
import time
from multiprocessing.synchronize import Event
from typing import Any
from uuid import UUID

import orjson
import uvloop
from cpu_per_request import _cpu_seconds, _processes  # the same /proc accounting
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gallery_gql.api.global_id import item_global_id
from gallery_gql.db.embedded import EmbeddedCluster
from gallery_gql.gallery.keys import Source
from gallery_gql.gallery.writes.inputs import NewItem
from gallery_gql.gallery.writes.items import create_items
from gallery_gql.ops.bench.http import served
from gallery_gql.settings import Settings

EVENTS = """subscription Fanout($excludeTags: [ID!]) {
  contentItemEvents(excludeTags: $excludeTags) { kind itemId item { id title } }
}"""
SECRET = "live-fanout-" + "x" * 32
CONNECTS_AT_ONCE = 50


async def _subscriber(
    url: str,
    variables: dict[str, Any],
    received: list[tuple[str, float]],
    subscribed: asyncio.Event,
) -> str:
    """One client until cancelled; how it ended."""
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await _send(ws, {"type": "connection_init"})
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": EVENTS, "variables": variables}
        await _send(ws, {"id": "1", "type": "subscribe", "payload": payload})
        subscribed.set()
        try:
            async for raw in ws:
                at = time.time()
                message = orjson.loads(raw)
                if message["type"] == "next" and message["payload"].get("data"):
                    received.append((message["payload"]["data"]["contentItemEvents"]["itemId"], at))
                elif message["type"] == "ping":
                    await _send(ws, {"type": "pong"})
                elif message["type"] != "next":
                    return str(message["type"])
        except ConnectionClosed as closed:
            return f"closed {closed.rcvd.code if closed.rcvd else 'abruptly'}"
    return "ended"


async def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(orjson.dumps(message).decode())


async def _clients(
    url: str, filters: list[dict[str, Any]], ready_queue: Any, done: Event, seconds: float
) -> tuple[list[tuple[str, float]], list[str]]:
    received: list[tuple[str, float]] = []
    ready = [asyncio.Event() for _ in filters]
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def opened(variables: dict[str, Any], subscribed: asyncio.Event) -> str:
        async with gate:  # connections opened a few at a time
            task = asyncio.create_task(_subscriber(url, variables, received, subscribed))
            waiting = asyncio.create_task(subscribed.wait())
            await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        return await task

    tasks = [
        asyncio.create_task(opened(variables, event))
        for variables, event in zip(filters, ready, strict=True)
    ]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(120):
            for event in ready:
                await event.wait()
    ready_queue.put(sum(event.is_set() for event in ready))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, done.wait, seconds)
    for task in tasks:
        task.cancel()
    ends = [
        str(result) if not isinstance(result, asyncio.CancelledError) else "open"
        for result in await asyncio.gather(*tasks, return_exceptions=True)
    ]
    return received, ends


def _client_process(
    url: str,
    filters: list[dict[str, Any]],
    ready_queue: Any,
    results: Any,
    done: Event,
    seconds: float,
) -> None:
    results.put(uvloop.run(_clients(url, filters, ready_queue, done, seconds)))


async def _commit(engine: AsyncEngine, creator: UUID, count: int) -> tuple[list[str], float]:
    items = [
        NewItem(Source.REGULAR, "Fan-out", "image", "/data/fanout.png", "a fan out")
        for _ in range(count)
    ]
    async with engine.begin() as conn:
        written = await create_items(conn, creator, items)
    return [item_global_id(write.item) for write in written], time.time()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _level(
    base: str,
    engine: AsyncEngine,
    creator: UUID,
    filters: list[dict[str, Any]],
    args: argparse.Namespace,
) -> str:
    port = base.rsplit(":", 1)[1]
    server = _processes(lambda _, cmd: "gallery_gql serve" in cmd and f"--port {port} " in cmd)
    spawn = multiprocessing.get_context("spawn")
    ready_queue, results, done = spawn.Queue(), spawn.Queue(), spawn.Event()
    shares = [filters[n :: args.client_processes] for n in range(args.client_processes)]
    shares = [share for share in shares if share]
    limit = args.seconds + 180
    processes = [
        spawn.Process(
            target=_client_process,
            args=(
                base.replace("http", "ws") + "/graphql",
                share,
                ready_queue,
                results,
                done,
                limit,
            ),
        )
        for share in shares
    ]
    for process in processes:
        process.start()
    subscribed = sum(ready_queue.get(timeout=180) for _ in processes)
    await asyncio.sleep(1.0)  # subscriptions registered on their workers
    await _commit(engine, creator, 2)  # warm-up: the match statement built and planned
    await asyncio.sleep(1.0)
    committed: dict[str, float] = {}
    server_cpu, own = _cpu_seconds(server), os.times()
    interval = args.batch / args.rate
    started = time.monotonic()
    for n in range(int(args.seconds * args.rate / args.batch)):
        await asyncio.sleep(max(0.0, started + n * interval - time.monotonic()))
        ids, at = await _commit(engine, creator, args.batch)
        committed.update(dict.fromkeys(ids, at))
    await asyncio.sleep(args.drain)
    done.set()
    received: list[tuple[str, float]] = []
    ends: list[str] = []
    for _ in processes:
        got, ended = results.get(timeout=120)
        received += got
        ends += ended
    for process in processes:
        process.join(timeout=30)
    server_cpu = _cpu_seconds(server) - server_cpu
    after = os.times()
    clients_cpu = sum(after[:4]) - sum(own[:4])  # this process and the joined clients
    delays = [1000 * (at - committed[item]) for item, at in received if item in committed]
    first = min(committed.values())
    last = max((at for item, at in received if item in committed), default=first)
    expected = len(committed) * len(filters)
    dropped = sum(1 for end in ends if end != "open")
    line = (
        f"{len(filters)} subscriber(s) ({subscribed} subscribed), {len(committed)} items "
        f"committed in {args.seconds:.0f} s: {len(delays)}/{expected} events delivered, "
        f"{len(delays) / max(last - first, 1e-9):.0f} events/s"
    )
    if delays:
        line += (
            f"; delay from commit: p50 {statistics.median(delays):.1f} ms, "
            f"p95 {_percentile(delays, 0.95):.1f} ms, max {max(delays):.1f} ms"
        )
    line += f"; CPU s: server {server_cpu:.1f}, clients and writer {clients_cpu:.1f}"
    return line + (f"; {dropped} subscriber(s) ended early ({set(ends)})" if dropped else "")


def _distinct_pair(tags: list[str], n: int) -> list[str]:
    """Two tags, a different pair for each n below len(tags) * (len(tags) - 1) / 2."""
    first = n % len(tags)
    return [tags[first], tags[(first + 1 + n // len(tags)) % len(tags)]]


async def main(args: argparse.Namespace) -> None:
    url = EmbeddedCluster(Settings().home).url()
    engine = create_async_engine(url)
    levels = [int(level) for level in args.levels.split(",")]
    async with engine.connect() as conn:
        creator = (await conn.execute(text("SELECT id FROM users LIMIT 1"))).scalar_one()
        tags = [
            str(row.id)
            for row in await conn.execute(text("SELECT id FROM tags ORDER BY tag_key LIMIT 200"))
        ]
    env = {"GALLERY_GQL_LIVE_MAX_SUBSCRIPTIONS_PER_WORKER": str(max(levels) + 10)}
    print(
        f"workers {args.workers}, {args.rate:g} items/s in transactions of {args.batch}, "
        f"filters: {args.filters}, {args.client_processes} client processes"
    )
    try:
        with served(url, SECRET, args.workers, env=env) as base:
            for level in levels:
                if args.filters == "same":
                    filters: list[dict[str, Any]] = [{} for _ in range(level)]
                else:
                    filters = [{"excludeTags": _distinct_pair(tags, n)} for n in range(level)]
                print(await _level(base, engine, creator, filters, args), flush=True)
    except queue.Empty:
        print("the clients did not report in time")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,100,1000", help="comma-separated subscribers")
    parser.add_argument("--seconds", type=float, default=10.0, help="writing time per level")
    parser.add_argument("--rate", type=float, default=20.0, help="items committed per second")
    parser.add_argument("--batch", type=int, default=1, help="items per transaction")
    parser.add_argument("--filters", choices=["same", "distinct"], default="same")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--drain", type=float, default=3.0, help="seconds to wait after")
    uvloop.run(main(parser.parse_args()))
