"""The real Redis server at 127.0.0.1:6379 for the tests that share state through it;
they skip, saying why, when none runs."""

from __future__ import annotations

import uuid

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


def _unreachable() -> str | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"no Redis server at 127.0.0.1:6379 ({exc}); install and start redis-server"
    finally:
        client.close()
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    reason = _unreachable()
    if reason:
        print(f"\nskipping: {reason}")
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """Keys of this test alone (concurrent runs share the server)."""
    return f"gallery-gql-test-{uuid.uuid4().hex[:12]}"
