"""Which browser pages may call the mock (CORS), as ASGI middleware in front of the whole app.

On a loopback bind a page from any loopback origin (``localhost``, ``127.0.0.1``, ``[::1]``,
any port, http or https) is allowed with no flag: a frontend dev server on another port is
the common case, and a page the developer's own machine serves is no stranger. ``--cors-origin``
adds origins (``*``: any). A refused origin is logged once, with the flag that would allow it.

CORS only decides whether a page may *read* an answer. The control API's own guard (its Host
and Origin check, ``ControlSettings.refusal``) still refuses calls from other sites.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("wacr-mock")

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
# Headers a page's script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = (
    "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, Retry-After, X-Mock-Fault, Preference-Applied"
)
PREFLIGHT_MAX_AGE = "600"
MAX_LOGGED_ORIGINS = 100


def is_loopback_origin(origin: str) -> bool:
    """``http(s)://`` on localhost, 127.0.0.1 or [::1], any port."""
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in LOOPBACK_HOSTS


@dataclass
class CorsPolicy:
    """The origins a page may come from: loopback ones (``loopback``), the given ones, or any (``*``)."""

    loopback: bool = True
    origins: frozenset[str] = frozenset()
    refused_seen: set[str] = field(default_factory=set)

    @property
    def any_origin(self) -> bool:
        return "*" in self.origins

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins or (self.loopback and is_loopback_origin(origin))

    def describe(self) -> str:
        """The banner's line: who may call from a browser."""
        if self.any_origin:
            return "pages from any origin (--cors-origin '*')"
        parts = (
            ["pages from any loopback origin (localhost, 127.0.0.1, [::1], any port)"]
            if self.loopback
            else []
        )
        parts += sorted(self.origins)
        if not parts:
            return "no browser page (bound beyond loopback); allow one with --cors-origin ORIGIN"
        return ", ".join(parts) + "; more with --cors-origin ORIGIN"

    def note_refusal(self, origin: str, what: str) -> None:
        """Logs a refused origin once, naming the flag that would let it in."""
        if origin in self.refused_seen or len(self.refused_seen) >= MAX_LOGGED_ORIGINS:
            return  # each origin once; a page inventing origins cannot grow the memory or the log
        self.refused_seen.add(origin)
        log.warning(
            "browser %s from %s refused by CORS: start the mock with --cors-origin %s to allow it",
            what,
            origin,
            origin,
        )


class CorsMiddleware:
    """Answers preflights itself and adds ``Access-Control-*`` headers to the answers of allowed pages."""

    def __init__(self, app: ASGIApp, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        allowed = self.policy.allows(origin)
        if not allowed:
            self.policy.note_refusal(origin, "preflight" if preflight else "request")
        if preflight:
            await self.preflight(origin, allowed, headers, send)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *[
                        (k, v)
                        for k, v in message.get("headers", [])
                        if not k.lower().startswith(b"access-control-")
                    ],
                    *self.cors_headers(origin),
                ]
            await send(message)

        await self.app(scope, receive, with_cors)

    def cors_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
            (b"vary", b"Origin"),
        ]

    async def preflight(self, origin: str, allowed: bool, headers: dict[str, str], send: Send) -> None:
        if allowed:
            requested = headers.get("access-control-request-headers", "")
            status, body = 204, b""
            extra = [
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", requested.encode("latin-1")),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
                *self.cors_headers(origin),
            ]
        else:
            status = 403
            body = f"CORS: pages from {origin} are not allowed; start the mock with --cors-origin {origin}".encode(
                "utf-8", "replace"
            )
            extra = [(b"content-type", b"text/plain; charset=utf-8"), (b"vary", b"Origin")]
        extra.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": body})
