"""The `/graphql` front answers exactly as the app's whole middleware stack did.

Each test builds two apps from the same settings on the same database: one as
`create_app` makes it (its front answering `GET` and `POST /graphql`), and one with the
front removed, so FastAPI and every middleware answer (the model). The same raw ASGI
requests go to both; the messages they send (status, headers in order, body), whether
they raised, and the log context's request id must be the same, up to the request ids
each app generated for itself.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from asgi_correlation_id import correlation_id
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError, ProgrammingError

import gallery_gql.app as app_module
from gallery_gql.auth import mint_token
from gallery_gql.settings import Settings
from gallery_gql.web.graphql_http.front import GalleryApp, GraphQLFront
from tests.factories import Dataset

PAGE = "{ contentItems(first: 3) { edges { cursor node { id title } } pageInfo { hasNextPage } } }"
DOCUMENTS = [
    PAGE,
    "{ viewer { id username } }",
    "{ contentItems(first: 2) { edges { nope } } }",
    "mutation { nope }",
    "subscription { contentItemEvents { kind } }",
    "{ contentItems(first: 0) { edges { cursor } } }",
    "{",
]
MAX_BODY = 4096
_GENERATED = re.compile(rb"(request id |\"requestId\":\")[0-9a-f]{32}")


@pytest.fixture
def database_url(module_database_url: str) -> str:
    return module_database_url


@dataclass(frozen=True)
class Outcome:
    messages: list[dict[str, Any]]
    raised: str | None
    request_id: str | None
    """The log context's request id after the call."""


async def exchange(
    app: Any,
    method: str,
    headers: Sequence[tuple[str, str]] = (),
    body: Sequence[bytes] = (),
    path: str = "/graphql",
    query_string: bytes = b"",
    stall: bool = False,
    leave: bool = False,
    client: str = "127.0.0.1",
) -> Outcome:
    """One raw ASGI call: the body in `body`'s chunks (`leave`, `stall`: the last one
    says more is coming, then the client leaves, or sends nothing more and stays)."""
    chunks = list(body)

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {
                "type": "http.request",
                "body": chunk,
                "more_body": bool(chunks) or leave or stall,
            }
        if stall:
            await asyncio.sleep(30)
        return {"type": "http.disconnect"}

    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
        "client": (client, 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    token = correlation_id.set(None)
    raised = None
    try:
        await app(scope, receive, send)
    except Exception as exc:
        raised = type(exc).__name__
    finally:
        request_id = correlation_id.get()
        correlation_id.reset(token)
    return Outcome(messages, raised, request_id)


def normalized(outcome: Outcome) -> tuple[Any, ...]:
    """The outcome with generated request ids (32 hex digits) replaced by a mark; a
    request id given by the client stays as it is."""
    generated = outcome.request_id
    messages = []
    for message in outcome.messages:
        message = dict(message)
        if "headers" in message:
            message["headers"] = [
                (name, b"<id>" if name == b"x-request-id" and _made(value) else value)
                for name, value in message["headers"]
            ]
        if "body" in message:
            message["body"] = _GENERATED.sub(rb"\1<id>", message["body"])
        messages.append(message)
    return (
        messages,
        outcome.raised,
        "<id>" if generated and _made(generated.encode()) else generated,
    )


def _made(value: bytes) -> bool:
    return re.fullmatch(rb"[0-9a-f]{32}", value) is not None


@dataclass
class Apps:
    front: GalleryApp
    stack: GalleryApp

    async def both(self, *args: Any, **kwargs: Any) -> tuple[Outcome, Outcome]:
        return (
            await exchange(self.front, *args, **kwargs),
            await exchange(self.stack, *args, **kwargs),
        )

    async def same(self, *args: Any, **kwargs: Any) -> Outcome:
        front, stack = await self.both(*args, **kwargs)
        assert normalized(front) == normalized(stack)
        return front


def _created(settings: Settings) -> GalleryApp:
    app = app_module.create_app(settings)
    assert isinstance(app, GalleryApp)
    return app


async def serve_both(settings: Settings, stack: AsyncExitStack) -> Apps:
    front, model = _created(settings), _created(settings)
    assert front.front is not None
    model.front = None  # FastAPI and the middleware answer every request
    await stack.enter_async_context(LifespanManager(front))
    await stack.enter_async_context(LifespanManager(model))
    return Apps(front, model)


@pytest.fixture
async def apps(settings: Settings) -> AsyncIterator[Apps]:
    async with AsyncExitStack() as stack:
        served = settings.model_copy(update={"max_body_bytes": MAX_BODY, "graphiql": True})
        yield await serve_both(served, stack)


@st.composite
def requests(draw: st.DrawFn, tokens: list[str]) -> dict[str, Any]:
    method = draw(st.sampled_from(["GET", "POST", "POST", "POST", "PUT", "HEAD", "OPTIONS"]))
    headers: list[tuple[str, str]] = []
    optional = {
        "accept": [
            "application/json",
            "application/graphql-response+json",
            "*/*",
            "text/html",
            "image/png",
            "application/json; charset=latin1",
            "application/graphql-response+json;q=0.5, application/json",
        ],
        "authorization": [
            *(f"Bearer {token}" for token in tokens),
            "Bearer not.a.token",
            "Basic eA==",
        ],
        "x-consistency-token": ["0/0", "0/1A2B", "not a position", "F" * 40],
        "x-request-id": [uuid.uuid4().hex, str(uuid.uuid4()), "not-a-uuid", ""],
    }
    for name, values in optional.items():
        value = draw(st.none() | st.sampled_from(values))
        if value is not None:
            headers.append((name, value))
    document = draw(st.sampled_from(DOCUMENTS))
    query_string = b""
    body: list[bytes] = []
    if method == "GET":
        parameters = draw(
            st.sampled_from(
                [
                    {"query": document},
                    {"query": document, "variables": "{not json"},
                    {"query": document, "query ": "x"},
                    {},
                    {
                        "extensions": '{"persistedQuery": {"version": 1, "sha256Hash": "'
                        + "0" * 64
                        + '"}}'
                    },
                ]
            )
        )
        query_string = urlencode(parameters).encode()
    else:
        content_type = draw(
            st.sampled_from(
                ["application/json", "application/json; charset=utf-8", "text/plain", None]
            )
        )
        if content_type:
            headers.append(("content-type", content_type))
        payload = draw(
            st.sampled_from(
                [
                    orjson.dumps({"query": document}),
                    orjson.dumps({"query": document, "variables": []}),
                    orjson.dumps([{"query": document}]),
                    b"{",
                    b"",
                    b'{"query": "\xff"}',
                    orjson.dumps({"query": document + " " * MAX_BODY}),
                ]
            )
        )
        cut = draw(st.integers(0, len(payload)))
        body = [payload[:cut], payload[cut:]]
        declared = draw(st.sampled_from([None, str(len(payload)), str(MAX_BODY * 10)]))
        if declared is not None:
            headers.append(("content-length", declared))
    return {"method": method, "headers": headers, "body": body, "query_string": query_string}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_the_front_answers_as_the_stack(
    data: st.DataObject, apps: Apps, module_gallery: Dataset, settings: Settings
) -> None:
    tokens = [mint_token(user, settings) for user in module_gallery.users[:2]]
    tokens.append(mint_token(uuid.UUID(int=10**9), settings))  # no such user
    request = data.draw(requests(tokens))
    await apps.same(**request)


async def test_a_page_is_answered_alike_and_identified(apps: Apps, module_gallery: Dataset) -> None:
    body = orjson.dumps({"query": PAGE})
    outcome = await apps.same("POST", [("content-type", "application/json")], [body])
    start, sent = outcome.messages
    assert start["status"] == 200
    names = [name for name, _ in start["headers"]]
    assert names[-5:] == [
        b"x-request-id",
        b"content-security-policy",
        b"x-content-type-options",
        b"x-frame-options",
        b"referrer-policy",
    ]
    assert dict(start["headers"])[b"x-request-id"].decode() == outcome.request_id
    assert b'"edges"' in sent["body"]


async def test_graphiql_is_answered_alike_with_its_policy(apps: Apps) -> None:
    outcome = await apps.same("GET", [("accept", "text/html")])
    headers = dict(outcome.messages[0]["headers"])
    assert headers[b"content-type"].startswith(b"text/html")
    assert b"'unsafe-inline'" in headers[b"content-security-policy"]


async def test_a_given_request_id_is_kept(apps: Apps) -> None:
    given = uuid.uuid4().hex
    outcome = await apps.same(
        "GET", [("x-request-id", given)], query_string=b"query=%7Bviewer%7Bid%7D%7D"
    )
    assert outcome.request_id == given
    assert dict(outcome.messages[0]["headers"])[b"x-request-id"] == given.encode()


async def test_a_client_that_leaves_mid_body_is_not_answered(apps: Apps) -> None:
    headers = [("content-type", "application/json"), ("content-length", "100")]
    outcome = await apps.same("POST", headers, [b'{"query":'], leave=True)
    assert outcome.messages == []


async def test_a_trickled_body_times_out_alike(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        apps = await serve_both(settings.model_copy(update={"body_timeout_seconds": 0.05}), stack)
        outcome = await apps.same(
            "POST", [("content-type", "application/json")], [b'{"query":'], stall=True
        )
    assert outcome.messages[0]["status"] == 408


async def test_the_deadline_answers_alike(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow(*_: object) -> None:
        await asyncio.sleep(5)

    monkeypatch.setattr(app_module, "load_viewer", slow)
    async with AsyncExitStack() as stack:
        apps = await serve_both(
            settings.model_copy(update={"request_deadline_seconds": 0.05}), stack
        )
        outcome = await apps.same(
            "POST", [("content-type", "application/json")], [orjson.dumps({"query": PAGE})]
        )
    assert outcome.messages[0]["status"] == 504


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("unexpected"),
        ConnectionRefusedError("the database is down"),
        OperationalError("SELECT 1", {}, ConnectionRefusedError("down")),
        ProgrammingError("SELECT 1", {}, Exception("relation x does not exist")),
        TimeoutError(),
    ],
    ids=type,
)
async def test_failures_before_execution_are_answered_alike(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    async def broken(*_: object) -> None:
        raise failure

    monkeypatch.setattr(app_module, "load_viewer", broken)
    async with AsyncExitStack() as stack:
        apps = await serve_both(settings, stack)
        for accept in ("application/json", "application/graphql-response+json"):
            outcome = await apps.same(
                "POST",
                [("content-type", "application/json"), ("accept", accept)],
                [orjson.dumps({"query": PAGE})],
            )
            assert outcome.messages[0]["status"] >= 500


async def test_the_rate_limit_answers_alike(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        apps = await serve_both(settings.model_copy(update={"rate_limit": "3/minute"}), stack)
        statuses = []
        for number in range(6):
            method = "PUT" if number == 1 else "POST"  # PUT: FastAPI's stack, the same count
            outcome = await apps.same(
                method, [("content-type", "application/json")], [orjson.dumps({"query": PAGE})]
            )
            statuses.append(outcome.messages[0]["status"])
    assert statuses == [200, 405, 200, 429, 429, 429]


async def test_behind_trusted_proxies_alike(settings: Settings) -> None:
    forwarded = [
        ("content-type", "application/json"),
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-proto", "https"),
    ]
    async with AsyncExitStack() as stack:
        apps = await serve_both(
            settings.model_copy(
                update={"trusted_proxies": ["127.0.0.1"], "rate_limit": "2/minute"}
            ),
            stack,
        )
        statuses = [
            (await apps.same("POST", forwarded, [orjson.dumps({"query": PAGE})])).messages[0][
                "status"
            ]
            for _ in range(3)
        ]
        other = await apps.same("POST", forwarded[:1], [orjson.dumps({"query": PAGE})])
    assert statuses == [200, 200, 429]  # counted against the forwarded client
    assert other.messages[0]["status"] == 200


def test_the_front_stands_aside_for_cors(settings: Settings) -> None:
    app = _created(settings.model_copy(update={"cors_origins": ["https://a.example"]}))
    assert app.front is None
    app = _created(settings)
    assert isinstance(app.front, GraphQLFront)
