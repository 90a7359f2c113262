"""Database failures by SQLSTATE: which are the client's to retry, and how to call them.

With SQLAlchemy 2.1 + asyncpg, a failed statement raises `sqlalchemy.exc.DBAPIError`
whose `.orig` is the dialect's adapted error carrying `.sqlstate` and `.pgcode`, with
asyncpg's own exception (`.sqlstate`) as its `__cause__`; `sqlstate()` looks at all three.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy import exc as sa_exc


class DatabaseFailure(Enum):
    TIMEOUT = "TIMEOUT"  # a statement or lock ran out of time
    UNAVAILABLE = "UNAVAILABLE"  # no connection could be had or kept


DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"
QUERY_CANCELED = "57014"  # statement_timeout
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout

_TIMEOUT_STATES = {QUERY_CANCELED, LOCK_NOT_AVAILABLE}
_UNAVAILABLE_PREFIXES = ("08", "57P")  # connection exceptions, admin/crash shutdown


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind an exception, or None if it carries none."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for attribute in ("sqlstate", "pgcode"):
            state = getattr(current, attribute, None)
            if isinstance(state, str) and state:
                return state
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None


def classify(error: BaseException) -> DatabaseFailure | None:
    """TIMEOUT or UNAVAILABLE for failures a retry may cure; None for anything else."""
    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection to lend
        return DatabaseFailure.UNAVAILABLE
    state = sqlstate(error)
    if state in _TIMEOUT_STATES:
        return DatabaseFailure.TIMEOUT
    if state is not None and state.startswith(_UNAVAILABLE_PREFIXES):
        return DatabaseFailure.UNAVAILABLE
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return DatabaseFailure.UNAVAILABLE
    if isinstance(error, ConnectionError | OSError | TimeoutError):
        return DatabaseFailure.UNAVAILABLE
    if isinstance(error, sa_exc.InterfaceError):
        return DatabaseFailure.UNAVAILABLE
    return None


def is_recovery_conflict(error: BaseException) -> bool:
    """A replica cancelled the statement to go on replaying WAL ("conflict with
    recovery", a serialization failure); the read may run elsewhere."""
    return sqlstate(error) == SERIALIZATION_FAILURE
