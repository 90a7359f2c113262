"""A repeated document is validated once: the depth and alias limits must not defeat the
validation cache (each limiter instance used to mint a fresh rule class, so the cache,
keyed on the rules, missed on every request)."""

from __future__ import annotations

from typing import Any

import graphql
import pytest

from gallery_gql.api import validation
from gallery_gql.api.schema import build_schema
from gallery_gql.settings import Settings

DOCUMENT = "query Cached { __typename }"


async def test_a_repeated_document_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    validate = graphql.validate

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return validate(*args, **kwargs)

    monkeypatch.setattr(validation, "validate", counting_validate)
    schema = build_schema(Settings(environment="production", secret="s" * 32))
    for _ in range(3):
        result = await schema.execute(DOCUMENT)
        assert result.errors is None
    assert len(calls) == 1
