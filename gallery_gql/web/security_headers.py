"""Browser-facing hardening headers on every response.

Every response: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
`X-Frame-Options: DENY` and a Content-Security-Policy with `frame-ancestors 'none'` (no
page of ours can be framed, so no clickjacking). HTML pages get the policy they need; any
other response (JSON, scripts, styles) `default-src 'none'`, so a response a browser is
tricked into rendering runs nothing. GraphiQL (development only) needs inline styles
(React sets them) and its one inline script, allowed by hash.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
GALLERY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    # Thumbnails are paths on this host or https URLs of an image store.
    "img-src 'self' data: https:; " + _COMMON
)
NON_HTML_POLICY = "default-src 'none'; " + _COMMON
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_POLICY = b"content-security-policy"
_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
RawHeaders = list[tuple[bytes, bytes]]


def graphiql_policy(page: str) -> str:
    """GraphiQL's policy: its vendored assets, inline styles, and the page's own inline
    scripts by their SHA-256 (so an injected script still cannot run)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; font-src 'self' data:; "
        "worker-src 'self' blob:; " + _COMMON
    )


class HardeningHeaders:
    """The headers a response gets unless it sets them itself. `html_policies`: (path,
    policy) pairs for the HTML pages; other HTML gets the gallery's policy."""

    def __init__(self, html_policies: Iterable[tuple[str, str]] = ()) -> None:
        self.html_policies = {path: policy.encode() for path, policy in html_policies}
        self.gallery_policy = GALLERY_POLICY.encode()
        self.non_html_policy = NON_HTML_POLICY.encode()

    def add_to(self, headers: RawHeaders, path: str) -> None:
        """Appends to a response's raw headers (lower-case names) those it lacks."""
        present = {name for name, _ in headers}
        content_type = next((value for name, value in headers if name == b"content-type"), b"")
        if content_type.startswith(b"text/html"):
            policy = self.html_policies.get(path, self.gallery_policy)
        else:
            policy = self.non_html_policy
        if _POLICY not in present:
            headers.append((_POLICY, policy))
        headers.extend(header for header in _FIXED if header[0] not in present)


class SecurityHeaders:
    """The middleware: `HardeningHeaders` on every HTTP response."""

    def __init__(self, app: ASGIApp, html_policies: Iterable[tuple[str, str]] = ()) -> None:
        self.app = app
        self.headers = HardeningHeaders(html_policies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message["headers"] = list(message.get("headers", ()))
                self.headers.add_to(headers, scope["path"])
            await send(message)

        await self.app(scope, receive, send_with_headers)
