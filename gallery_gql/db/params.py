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


def any_int(name: str, values: Iterable[int]) -> ColumnElement[Any]:
    return any_(bindparam(name, list(values), type_=ARRAY(Integer)))


def any_uuid(name: str, values: Iterable[UUID]) -> ColumnElement[Any]:
    return any_(bindparam(name, list(values), type_=ARRAY(PG_UUID(as_uuid=True))))


def any_text(name: str, values: Iterable[str]) -> ColumnElement[Any]:
    return any_(bindparam(name, list(values), type_=ARRAY(Text)))
