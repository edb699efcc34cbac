"""``wacr-mock proxy --upstream URL``: a validating proxy in front of a real WA.cr server.

A frontend points at the proxy instead of the server. Every API call is forwarded unchanged
(method, path, query, headers, body; the answer likewise) and both sides are judged against the
spec (``mockserver/conformance.py``). Violations go in the journal (``GET /__mock__/requests``,
the dashboard at ``/__mock__/``) and the log, and are counted when the proxy stops; headers and
bodies in the journal have their secrets masked, and the log holds no header or body at all.

With ``--fallback-to-mock``, an operation the upstream has not built yet (it answers 501, or a
404 that is not one of the operation's documented 404s) is answered by the stateful mock, and the
journal says which side answered.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.types import Receive, Scope, Send

from mockserver import journal
from mockserver.asgi import MockApp, read_body
from mockserver.clock import iso
from mockserver.conformance import LEVELS, ResponseJudge, request_problems
from mockserver.cors import CorsMiddleware
from mockserver.http import API_PREFIX, CoreRequest, body_limit
from mockserver.routing import Router
from mockserver.spec import BASE_PATH, Operation

log = logging.getLogger("wacr-mock")

# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection; the rest passes through as it came.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "host",
        "content-length",
    }
)
UNBUILT = 501
UPSTREAM_TIMEOUT = 60.0


@dataclass
class Tally:
    """What the proxy saw, for the closing line."""

    requests: int = 0
    with_violations: int = 0
    violations: int = 0
    by_mock: int = 0
    problems: dict[str, int] = field(default_factory=dict)

    def add(self, problems: list[str], by_mock: bool) -> None:
        self.requests += 1
        self.by_mock += by_mock
        if problems:
            self.with_violations += 1
            self.violations += len(problems)
            for problem in problems:
                self.problems[problem] = self.problems.get(problem, 0) + 1

    def summary(self) -> str:
        line = (
            f"wacr-mock proxy: {self.requests} requests, {self.violations} violations "
            f"in {self.with_violations} requests, {self.by_mock} answered by the mock"
        )
        worst = sorted(self.problems.items(), key=lambda item: -item[1])[:10]
        return "\n".join([line, *(f"  {count} x {problem}" for problem, count in worst)])


class ProxyApp:
    """ASGI: ``/api/...`` to the upstream (judged), everything else to the mock app (control API,
    dashboard, docs)."""

    def __init__(self, mock_app: MockApp, upstream: str, level: str = "all", fallback: bool = False) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        self.mock_app = mock_app
        self.core = mock_app.core
        self.upstream = upstream.rstrip("/")
        self.level = level
        self.fallback = fallback
        self.router = Router(list(self.core.spec.operations.values()))
        self.judge = ResponseJudge(self.core.spec, level)
        self.tally = Tally()
        self.cors = mock_app.cors
        self.app = CorsMiddleware(self.dispatch, mock_app.cors)
        self.core.on_close.append(lambda: print(self.tally.summary(), flush=True))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            await self.mock_app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        lower = {k.lower(): v for k, v in headers.items()}
        body, _ = await read_body(receive, body_limit(lower))
        query = scope.get("query_string", b"").decode("latin-1")
        started = time.perf_counter()
        status, answer_headers, payload, answered_by = await self.forward(
            scope["method"], path, query, headers, body
        )
        op = self.operation(scope["method"], path)
        problems = self.problems(op, query, lower, body, status, answer_headers, payload)
        self.record(
            scope["method"],
            path,
            query,
            lower,
            body,
            op,
            status,
            answer_headers,
            payload,
            answered_by,
            problems,
        )
        log.info(
            "%s %s %d %.1fms %s by %s, %d violations",
            scope["method"],
            path,
            status,
            (time.perf_counter() - started) * 1000,
            op.operation_id if op else "-",
            answered_by,
            len(problems),
        )
        for problem in problems:
            log.warning("violation in %s %s: %s", scope["method"], path, problem)
        raw = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in answer_headers.items()
            if k.lower() not in HOP_BY_HOP
        ]
        raw.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})

    def operation(self, method: str, path: str) -> Operation | None:
        if not (path == BASE_PATH or path.startswith(BASE_PATH + "/")):
            return None
        match = self.router.match(path[len(BASE_PATH) :] or "/")
        return match.operation(method) if match else None

    async def forward(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes, str]:
        """The upstream's answer, or the mock's where the upstream has not built the operation."""
        target = (
            self.upstream + path[len(BASE_PATH) :] if path.startswith(BASE_PATH) else self.upstream + path
        )
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT) as client:
                request = client.build_request(
                    method, target + (f"?{query}" if query else ""), headers=sent, content=body
                )
                response = await client.send(request, stream=True)
                payload = b"".join([chunk async for chunk in response.aiter_raw()])
                await response.aclose()
        except httpx.HTTPError as exc:
            message = f"the upstream {self.upstream} did not answer: {type(exc).__name__}"
            log.error("%s %s: %s", method, path, message)
            return 502, {"content-type": "application/json"}, json.dumps({"error": message}).encode(), "proxy"
        answer_headers = dict(response.headers.multi_items())
        op = self.operation(method, path)
        if self.fallback and op is not None and self.unbuilt(op, response.status_code, payload):
            mock = self.core.handle(
                CoreRequest.received(
                    method, path, query, {k.lower(): v for k, v in headers.items()}, body, self.upstream
                )
            )
            with self.core.lock:  # the proxy keeps one journal entry per call, saying who answered
                if self.core.journal and self.core.journal[-1].get("request_id") == mock.headers.get(
                    "X-Request-Id"
                ):
                    self.core.journal.pop()
            mock_headers = {k: str(v) for k, v in mock.headers.items()}
            return (
                mock.status,
                mock_headers,
                mock.encoded(),
                f"mock (the upstream answered {response.status_code})",
            )
        return response.status_code, answer_headers, payload, "upstream"

    def unbuilt(self, op: Operation, status: int, payload: bytes) -> bool:
        """501, or a 404 that is not a documented 404 of the operation (its route is missing upstream)."""
        if status == UNBUILT:
            return True
        if status != 404:
            return False
        body = decoded(payload)
        error = found if isinstance(body, dict) and isinstance(found := body.get("error"), dict) else {}
        documented = {
            e.get("message") or e.get("when")
            for e in op.raw.get("responses", {}).get("404", {}).get("x-error-codes", ())
        }
        not_found = op.extensions.path_record.not_found if op.extensions.path_record else None
        return error.get("message") not in documented | {not_found} - {None} and (
            not isinstance(body, dict) or body.get("message") not in documented | {not_found} - {None}
        )

    def problems(
        self,
        op: Operation | None,
        query: str,
        headers: dict,
        body: bytes,
        status: int,
        answer_headers: dict,
        payload: bytes,
    ) -> list[str]:
        if op is None:
            return (
                []
                if status in (404, 405)
                else [f"response: {status} for a path and method the spec does not have"]
            )
        pairs = parse_qsl(query, keep_blank_values=True)
        found = request_problems(op, self.core.spec, pairs, headers, body, self.level)
        return found + self.judge.problems(op, status, answer_headers, decoded(payload))

    def record(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict,
        body: bytes,
        op: Operation | None,
        status: int,
        answer_headers: dict,
        payload: bytes,
        answered_by: str,
        problems: list[str],
    ) -> None:
        self.tally.add(problems, answered_by.startswith("mock"))
        lower = {k.lower(): v for k, v in answer_headers.items()}
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "operation_id": op.operation_id if op else None,
            "tenant_id": None,
            "status": status,
            "request_id": lower.get("x-request-id") or f"proxy-{uuid.uuid4()}",
            "at": iso(time.time()),
            "answered_by": answered_by,
            "violations": problems,
            "detail": journal.detail(
                method, headers, body, op, status, lower, decoded(payload, raw_text=True)
            ),
        }
        with self.core.lock:
            self.core.journal.append(entry)


def decoded(payload: bytes, raw_text: bool = False) -> Any:
    """A JSON body as a value (None when it is not JSON, or its bytes with ``raw_text``)."""
    try:
        return json.loads(payload) if payload.strip() else None
    except (ValueError, UnicodeDecodeError):
        return payload if raw_text else None
