"""Every error the write wing raises on purpose: a `WriteError` is the client's to fix
(the API maps each kind to a code); anything else is a fault of ours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gallery_gql.gallery.keys import ItemKey
from gallery_gql.gallery.writes.limits import (
    MAX_BATCH,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_TAGS_PER_ITEM,
)


class WriteError(Exception):
    """A write that cannot be done as asked; nothing of it is kept."""


# -- items --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input value; `field` is the domain name (e.g. `quality_score`), or
    None for the request as a whole."""

    field: str | None
    message: str


class InvalidContentError(WriteError):
    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = list(problems)


class ItemNotFoundError(WriteError):
    def __init__(self, items: Sequence[ItemKey]) -> None:
        super().__init__("no such item: " + ", ".join(f"{k.source.name}:{k.id}" for k in items))
        self.items = list(items)


class ForbiddenItemError(WriteError):
    def __init__(self, item: ItemKey) -> None:
        super().__init__("only the item's creator or an admin may change it")
        self.item = item


class VersionConflictError(WriteError):
    def __init__(self, item: ItemKey, expected: int, current: int) -> None:
        super().__init__(f"item was changed: expected version {expected}, it is {current}")
        self.item = item
        self.expected = expected
        self.current = current


class BatchTooLargeError(WriteError):
    def __init__(self, count: int) -> None:
        super().__init__(f"a call takes at most {MAX_BATCH} items, got {count}")
        self.count = count


class BatchRejectedError(WriteError):
    """Some requests of a batch failed; nothing was written. `problems` maps each failed
    request's index to everything wrong with it."""

    def __init__(self, problems: Mapping[int, Sequence[Exception]]) -> None:
        super().__init__(f"{len(problems)} request(s) rejected")
        self.problems = {index: list(found) for index, found in sorted(problems.items())}


# -- tags on items --------------------------------------------------------------------------


class UnknownTagsError(WriteError):
    def __init__(self, values: Sequence[str]) -> None:
        super().__init__(f"unknown tags: {', '.join(values)}")
        self.values = list(values)


class UnknownTagValuesError(UnknownTagsError):
    """Unknown tags in one named list of a request (`tags`, `set`, `add`, `remove`)."""

    def __init__(self, field: str, values: Sequence[str]) -> None:
        super().__init__(values)
        self.field = field


class TooManyTagsError(WriteError):
    def __init__(self, item: ItemKey | None, count: int) -> None:
        super().__init__(f"an item carries at most {MAX_TAGS_PER_ITEM} tags, got {count}")
        self.item = item
        self.count = count


# -- idempotency keys -------------------------------------------------------------------------


class InvalidIdempotencyKeyError(WriteError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters, "
            f"got {key[:40]!r}"
        )
        self.key = key


class IdempotencyKeyReusedError(WriteError):
    def __init__(self, keys: Sequence[str]) -> None:
        shown = ", ".join(repr(key[:40]) for key in keys)
        super().__init__(
            f"idempotency key {shown} was already used for a different request; "
            "use a new key for a new request"
        )
        self.keys = list(keys)


# -- the tag hierarchy ------------------------------------------------------------------------


class InvalidTagNameError(WriteError):
    pass


class InvalidParentsError(WriteError):
    pass


class DuplicateTagNameError(WriteError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a tag named {name!r} already exists")
        self.name = name


class TagCycleError(WriteError):
    def __init__(self, tag: str, parent: str) -> None:
        super().__init__(
            f"{parent!r} cannot be a parent of {tag!r}: it is {tag!r} itself or one of its "
            "descendants, which would make a cycle"
        )
        self.tag = tag
        self.parent = parent


class TagLinkNotFoundError(WriteError):
    def __init__(self, tag: str, parent: str) -> None:
        super().__init__(f"{parent!r} is not a parent of {tag!r}")
