"""GraphQL response bodies, bounded in size and always encodable.

The query cost bounds the objects a document resolves, not their bytes: 1.5 KB of aliased
query returned 34.5 MiB (30 items with 20,000-character prompts and 62 KB metadata, 15 times).
A body over the bound is replaced by a `RESPONSE_TOO_LARGE` error; a value that cannot be
encoded (which no stored value should be: see gallery/json_depth.py) by an `INTERNAL` one,
never a bare HTTP 500.
"""

from __future__ import annotations

import logging

import orjson
from asgi_correlation_id import correlation_id

from gallery_gql.api.errors import ErrorCode

log = logging.getLogger("gallery_gql.responses")


def _error_body(code: ErrorCode, message: str, **extensions: object) -> bytes:
    error = {"message": message, "extensions": {"code": code.value, **extensions}}
    return orjson.dumps({"data": None, "errors": [error]})


def encode_bounded(data: object, max_bytes: int) -> bytes:
    try:
        body = orjson.dumps(data)
    except TypeError as exc:  # orjson.JSONEncodeError: nesting over 254 levels, or a type
        request_id = correlation_id.get() or "unknown"
        log.error("response not encodable (request %s)", request_id, exc_info=exc)
        return _error_body(
            ErrorCode.INTERNAL,
            f"Internal server error (request id {request_id})",
            requestId=request_id,
        )
    if len(body) > max_bytes:
        log.warning("response of %d bytes refused (limit %d)", len(body), max_bytes)
        return _error_body(
            ErrorCode.RESPONSE_TOO_LARGE,
            f"the response would be {len(body)} bytes, over the limit of {max_bytes}: ask for "
            "fewer items, aliases or large fields (prompt, metadata)",
            maxBytes=max_bytes,
        )
    return body
