"""The GraphQL endpoint, `/graphql`: GraphQL over HTTP, one request at a time.

Strawberry's router hosts it (the GET and POST routes, the context dependency, WebSocket
subscriptions); every HTTP request is answered by `GalleryGraphQLRouter.answer`, which is
the whole protocol: choose the response's media type, read the parameters, execute, and
give the result its status code. Queries come by GET or POST, mutations by POST only.
A document may come by hash (`persisted.py`); an anonymous one by GET is cacheable
(`caching.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.exceptions import MissingQueryError
from strawberry.fastapi import GraphQLRouter
from strawberry.http.ides import GraphQL_IDE
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.documents.compiled import CompiledDocuments
from gallery_gql.api.errors import ErrorCode
from gallery_gql.settings import Settings
from gallery_gql.web.graphql_http.accept import ResponseMedia, negotiate
from gallery_gql.web.graphql_http.answers import error_answer, graphql_response, problem_response
from gallery_gql.web.graphql_http.caching import cached_answer, may_cache, not_cacheable
from gallery_gql.web.graphql_http.params import GraphQLParams, read_params
from gallery_gql.web.graphql_http.persisted import PersistedDocuments, PersistedQueryStore
from gallery_gql.web.graphql_http.problems import (
    ProtocolError,
    bad_request,
    mutation_by_get,
    not_acceptable,
)
from gallery_gql.web.live_socket import TextWebSocketAdapter, authenticate, pinging_handler
from gallery_gql.web.pages import graphiql_html

ALLOWED_OPERATIONS = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}


class GalleryGraphQLRouter(GraphQLRouter[GalleryContext, None]):
    websocket_adapter_class = TextWebSocketAdapter
    max_response_bytes = 8 * 1024 * 1024
    """Set from GALLERY_GQL_MAX_RESPONSE_BYTES by create_app."""
    get_max_age_seconds = 5
    """Set from GALLERY_GQL_GET_MAX_AGE_SECONDS by create_app."""
    documents = PersistedDocuments({}, PersistedQueryStore(1000, 32 * 1024), trusted_only=False)
    """Replaced by create_app with the trusted documents and the configured store."""
    compiled: CompiledDocuments | None = None
    """The compiled path (api/documents/compiled.py), set by create_app when enabled."""

    def __init__(
        self,
        schema: BaseSchema,
        context_getter: Callable[..., Any],
        graphql_ide: GraphQL_IDE | None,
        settings: Settings,
    ) -> None:
        super().__init__(
            schema,
            context_getter=context_getter,
            graphql_ide=graphql_ide,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # Operations in flight per WebSocket; subscriptions are capped (with a code)
            # below this, by api/subscriptions.py.
            max_subscriptions_per_connection=settings.live_max_subscriptions_per_connection + 4,
            # A socket that never says `connection_init` is closed (4408) as a request
            # whose headers never end is.
            connection_init_wait_timeout=timedelta(seconds=settings.header_timeout_seconds),
        )
        self.graphql_transport_ws_handler_class = pinging_handler(
            settings.live_ping_seconds, settings.max_tokens
        )
        # Starlette's own 405 names the methods of the first route only (GET).
        self.add_api_route(
            "", _method_not_allowed, methods=["PUT", "PATCH", "DELETE"], include_in_schema=False
        )

    async def on_ws_connect(self, context: GalleryContext) -> UnsetType | None:
        await authenticate(context)
        return cast(UnsetType, UNSET)  # acknowledged without a payload

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def run(
        self,
        request: Request | WebSocket,
        context: GalleryContext = UNSET,
        root_value: Any = UNSET,
    ) -> Any:
        if self.is_websocket_request(request):
            return await super().run(request, context, root_value)
        assert isinstance(context, GalleryContext)
        return await self.answer(cast(Request, request), context)

    async def answer(self, request: Request, context: GalleryContext) -> Response:
        if self.graphql_ide and _asks_for_the_ide(request):
            return HTMLResponse(graphiql_html())
        media = negotiate(request.headers.get("accept"))
        try:
            if media is None:
                raise not_acceptable()
            params = await read_params(request)
            document = self.documents.document(params)
            result = await self.run_operation(request.method, params, document.text, context)
        except ProtocolError as problem:
            return not_cacheable(request, problem_response(problem, media or ResponseMedia.JSON))
        response = graphql_response(result, media, self.max_response_bytes)
        if context.response is not None:  # headers a resolver set, if any
            response.headers.raw.extend(context.response.headers.raw)
        if (
            response.status_code == 200
            and not result.errors
            and may_cache(request, document.persisted)
        ):
            return cached_answer(request, response, self.get_max_age_seconds)
        return not_cacheable(request, response)

    async def run_operation(
        self, method: str, params: GraphQLParams, text: str, context: GalleryContext
    ) -> ExecutionResult:
        if self.compiled is not None:
            answered = await self.compiled.execute(
                text, params.operation_name, params.variables, context
            )
            if answered is not None:
                return answered
        try:
            return await self.schema.execute(
                text,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=ALLOWED_OPERATIONS[method],
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as refused:
            if refused.operation_type is OperationType.MUTATION:
                raise mutation_by_get() from None
            raise bad_request("subscriptions are not served over HTTP") from None
        except MissingQueryError:
            raise bad_request("no GraphQL document: give it as `query`") from None


async def _method_not_allowed(request: Request) -> Response:
    return error_answer(
        request.headers.get("accept"),
        405,
        ErrorCode.METHOD_NOT_ALLOWED,
        f"{request.method} is not GraphQL over HTTP: send GET (queries) or POST",
        headers={"Allow": "GET, POST"},
    )


def _asks_for_the_ide(request: Request) -> bool:
    """A browser opening the endpoint: GraphiQL (in development) rather than an error."""
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "extensions" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )
