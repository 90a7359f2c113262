"""Relay global ids: base64 of "<Type>:<key>", decoded with a typed error."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from gallery_gql.api.errors import bad_input
from gallery_gql.gallery.keys import ItemKey, Source

_MAX_LENGTH = 200


def encode_global_id(type_name: str, key: str) -> str:
    return binascii.b2a_base64(f"{type_name}:{key}".encode(), newline=False).decode()


def decode_global_id(value: str) -> tuple[str, str]:
    """(type name, key) of a global id; BAD_USER_INPUT when it is not one of ours."""
    if len(value) > _MAX_LENGTH:
        raise bad_input("invalid id")
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise bad_input(f"invalid id {value[:64]!r}") from exc
    type_name, sep, key = text.partition(":")
    if not sep or not type_name or not key:
        raise bad_input(f"invalid id {value[:64]!r}")
    return type_name, key


def item_global_id(key: ItemKey) -> str:
    return item_global_id_of(key.source, key.id)


_ITEM_ID_PREFIXES = {int(source): f"ContentItem:{source.name}:" for source in Source}
"""Keyed by the source's number: a row's `source` column finds its prefix as its enum
member does, and neither calls the enum's `name`."""


def item_global_id_of(source: Source | int, item_id: int) -> str:
    """`item_global_id` without building the key (each item of a page has its id); the
    source as its enum member or as its number (a row's column)."""
    prefix = _ITEM_ID_PREFIXES[source]
    return binascii.b2a_base64((prefix + str(item_id)).encode(), newline=False).decode()


def decode_item_key(key: str) -> ItemKey:
    source_name, _, raw_id = key.partition(":")
    try:
        item_id = int(raw_id)
        source = Source[source_name]
    except (KeyError, ValueError) as exc:
        raise bad_input("invalid content item id") from exc
    if not 0 < item_id < 2**31:
        raise bad_input("invalid content item id")
    return ItemKey(source, item_id)


def parse_uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as exc:
        raise bad_input(f"invalid {what} id {value[:64]!r}") from exc


def decode_uuid_id(value: str, type_name: str) -> UUID:
    """A UUID given raw or as the `type_name` global id (both forms are accepted)."""
    try:
        return UUID(value)
    except ValueError:
        pass
    kind, key = decode_global_id(value)
    if kind != type_name:
        raise bad_input(f"id {value[:64]!r} is not a {type_name} id")
    return parse_uuid(key, type_name)
