"""Array bind parameters: `col = ANY(:values)` keeps one prepared statement per shape,
whatever the list's length (an expanding IN would make one per length)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, Text, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine


def _any(name: str, values: Iterable[Any] | None, element: TypeEngine[Any]) -> ColumnElement[Any]:
    """Without `values`, the parameter must be given at execution: a statement built once
    and reused keeps SQLAlchemy from rebuilding and re-keying it on every call."""
    if values is None:
        return any_(bindparam(name, type_=ARRAY(element), required=True))
    return any_(bindparam(name, list(values), type_=ARRAY(element)))


def any_int(name: str, values: Iterable[int] | None = None) -> ColumnElement[Any]:
    return _any(name, values, Integer())


def any_uuid(name: str, values: Iterable[UUID] | None = None) -> ColumnElement[Any]:
    return _any(name, values, PG_UUID(as_uuid=True))


def any_text(name: str, values: Iterable[str] | None = None) -> ColumnElement[Any]:
    return _any(name, values, Text())
