"""httpx transports that answer from an in-process ``MockCore`` (no socket, no server)."""

from __future__ import annotations

import time

import httpx

from mockserver.core import JSON_LIMIT, MULTIPART_LIMIT, CoreRequest, MockCore


def to_core(request: httpx.Request, body: bytes) -> CoreRequest:
    headers = {k.lower(): v for k, v in request.headers.items()}
    limit = MULTIPART_LIMIT if headers.get("content-type", "").startswith("multipart/") else JSON_LIMIT
    url = request.url
    return CoreRequest(
        method=request.method,
        path=url.path,
        query_string=url.query.decode("latin-1"),
        headers=headers,
        body=body if len(body) <= limit else b"",
        body_too_large=len(body) > limit,
        origin=f"{url.scheme}://{url.netloc.decode('latin-1')}",
    )


def to_httpx(core: MockCore, request: httpx.Request, body: bytes) -> httpx.Response:
    answer = core.handle(to_core(request, body))
    if answer.delay_seconds:
        time.sleep(answer.delay_seconds)
    return httpx.Response(answer.status, headers=answer.headers, content=answer.encoded(), request=request)


class MockTransport(httpx.BaseTransport):
    def __init__(self, core: MockCore | None = None) -> None:
        self.core = core or MockCore()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return to_httpx(self.core, request, request.read())


class AsyncMockTransport(httpx.AsyncBaseTransport):
    def __init__(self, core: MockCore | None = None) -> None:
        self.core = core or MockCore()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return to_httpx(self.core, request, await request.aread())
