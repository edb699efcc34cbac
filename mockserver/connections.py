"""Connection deadlines: uvicorn's HTTP protocol with a deadline on each request head.

uvicorn closes a keep-alive connection idle after an answer (``timeout_keep_alive``), but any byte
received stops that timer, and nothing times a connection before its first request: a client that
opens connections and never writes, or trickles its request line and headers a byte at a time, holds
them for ever. Here every connection must deliver a complete request head within ``head_seconds`` of
opening, and of each answer; otherwise it is closed. The body has its own deadline in the ASGI app
(``mockserver.http.BODY_SECONDS``), and the answer is not timed.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.http import HEAD_SECONDS


class HeadDeadlineProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that closes a connection whose next request head is late."""

    head_seconds: float = HEAD_SECONDS
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already had its head: its cycle started, and the next head is awaited
        # after its answer.
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._stop_waiting()
        self._head_deadline = self.loop.call_later(self.head_seconds, self._head_late)

    def _stop_waiting(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def with_head_deadline(seconds: float) -> type[HeadDeadlineProtocol]:
    """The protocol class for uvicorn's ``http`` setting, with ``seconds`` as the head deadline."""
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_seconds": seconds})
