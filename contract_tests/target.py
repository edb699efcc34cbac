"""The implementation under test, as the suite sees it: an HTTP API and, maybe, a control API.

The suite never imports the mock's internals to judge behaviour; the default
in-process target only swaps the network for an httpx transport.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from contract_tests.journal import Journal, RecordingTransport

RETRY_LIMIT = 3
# Every answer is read within these bounds, so a hostile target (an endless body, one byte every few
# seconds, 50 MB answers) gets a verdict instead of a hang or an exhausted memory. No WA.cr answer comes
# near them: the largest, a page of 100 records, is some 100 KB.
MAX_ANSWER_BYTES = 8 * 2**20
ANSWER_SECONDS = 30.0
RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
PER_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


@dataclass
class Traffic:
    """What the suite sent and how long it waited, for the run's closing line."""

    requests: int = 0
    paced_seconds: float = 0.0
    retry_seconds: float = 0.0

    def add(self, other: dict) -> None:
        self.requests += other.get("requests", 0)
        self.paced_seconds += other.get("paced_seconds", 0.0)
        self.retry_seconds += other.get("retry_seconds", 0.0)


class Pacer:
    """Keeps the suite under ``calls`` requests per ``per_seconds`` (a sliding window, like D11's).

    ``Pacer.parse("60/m")``; the wait happens before a request that would exceed the limit.
    """

    def __init__(
        self,
        calls: int,
        per_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls < 1:
            raise ValueError("a rate limit allows at least one call")
        self.calls, self.per_seconds = calls, per_seconds
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()

    @classmethod
    def parse(cls, text: str) -> Pacer:
        match = RATE.match(text)
        if not match:
            raise ValueError(f"--rate-limit {text!r}: expected calls per unit, e.g. 60/m, 2/s or 1000/h")
        return cls(int(match.group(1)), PER_SECONDS[match.group(2)])

    def wait(self) -> float:
        """Blocks until one more request fits in the window; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            while self.sent and self.sent[0] <= now - self.per_seconds:
                self.sent.popleft()
            if len(self.sent) < self.calls:
                self.sent.append(now)
                return waited
            pause = self.sent[0] + self.per_seconds - now
            self.sleep(pause)
            waited += pause


class AnswerOutOfBounds(httpx.ReadError):
    """The target's answer went past MAX_ANSWER_BYTES or its time limit: nothing a WA.cr server sends."""


class BoundedStream(httpx.SyncByteStream):
    """An answer's body, cut off once it passes ``max_bytes`` or its ``deadline`` (a total, not per read)."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        request: httpx.Request,
        max_bytes: int,
        seconds: float,
        started: float,
    ):
        self.inner, self.request = inner, request
        self.max_bytes, self.seconds = max_bytes, seconds
        self.deadline = started + seconds

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self.inner:
            size += len(chunk)
            if size > self.max_bytes:
                raise AnswerOutOfBounds(
                    f"{self.request.method} {self.request.url.path}: the answer passed "
                    f"{self.max_bytes:,} bytes (no WA.cr answer is that long)",
                    request=self.request,
                )
            if time.monotonic() > self.deadline:
                raise AnswerOutOfBounds(
                    f"{self.request.method} {self.request.url.path}: the answer was not complete within "
                    f"{self.seconds:g} s (--answer-timeout); {size:,} bytes had come",
                    request=self.request,
                )
            yield chunk

    def close(self) -> None:
        self.inner.close()


class BoundedTransport(httpx.BaseTransport):
    """Wraps a transport so that every answer is read within ``max_bytes`` and ``seconds`` in total."""

    def __init__(self, inner: httpx.BaseTransport, seconds: float, max_bytes: int = MAX_ANSWER_BYTES):
        self.inner, self.seconds, self.max_bytes = inner, seconds, max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        response = self.inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = BoundedStream(response.stream, request, self.max_bytes, self.seconds, started)
        return response

    def close(self) -> None:
        self.inner.close()


def bounded_client(
    transport: httpx.BaseTransport | None = None, seconds: float = ANSWER_SECONDS
) -> httpx.Client:
    """An httpx client whose every answer is bounded in bytes and total time (see MAX_ANSWER_BYTES).

    A connection, or a wait for the next bytes, times out after ``seconds`` too; no redirect is followed.
    """
    inner = transport or httpx.HTTPTransport()
    return httpx.Client(transport=BoundedTransport(inner, seconds), timeout=seconds)


@dataclass
class Target:
    """Where requests go. ``base_url`` includes ``/api/v2`` (D1)."""

    base_url: str
    transport: httpx.BaseTransport | None = None
    honour_retry_after: bool = False
    on_request: Callable[[str, str, httpx.Response], None] | None = None
    pacer: Pacer | None = None
    answer_seconds: float = ANSWER_SECONDS
    traffic: Traffic = field(default_factory=Traffic)
    journal: Journal | None = None  # where every exchange is written, control calls included
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def root_url(self) -> str:
        return self.base_url.rstrip("/").removesuffix("/api/v2")

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            inner = self.transport or httpx.HTTPTransport()
            recorded = RecordingTransport(inner, self.journal) if self.journal is not None else inner
            self._client = bounded_client(recorded, self.answer_seconds)
        return self._client

    def request(
        self, method: str, path: str, token: str | None = None, honour_429: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """One API call. ``path`` is relative to the base URL (``/contacts``).

        Against a live server a 429 is waited out (Retry-After) unless the
        caller tests rate limits itself (``honour_429=False``).
        """
        headers = dict(kwargs.pop("headers", None) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = self.base_url.rstrip("/") + path
        for _ in range(RETRY_LIMIT):
            if self.pacer is not None:
                self.traffic.paced_seconds += self.pacer.wait()
            response = self.client.request(method, url, headers=headers, **kwargs)
            self.traffic.requests += 1
            if response.status_code != 429 or not (honour_429 and self.honour_retry_after):
                break
            pause = min(retry_after_seconds(response), 60)
            time.sleep(pause)
            self.traffic.retry_seconds += pause
        if self.on_request is not None:
            self.on_request(method, path, response)
        return response

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def retry_after_seconds(response: httpx.Response) -> int:
    try:
        return max(int(response.headers.get("Retry-After", "1")), 1)
    except ValueError:
        return 1


@dataclass
class TenantHandle:
    """A tenant the suite may use: its full-scope token and, with control, its id."""

    token: str
    tenant_id: int | None = None
    default_source_id: int | None = None
    default_status_id: int | None = None


class NotWacr(Exception):
    """The target answered in a way no WA.cr server (or D14 control API) does: the run cannot judge it."""


class Control:
    """The D14 control calls, and nothing more: the suite relies on no other mock feature."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def _call(self, method: str, path: str, *fields: str, **kwargs: Any) -> Any:
        """The call's JSON answer; ``fields`` it must carry, or the target is no D14 control API."""
        response = self.target.client.request(method, self.target.root_url + "/__mock__" + path, **kwargs)
        if response.status_code != 200:
            raise AssertionError(
                f"control call {method} {path} answered {response.status_code}: {response.text}"
            )
        try:
            data = response.json()
        except ValueError:
            data = None
        if fields and not (isinstance(data, dict) and all(name in data for name in fields)):
            raise NotWacr(
                f"the control API answered {method} /__mock__{path} with {response.text[:200]!r}, "
                f"which lacks {', '.join(fields)} (D14): not a WA.cr mock's control API"
            )
        return data

    @staticmethod
    def available(target: Target) -> bool:
        """Whether the target answers D14's health call: HTTP 200 with ``"status": "ok"``."""
        try:
            response = target.client.get(target.root_url + "/__mock__/health")
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return False
        return response.status_code == 200 and isinstance(body, dict) and body.get("status") == "ok"

    def new_tenant(self, **options: Any) -> TenantHandle:
        fields = ("token", "tenant_id", "default_source_id", "default_status_id")
        data = self._call("POST", "/tenants", *fields, json=options)
        return TenantHandle(*(data[name] for name in fields))

    def new_token(self, tenant_id: int, scopes: list[str], rate_limit_per_minute: int | None = None) -> str:
        body: dict[str, Any] = {"scopes": scopes}
        if rate_limit_per_minute is not None:
            body["rate_limit_per_minute"] = rate_limit_per_minute
        return self._call("POST", f"/tenants/{tenant_id}/tokens", "token", json=body)["token"]

    def move_clock(self, tenant_id: int, **change: Any) -> dict:
        return self._call("POST", "/clock", json={"tenant_id": tenant_id, **change})

    def set_opt_out(self, contact_id: int, opted_out: bool, tenant_id: int | None = None) -> dict:
        """D14's opt-out call. ``tenant_id`` travels as an extra field: ids may repeat across tenants (D19),
        and a D14 target that keys contacts by id alone ignores it."""
        body: dict[str, Any] = {"is_opted_out": opted_out}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        return self._call("PATCH", f"/contacts/{contact_id}", json=body)

    def peek_otp(self, tenant_id: int, phone: str, purpose: str = "authentication") -> dict | None:
        response = self.target.client.get(
            self.target.root_url + "/__mock__/otps",
            params={"tenant_id": tenant_id, "phone": phone, "purpose": purpose},
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()


PAGE_SIZE = 100  # the documented maximum of per_page


def list_items(body: Any) -> list[dict]:
    """The items of a list answer. D3 puts them in ``data``; the docs do not say where they sit, so a documented
    read also finds them where a paginator nests them (``data.data``, ``data.items``: the one list in ``data``)."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list):
        return data
    nested = [value for value in data.values() if isinstance(value, list)] if isinstance(data, dict) else []
    assert len(nested) == 1, f"no list of items under data: {body}"
    return nested[0]


class Api:
    """A target bound to one token: ``api.post("/contacts", json=...)``."""

    def __init__(self, target: Target, token: str) -> None:
        self.target = target
        self.token = token

    def request(self, method: str, path: str, **kwargs):
        return self.target.request(method, path, token=kwargs.pop("token", self.token), **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """The bodies of a list's pages, asked for with the documented ``page`` and ``per_page`` only: a page
        shorter than asked is the last (so no D3 meta is needed)."""
        for page in range(1, 10_000):
            response = self.get(path, params={**(params or {}), "page": page, "per_page": PAGE_SIZE})
            assert response.status_code == 200, (
                f"GET {path} {params or ''} page {page}: {response.status_code} {response.text}"
            )
            body = response.json()
            yield body
            if len(list_items(body)) < PAGE_SIZE:
                return
        raise AssertionError(f"GET {path} never ends")

    def list_all(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a list operation, page by page."""
        return [item for body in self.pages(path, params) for item in list_items(body)]
