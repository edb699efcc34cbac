"""httpx transports that answer from an in-process ``MockCore`` (no socket, no server)."""

from __future__ import annotations

import asyncio
import time

import httpx

from mockserver.core import MockCore
from mockserver.http import CoreRequest, CoreResponse


def to_core(request: httpx.Request, body: bytes) -> CoreRequest:
    url = request.url
    return CoreRequest.received(
        method=request.method,
        path=url.path,
        query_string=url.query.decode("latin-1"),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        origin=f"{url.scheme}://{url.netloc.decode('latin-1')}",
    )


def to_response(request: httpx.Request, answer: CoreResponse) -> httpx.Response:
    return httpx.Response(answer.status, headers=answer.headers, content=answer.encoded(), request=request)


def to_httpx(core: MockCore, request: httpx.Request, body: bytes) -> httpx.Response:
    """A synchronous answer; an injected delay blocks the calling thread, as a slow server would."""
    answer = core.handle(to_core(request, body))
    if answer.delay_seconds:
        time.sleep(answer.delay_seconds)
    return to_response(request, answer)


async def to_httpx_async(core: MockCore, request: httpx.Request, body: bytes) -> httpx.Response:
    """The same answer for async clients; an injected delay waits without blocking the event loop."""
    answer = core.handle(to_core(request, body))
    if answer.delay_seconds:
        await asyncio.sleep(answer.delay_seconds)
    return to_response(request, answer)


class MockTransport(httpx.BaseTransport):
    def __init__(self, core: MockCore | None = None) -> None:
        self.core = core or MockCore()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return to_httpx(self.core, request, request.read())


class AsyncMockTransport(httpx.AsyncBaseTransport):
    def __init__(self, core: MockCore | None = None) -> None:
        self.core = core or MockCore()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await to_httpx_async(self.core, request, await request.aread())
