"""The HTTP route of `/graphql`, as a plain Starlette endpoint.

Strawberry's router reaches `GalleryGraphQLRouter.answer` through FastAPI's route and
dependency machinery (the context getter as a yield dependency, strawberry's own
dependency around it): solving them was a seventh of a grid page's CPU in the served app
(docs/benchmarks.md, "Request cost"). This endpoint, routed before strawberry's, builds
the same context and asks the same `answer`; the app's exception handlers still see
what the context getter raises (an invalid token, a database failure). The front
(front.py) calls the same endpoint without the route. WebSockets and the methods
`/graphql` refuses stay with strawberry's router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route

from gallery_gql.api.context import GalleryContext
from gallery_gql.web.graphql_http.router import GalleryGraphQLRouter

ContextGetter = Callable[[HTTPConnection], Awaitable[GalleryContext]]


Endpoint = Callable[[Request], Awaitable[Response]]


def graphql_endpoint(router: GalleryGraphQLRouter, context_getter: ContextGetter) -> Endpoint:
    """The answer to an HTTP request of `/graphql` (the route's, and the front's:
    web/graphql_http/front.py)."""

    async def endpoint(request: Request) -> Response:
        context = await context_getter(request)
        context.request = request
        try:
            return await router.answer(request, context)
        finally:  # the body is encoded: the page's rows can go (Loaders.release)
            context.loaders.release()

    return endpoint


def graphql_route(path: str, endpoint: Endpoint) -> Route:
    route = Route(path, endpoint, methods=["GET", "POST"], include_in_schema=False)
    route.methods = {"GET", "POST"}  # not HEAD, which Starlette adds to GET: 405 as before
    return route
