"""HTTP caching of GET answers: only an anonymous persisted query's error-free answer.

Such an answer depends on the document (its hash is in the URL), the variables and
`Accept`, all in the URL or in `Vary`; it carries `Cache-Control: public, max-age=N`
(`GALLERY_GQL_GET_MAX_AGE_SECONDS`, default 5), a strong `ETag` of its body, and `Vary:
Accept, Authorization`, so a shared cache never gives it to a request with a token.
`If-None-Match` naming that ETag is answered 304 without a body (the page is still
computed: the ETag is the body's). Every other answer to a GET (with a token or a
consistency token, a document sent in full, any error) says `Cache-Control: no-store`.
POST answers say nothing of caching (POST responses are not reused by caches).
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from gallery_gql.api.consistency import HEADER as CONSISTENCY_HEADER

NOT_CACHEABLE = "no-store"


def may_cache(request: Request, persisted: bool) -> bool:
    """Whether the answer to this request may be stored, should it be error-free."""
    headers = request.headers
    return (
        request.method == "GET"
        and persisted
        and "authorization" not in headers
        and CONSISTENCY_HEADER.lower() not in headers
    )


def cached_answer(request: Request, response: Response, max_age: int) -> Response:
    """`response` (200, error-free) marked cacheable, or a 304 when the client holds it."""
    etag = '"' + hashlib.blake2b(response.body, digest_size=16).hexdigest() + '"'
    headers = {
        "Cache-Control": f"public, max-age={max_age}" if max_age else "no-cache",
        "ETag": etag,
        "Vary": "Accept, Authorization",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


def not_cacheable(request: Request, response: Response) -> Response:
    if request.method == "GET":
        response.headers["Cache-Control"] = NOT_CACHEABLE
    return response


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
