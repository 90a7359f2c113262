"""A deadline for every GraphQL request: past it the client gets a typed 504 instead of
waiting on a stalled database connection."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gallery_gql.api.errors import ErrorCode
from gallery_gql.web.responses import error_response


class RequestDeadline:
    def __init__(self, app: ASGIApp, seconds: float, path_prefix: str = "/graphql") -> None:
        self.app = app
        self.seconds = seconds
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if started:
                raise
            await too_late(scope)(scope, receive, send)


def too_late(scope: Scope) -> Response:
    """The answer to a request past its deadline that had not started its response."""
    return error_response(
        scope, 504, ErrorCode.TIMEOUT, "the request took too long; try again or narrow it"
    )
