"""Which database failures are the client's to retry, and how to call them."""

from __future__ import annotations

from enum import Enum

from sqlalchemy import exc as sa_exc


class DatabaseFailure(Enum):
    TIMEOUT = "TIMEOUT"  # a statement or lock ran out of time
    UNAVAILABLE = "UNAVAILABLE"  # no connection could be had or kept


_TIMEOUT_STATES = {"57014", "55P03"}  # query_canceled (statement_timeout), lock_not_available
_UNAVAILABLE_PREFIXES = ("08", "57P")  # connection exceptions, admin/crash shutdown


def _sqlstate(error: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str):
            return state
        current = getattr(current, "orig", None) or current.__cause__
    return None


def classify(error: BaseException) -> DatabaseFailure | None:
    """TIMEOUT or UNAVAILABLE for failures a retry may cure; None for anything else."""
    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection to lend
        return DatabaseFailure.UNAVAILABLE
    state = _sqlstate(error)
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
