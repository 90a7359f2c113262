"""Finding: with no proxy in front, `X-Forwarded-For` sent from loopback was trusted, so
rotating it was never rate limited. Forwarded headers count only from configured proxies."""

from __future__ import annotations

from gallery_gql.settings import Settings
from tests.security.served import exchange, served

QUERY = b'{"query": "{ __typename }"}'


def _post(forwarded_for: str) -> bytes:
    return (
        b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nX-Forwarded-For: %s\r\nContent-Length: %d\r\n\r\n"
        % (forwarded_for.encode(), len(QUERY))
    ) + QUERY


async def _statuses(settings: Settings, forwarded: list[str]) -> list[int]:
    statuses = []
    async with served(settings) as (host, port):
        for value in forwarded:
            answer, _ = await exchange(host, port, [_post(value)])
            statuses.append(int(answer.split(b" ", 2)[1]))
    return statuses


async def test_rotating_forwarded_for_is_limited_without_a_proxy(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit": "3/minute"})
    rotating = [f"203.0.113.{n}" for n in range(5)]
    assert await _statuses(limited, rotating) == [200, 200, 200, 429, 429]


async def test_a_configured_proxy_names_the_client(settings: Settings) -> None:
    behind_proxy = settings.model_copy(
        update={"rate_limit": "3/minute", "trusted_proxies": ["127.0.0.0/8"]}
    )
    clients = ["203.0.113.1"] * 4 + ["203.0.113.2"]
    assert await _statuses(behind_proxy, clients) == [200, 200, 200, 429, 200]
    # A client cannot hide behind an address it prepends: the proxy appends the real one.
    spoofed = [f"198.51.100.{n}, 203.0.113.9" for n in range(4)]
    assert await _statuses(behind_proxy, spoofed) == [200, 200, 200, 429]
