"""Every request a check sends, D14 control calls included, with its answer: the sequence a failure replays.

A ``RecordingTransport`` sits under the suite's httpx client and writes each exchange into the run's
``Journal`` as it happens, so a request body sent as a stream (a multipart upload from a file) is kept as
it goes out, up to ``BODY_KEPT`` bytes, instead of being asked for afterwards (``httpx.RequestNotRead``).

Within a Hypothesis test only the latest example's exchanges are kept, beside those made outside any
example (fixtures: a tenant, its records). A failing test's latest example is the failing one: Hypothesis
runs it once more, last, to report it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
from hypothesis import currently_in_test_context
from hypothesis.control import current_build_context

BODY_KEPT = 64 * 1024  # a request body larger than this is described, not kept (an upload-limit check's file)
ANSWER_KEPT = 8 * 1024
MAX_STEPS = 5000  # past this a check's further exchanges are counted, not kept


@dataclass
class Step:
    """One exchange as sent and answered. ``body`` is text, or base64 when ``body_encoding`` says so."""

    method: str
    url: str
    headers: dict[str, str]
    body: str = ""
    body_encoding: str = "utf-8"
    body_bytes: int = 0
    status: int = 0
    answer: str = ""
    answer_bytes: int = 0
    example: int = 0  # 0: outside any Hypothesis example; else which example sent it
    _body: bytearray = field(default_factory=bytearray, repr=False)
    _answer: bytearray = field(default_factory=bytearray, repr=False)

    @property
    def body_complete(self) -> bool:
        return self.body_bytes <= BODY_KEPT

    def sent(self, chunk: bytes) -> None:
        self.body_bytes += len(chunk)
        room = BODY_KEPT - len(self._body)
        if room > 0:
            self._body += chunk[:room]
            self.body, self.body_encoding = text_of(bytes(self._body))

    def answered(self, chunk: bytes) -> None:
        self.answer_bytes += len(chunk)
        room = ANSWER_KEPT - len(self._answer)
        if room > 0:
            self._answer += chunk[:room]
            self.answer = bytes(self._answer).decode("utf-8", "replace")

    def body_content(self) -> bytes:
        return base64.b64decode(self.body) if self.body_encoding == "base64" else self.body.encode()


def text_of(content: bytes) -> tuple[str, str]:
    """``content`` as text when it is UTF-8, else as base64 (a binary upload): either way it can be resent."""
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(content).decode("ascii"), "base64"


class Journal:
    """The exchanges of the running check; ``clear()`` before each check."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.dropped = 0
        self._example: object | None = None
        self._examples = 0

    def clear(self) -> None:
        self.steps, self.dropped, self._example = [], 0, None

    def begin(self, request: httpx.Request) -> Step | None:
        example = current_build_context() if currently_in_test_context() else None
        if example is not None and example is not self._example:
            # A new example: the previous one's exchanges are not part of this one's failure.
            self._example, self._examples = example, self._examples + 1
            self.steps = [step for step in self.steps if not step.example]
        if len(self.steps) >= MAX_STEPS:
            self.dropped += 1
            return None
        headers = {name.lower(): value for name, value in request.headers.items()}
        step = Step(request.method, str(request.url), headers, example=self._examples if example else 0)
        self.steps.append(step)
        return step


class Tee(httpx.SyncByteStream):
    """A body as it streams (a request sent from a file, an answer read by the client), each chunk handed to
    ``keep`` on its way: kept whole up to its limit, counted past it."""

    def __init__(self, inner: httpx.SyncByteStream, keep: Callable[[bytes], None]) -> None:
        self.inner, self.keep = inner, keep

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.keep(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class RecordingTransport(httpx.BaseTransport):
    """Wraps a transport so that every exchange through it lands in ``journal``."""

    def __init__(self, inner: httpx.BaseTransport, journal: Journal) -> None:
        self.inner, self.journal = inner, journal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        step = self.journal.begin(request)
        if step is None:
            return self.inner.handle_request(request)
        try:
            step.sent(request.content)
        except httpx.RequestNotRead:  # a stream (multipart with a file): kept as it is sent
            assert isinstance(request.stream, httpx.SyncByteStream)
            request.stream = Tee(request.stream, step.sent)
        try:
            response = self.inner.handle_request(request)
        except httpx.HTTPError as exc:
            step.answer = f"(no answer: {type(exc).__name__}: {exc})"
            raise
        step.status = response.status_code
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = Tee(response.stream, step.answered)
        return response

    def close(self) -> None:
        self.inner.close()
