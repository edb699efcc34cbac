"""Expectations the checks share: the documented part of an error, and the envelopes of D2, D4, D11, D12.

The documented checks compare the HTTP status and the documented code (a ``code`` anywhere in
the answer: where it sits is D4, which the assumed envelope checks pin down). ``error.message``
is free text and never compared (D17). Comments answer in their own style (D12): no ``error``
object, so only ``success: false`` and a message.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from contract_tests.operations import Operation, is_comments

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
DETAILED_CODES = frozenset(
    {"VALIDATION_ERROR", "FEATURE_LIMIT_EXCEEDED", "INVALID_CODE", "RATE_LIMIT_EXCEEDED"}
)
STATUS_OF = {
    "INVALID_JSON": 400,
    "UNAUTHORIZED": 401,
    "INSUFFICIENT_SCOPE": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "VALIDATION_ERROR": 422,
    "RATE_LIMIT_EXCEEDED": 429,
}


def codes_in(node: Any) -> list[str]:
    """Every string under a key named ``code``, at any depth: the docs give codes, not where they sit (D4 does)."""
    if isinstance(node, list):
        return [code for item in node for code in codes_in(item)]
    if not isinstance(node, dict):
        return []
    found = [value for key, value in node.items() if key == "code" and isinstance(value, str)]
    return found + [code for value in node.values() for code in codes_in(value)]


def expect(response: httpx.Response, op: Operation, status: int, code: str) -> None:
    """The documented part of an error: the status, and the code outside Comments (compared exactly, D10);
    never the wording of a message (D17)."""
    assert response.status_code == status, (
        f"{op.method} {op.path}: expected {status} {code}, got {response.status_code}: {response.text}"
    )
    if is_comments(op):
        return
    found = codes_in(response.json())
    assert code in found, f"{op.operation_id}: expected code {code}, got {found}: {response.text}"


def assert_request_id(response: httpx.Response, body: dict, comments_style: bool) -> None:
    """D2: the X-Request-Id header is a uuid4 equal to meta.request_id; meta.timestamp is second-precision UTC."""
    request_id = response.headers.get("X-Request-Id", "")
    assert UUID4.match(request_id), f"X-Request-Id {request_id!r} is not a uuid4"
    if comments_style:
        assert "meta" not in body, f"Comments answers carry no meta (D12): {body}"
        return
    meta = body["meta"]
    assert meta["request_id"] == request_id, (
        f"meta.request_id {meta['request_id']!r} != X-Request-Id {request_id!r}"
    )
    assert TIMESTAMP.match(meta["timestamp"]), f"meta.timestamp {meta['timestamp']!r} is not ISO 8601 +00:00"


def assert_rate_headers(response: httpx.Response) -> tuple[int, int]:
    """D11: an authenticated answer carries X-RateLimit-Limit and X-RateLimit-Remaining, as integers."""
    limit, remaining = (
        response.headers.get(name, "") for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining")
    )
    assert limit.isdigit() and remaining.isdigit(), (
        f"rate-limit headers missing or not integers: {dict(response.headers)}"
    )
    assert int(remaining) <= int(limit)
    return int(limit), int(remaining)


def assert_no_rate_headers(response: httpx.Response) -> None:
    leaked = [name for name in response.headers if name.lower().startswith("x-ratelimit")]
    assert not leaked, f"a routing error carries rate-limit headers (D6): {leaked}"


def assert_field_messages(details: Any) -> None:
    assert isinstance(details, dict) and details, (
        f"validation details must map fields to messages: {details!r}"
    )
    for name, messages in details.items():
        assert isinstance(messages, list) and messages, f"{name}: {messages!r}"
        assert all(isinstance(m, str) and m for m in messages), f"{name}: {messages!r}"


def assert_error_envelope(
    response: httpx.Response, code: str, comments_style: bool, authenticated: bool
) -> None:
    """D4 (D12 for Comments): the shape every error answer shares."""
    assert response.status_code == STATUS_OF.get(code, response.status_code), response.text
    body = response.json()
    assert body.get("success") is False, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert_request_id(response, body, comments_style)
    if authenticated:
        assert_rate_headers(response)
    if comments_style:
        assert set(body) <= {"success", "message", "errors"}, f"Comments errors are flat (D12): {body}"
        assert ("errors" in body) == (response.status_code == 422), body
        if "errors" in body:
            assert_field_messages(body["errors"])
        return
    error = body["error"]
    assert error["code"] == code and UPPER_SNAKE.match(error["code"]), body
    assert error["message"] == body["message"], f"message must repeat error.message (D4): {body}"
    assert ("details" in error) == (code in DETAILED_CODES), (
        f"details only for {sorted(DETAILED_CODES)} (D4): {body}"
    )
    if code == "VALIDATION_ERROR":
        assert_field_messages(error["details"])


def assert_success_envelope(response: httpx.Response, op: Operation) -> None:
    """D2 (D12 for Comments): success, the operation's message, data, request id, timestamp, rate-limit headers."""
    assert response.status_code == op.success_status, response.text
    body = response.json()
    assert body.get("success") is True, body
    assert isinstance(body.get("message"), str) and body["message"], body
    if str(op.raw.get("x-success-message-provenance", "")).startswith("documented"):
        assert body["message"] == op.success_message, body
    assert "data" in body, body
    assert_request_id(response, body, is_comments(op))
    assert_rate_headers(response)


def assert_routing_error(response: httpx.Response, code: str, comments_style: bool) -> None:
    assert response.status_code == STATUS_OF[code], (
        f"expected {STATUS_OF[code]} {code}: {response.status_code} {response.text}"
    )
    assert_error_envelope(response, code, comments_style, authenticated=False)
    assert_no_rate_headers(response)


def assert_allow(response: httpx.Response, allowed: set[str], sent: str) -> None:
    listed = {m.strip().upper() for m in response.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed <= listed and sent not in listed, (
        f"Allow {listed} must list {sorted(allowed)}, not {sent} (D6)"
    )


def assert_rate_limited(response: httpx.Response, limit: int) -> int:
    """D11/D4: a 429 with Retry-After >= 1, details.retry_after, and the limit headers at zero. Returns Retry-After."""
    assert response.status_code == 429, (
        f"expected 429 after {limit} calls: {response.status_code} {response.text}"
    )
    assert_error_envelope(response, "RATE_LIMIT_EXCEEDED", comments_style=False, authenticated=True)
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit() and int(retry_after) >= 1, f"Retry-After {retry_after!r}"
    details = response.json()["error"]["details"]
    assert isinstance(details.get("retry_after"), int) and details["retry_after"] >= 1, details
    assert abs(details["retry_after"] - int(retry_after)) <= 1, (details, retry_after)
    assert assert_rate_headers(response) == (limit, 0)
    return int(retry_after)


# --- one error answer -------------------------------------------------------------------------------


def describe(response: httpx.Response) -> str:
    """The request and its answer, for an assertion's message."""
    return f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text}"


def expect_error(response: httpx.Response, status: int, code: str, details: dict | None = None) -> dict:
    """The D4 envelope with ``code`` and a message (its wording is free, D17); ``details`` compared exactly when
    given. Returns the ``error`` object."""
    assert response.status_code == status, describe(response)
    error = response.json()["error"]
    assert error["code"] == code, describe(response)
    assert isinstance(error["message"], str) and error["message"], describe(response)
    if details is not None:
        assert error.get("details") == details, describe(response)
    return error


def names_code(response: httpx.Response, status: int, code: str) -> None:
    """Documented level: the status and the documented code somewhere in the answer (its place is D4)."""
    assert response.status_code == status and code in response.text, (
        f"expected {status} {code}: {describe(response)}"
    )


def refused(
    response: httpx.Response, status: int, code: str, strict: bool, details: dict | None = None
) -> dict:
    """The D4 envelope with ``code`` (and ``details``) when ``strict``, else only the documented status and code.
    Returns the error's ``details`` (``{}`` when absent or not ``strict``)."""
    if strict:
        return expect_error(response, status, code, details).get("details") or {}
    names_code(response, status, code)
    return {}


def field_errors(response: httpx.Response) -> dict[str, list[str]]:
    """The fields a 422 reports, each with its non-empty messages: ``error.details`` of a VALIDATION_ERROR (D4),
    or ``errors`` in the Comments style (D12). Their wording is the caller's to compare, where documented."""
    assert response.status_code == 422, describe(response)
    body = response.json()
    if "error" not in body and "errors" in body:
        details = body["errors"]
    else:
        assert body["error"]["code"] == "VALIDATION_ERROR", describe(response)
        details = body["error"].get("details")
    assert_field_messages(details)
    return details
