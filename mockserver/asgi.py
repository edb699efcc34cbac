"""The ASGI adapter: uvicorn (or any ASGI server) in front of a ``MockCore``.

API and control calls go straight to the core; the browsable docs (``/docs``) and
the raw spec (``/openapi.yaml``) come from Starlette, CORS from ``mockserver/cors.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import swagger_ui_bundle
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

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
)
from mockserver.spec import default_spec_path


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Reads at most ``limit`` bytes; the flag says the body was larger (it is drained, not kept)."""
    chunks, size, too_large = [], 0, False
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
    ) -> None:
        """``cors``: who may call from a browser; by default loopback pages and ``cors_origins``."""
        self.core = core
        self.cors = cors or CorsPolicy(origins=frozenset(cors_origins or ()))
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
        body, too_large = await read_body(receive, body_limit(headers))
        host = headers.get("host") or "127.0.0.1"
        request = CoreRequest(
            method=scope["method"],
            path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
            body_too_large=too_large,
            origin=f"{scope.get('scheme', 'http')}://{host}",
        )
        started = time.perf_counter()
        response = self.core.handle(request)
        log_request(self.core, request, response, time.perf_counter() - started)
        if response.delay_seconds:
            await asyncio.sleep(response.delay_seconds)
        payload = response.encoded()
        raw_headers = [(k.lower().encode(), str(v).encode()) for k, v in response.headers.items()]
        raw_headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})


REQUEST_LOG = logging.getLogger("wacr-mock")
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
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    REQUEST_LOG.info("%s %s %d %.1fms %s", request.method, target, response.status, seconds * 1000, operation)
    if REQUEST_LOG.isEnabledFor(logging.DEBUG):
        REQUEST_LOG.debug("request body: %s", request.body[:BODY_LOG_LIMIT].decode("utf-8", "replace"))
        REQUEST_LOG.debug("response body: %s", response.encoded()[:BODY_LOG_LIMIT].decode("utf-8", "replace"))


def create_app(
    core: MockCore | None = None, cors_origins: list[str] | None = None, validate_responses: bool = False
) -> MockApp:
    return MockApp(core or MockCore(validate_responses=validate_responses), cors_origins)
