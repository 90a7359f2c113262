"""A GraphQL-over-HTTP request's parameters, from a GET's query string or a POST's JSON body.

`query` is a string (it need not parse: that is GraphQL's to report), absent only when
`extensions.persistedQuery` names the document by hash (web/graphql_http/persisted.py),
`operationName` a string, `variables` and `extensions` objects; null is the same as
absent, and so is an empty `operationName`. A POST body is `application/json` (UTF-8)
holding one object. Anything else is not a well-formed request: a `ProtocolError` (400, or
415 for the content type), answered before GraphQL sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request

from gallery_gql.web.graphql_http.problems import bad_request, unsupported_media_type

PARAMETERS = ("query", "operationName", "variables", "extensions")


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str | None
    """None: the document is named by `extensions.persistedQuery`."""
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


async def read_params(request: Request) -> GraphQLParams:
    if request.method == "GET":
        return _from_query_string(request.query_params)
    _check_content_type(request.headers.get("content-type"))
    return _from_body(await request.body())


def _from_query_string(query: QueryParams) -> GraphQLParams:
    for name in PARAMETERS:
        if len(query.getlist(name)) > 1:
            raise bad_request(f"`{name}` is given more than once")
    return _params(
        {
            "query": query.get("query"),
            "operationName": query.get("operationName"),
            "variables": _json_parameter(query, "variables"),
            "extensions": _json_parameter(query, "extensions"),
        }
    )


def _json_parameter(query: QueryParams, name: str) -> Any:
    text = query.get(name)
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise bad_request(f"`{name}` must be a JSON object") from None


def _check_content_type(header: str | None) -> None:
    if header is None:
        raise unsupported_media_type("give the body's type: Content-Type: application/json")
    media_type, *parameters = (part.strip().lower() for part in header.split(";"))
    if media_type != "application/json":
        raise unsupported_media_type(
            f"the body must be application/json, not {media_type or 'empty'}"
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise unsupported_media_type("the body must be UTF-8")


def _from_body(body: bytes) -> GraphQLParams:
    if not body.strip():
        raise bad_request("the request has no body: send a JSON object with `query`")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request("the body is not valid JSON") from None
    if isinstance(data, list):
        raise bad_request("operation batching is not supported: send one operation a request")
    if not isinstance(data, dict):
        raise bad_request('the body must be a JSON object, e.g. {"query": "{ viewer { id } }"}')
    return _params(data)


def _params(data: Mapping[str, Any]) -> GraphQLParams:
    extensions = _object(data, "extensions")
    query = data.get("query")
    if query == "":
        query = None
    if query is None and not (extensions and "persistedQuery" in extensions):
        raise bad_request("no GraphQL document: give it as `query`")
    if query is not None and not isinstance(query, str):
        raise bad_request("`query` must be a string")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request("`operationName` must be a string")
    return GraphQLParams(
        query=query,
        operation_name=operation_name or None,
        variables=_object(data, "variables"),
        extensions=extensions,
    )


def _object(data: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is not None and not isinstance(value, dict):
        raise bad_request(f"`{name}` must be a JSON object")
    return value
