"""The ASGI adapter: uvicorn (or any ASGI server) in front of a ``MockCore``.

API and control calls go straight to the core; the browsable docs (``/docs``) and
the raw spec (``/openapi.yaml``) come from Starlette, CORS from ``mockserver/cors.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import swagger_ui_bundle
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from mockserver import envelopes
from mockserver.core import MockCore
from mockserver.cors import CorsMiddleware, CorsPolicy
from mockserver.dashboard import dashboard_routes, is_dashboard_path
from mockserver.docs_page import docs_page, spec_for_docs
from mockserver.http import (
    CoreRequest,
    CoreResponse,
    body_limit,
    is_control_path,
    is_core_path,
    media_type,
)
from mockserver.spec import default_spec_path
from mockserver.steps import parse_form

# Bounded work per request (F4). A body larger than this is read only once the route and the token
# are known to take it; a multipart body larger than this is parsed in a worker thread, so one big
# upload does not stall every other client; a body still arriving after BODY_SECONDS is cut off.
CHECK_FIRST_BYTES = 64 * 1024
BODY_SECONDS = 30.0


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Reads at most ``limit`` bytes; the flag says the body was larger (it is drained, not kept)."""
    chunks: list[bytes] = []
    size, too_large = 0, False
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
            chunks = []
        elif chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), too_large


class MockApp:
    """ASGI callable: the core for ``/api/v2`` and ``/__mock__``, Starlette for the rest."""

    def __init__(
        self,
        core: MockCore,
        cors_origins: list[str] | None = None,
        spec_path: Path | None = None,
        cors: CorsPolicy | None = None,
        body_seconds: float = BODY_SECONDS,
        public_url: str | None = None,
    ) -> None:
        """``cors``: who may call from a browser; by default loopback pages and ``cors_origins``.
        ``public_url``: the origin links are built on (``--public-url``); by default the address
        the connection came to, never the request's ``Host`` header, which a client chooses."""
        self.core = core
        self.cors = cors or CorsPolicy(origins=frozenset(cors_origins or ()))
        self.body_seconds = body_seconds
        self.public_url = public_url.rstrip("/") if public_url else None
        spec_file = spec_path or default_spec_path()

        async def docs(request: Request) -> HTMLResponse:
            return HTMLResponse(docs_page(f"{request.url.scheme}://{request.headers.get('host', '')}"))

        async def spec(request: Request) -> FileResponse:
            return FileResponse(spec_file, media_type="application/yaml")

        async def docs_spec(request: Request) -> Response:
            text = spec_for_docs(spec_file, request.headers.get("host", ""))
            return Response(text, media_type="application/yaml")

        async def home(request: Request) -> RedirectResponse:
            return RedirectResponse("/docs")

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield
            core.close()  # the server stops: e.g. the state file's last write

        self.site = Starlette(
            lifespan=lifespan,
            routes=[
                Route("/", home),
                Route("/docs", docs),
                Route("/openapi.yaml", spec),
                Route("/docs/openapi.yaml", docs_spec),
                Mount("/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path)),
                *dashboard_routes(core),
            ],
        )
        self.app = CorsMiddleware(self._dispatch, self.cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not is_core_path(path) or is_dashboard_path(path):
            await self.site(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = CoreRequest(
            method=scope["method"],
            path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            origin=self.public_url or bound_origin(scope),
        )
        started = time.perf_counter()
        if large_body(headers) and self.core.refuses_before_body(request):
            # The same answer the full pipeline gives (404, 405, 401), with the body never read.
            response = self.core.handle(request)
            response.headers["Connection"] = "close"
        else:
            try:
                body, too_large = await asyncio.wait_for(
                    read_body(receive, body_limit(headers)), self.body_seconds
                )
            except asyncio.TimeoutError:
                await send_answer(send, body_timeout(self.body_seconds))
                return
            request = dataclasses.replace(request, body=body, body_too_large=too_large)
            if media_type(headers) == "multipart/form-data" and len(body) > CHECK_FIRST_BYTES:
                request.form = await asyncio.to_thread(parse_form, request)
            response = self.core.handle(request)
        log_request(self.core, request, response, time.perf_counter() - started)
        if response.delay_seconds:
            await asyncio.sleep(response.delay_seconds)
        await send_answer(send, response)


def bound_origin(scope: Scope) -> str:
    """``scheme://address:port`` of the socket the request came in on."""
    host, port = scope.get("server") or ("127.0.0.1", 8080)
    host = f"[{host}]" if ":" in str(host) else host
    return f"{scope.get('scheme', 'http')}://{host}" + (f":{port}" if port is not None else "")


def large_body(headers: dict[str, str]) -> bool:
    """A body too large to read before knowing it is wanted (or of unknown length: chunked)."""
    length = headers.get("content-length", "")
    return "transfer-encoding" in headers or (length.isdigit() and int(length) > CHECK_FIRST_BYTES)


def body_timeout(seconds: float) -> CoreResponse:
    """A body still trickling in after ``seconds``: the D4 envelope, and the connection closed."""
    answer = envelopes.error(
        "standard",
        408,
        "REQUEST_TIMEOUT",
        f"The request body did not arrive within {seconds:g} seconds",
        None,
        str(uuid.uuid4()),
        time.time(),
    )
    answer.headers.update({"Content-Type": "application/json", "Connection": "close"})
    return answer


async def send_answer(send: Send, response: CoreResponse) -> None:
    payload = response.encoded()
    raw_headers = [(k.lower().encode(), str(v).encode()) for k, v in response.headers.items()]
    raw_headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


REQUEST_LOG = logging.getLogger("wacr-mock")
# Values never written to the log: tokens (a new tenant's, one sent as ?access_token=) and OTP codes.
SECRET_NAMES = r"token|access_token|code|otp|secret|password"
SECRET_JSON = re.compile(rf'("(?:{SECRET_NAMES})"\s*:\s*)"[^"]*"', re.IGNORECASE)
SECRET_QUERY = re.compile(rf"((?:^|&)(?:{SECRET_NAMES})=)[^&]*", re.IGNORECASE)


def redacted(text: str) -> str:
    """``text`` with the values of secret-looking JSON keys and query names replaced by ``***``."""
    return SECRET_QUERY.sub(r"\1***", SECRET_JSON.sub(r'\1"***"', text))


BODY_LOG_LIMIT = 2000


def log_request(core: MockCore, request: CoreRequest, response: CoreResponse, seconds: float) -> None:
    """One line per request at INFO (method, path, status, time, operation), as Prism and WireMock give;
    the bodies too at DEBUG."""
    if not REQUEST_LOG.isEnabledFor(logging.INFO):
        return
    entry = core.journal[-1] if core.journal else {}
    # handle() ran synchronously just now, so the journal's newest entry is this request's (control calls keep none).
    same = entry.get("request_id") is not None and entry.get("request_id") == response.headers.get(
        "X-Request-Id"
    )
    if same:
        operation = entry.get("operation_id") or "-"
    else:
        operation = "control" if is_control_path(request.path) else "-"
    target = request.path + (f"?{redacted(request.query_string)}" if request.query_string else "")
    REQUEST_LOG.info("%s %s %d %.1fms %s", request.method, target, response.status, seconds * 1000, operation)
    if REQUEST_LOG.isEnabledFor(logging.DEBUG):
        REQUEST_LOG.debug(
            "request body: %s", redacted(request.body[:BODY_LOG_LIMIT].decode("utf-8", "replace"))
        )
        REQUEST_LOG.debug(
            "response body: %s", redacted(response.encoded()[:BODY_LOG_LIMIT].decode("utf-8", "replace"))
        )


def create_app(
    core: MockCore | None = None, cors_origins: list[str] | None = None, validate_responses: bool = False
) -> MockApp:
    return MockApp(core or MockCore(validate_responses=validate_responses), cors_origins)
