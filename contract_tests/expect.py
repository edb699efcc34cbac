"""Expectations the checks share: the documented part of an error, and the envelopes of D2, D4, D11, D12.

The docs give statuses, error codes and per-field messages, but no error body at all: where a code or a
message sits is D4's layout, asserted only at ``--contract-level all`` (``assert_error_envelope``,
``expect_error``). Documented checks read an answer through one locator (``locate``), which finds the
documented code wherever the body holds it as a value, and each field's messages wherever the body maps that
field to them: ``error.details`` (D4), ``errors`` (Laravel, D12), the body itself (Django REST), or a list of
``{field, message}`` problems. ``error.message`` is free text and never compared (D17).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from contract_tests.operations import Operation
from contract_tests.reader import tier_of

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

# --- the locator: documented facts wherever the body holds them ------------------------------------------

# Keys that name the field, and keys that carry its message, in a list of problem objects
# (``[{"field": "phone", "message": "..."}]``, RFC 9457's ``invalid-params``, FastAPI's ``loc``/``msg``).
PROBLEM_FIELD_KEYS = ("field", "attribute", "param", "parameter", "path", "loc", "pointer", "property")
PROBLEM_MESSAGE_KEYS = ("message", "messages", "msg", "detail", "defaultMessage", "reason", "description")
FieldPath = tuple[str, ...]


def field_path(name: object) -> FieldPath:
    """``contacts.3.phone``, ``contacts[3].phone``, ``/contacts/3/phone`` and ``["contacts", 3, "phone"]`` alike."""
    parts = name if isinstance(name, list) else [name]
    return tuple(piece for part in parts for piece in re.findall(r"[^.\[\]/]+", str(part)))


def _messages(value: Any) -> list[str] | None:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
        return list(value)
    return None


def _problem_entry(node: dict) -> tuple[FieldPath, list[str]] | None:
    """``{"field": "phone", "message": "..."}`` and its kin: one field and its message(s), or None."""
    keys = PROBLEM_FIELD_KEYS + (("name",) if "reason" in node else ())  # RFC 9457: {name, reason}
    name = next((node[k] for k in keys if isinstance(node.get(k), (str, list))), None)
    source = node.get("source")
    if name is None and isinstance(source, dict):
        name = next((source[k] for k in ("pointer", "parameter") if isinstance(source.get(k), str)), None)
    messages = next((m for k in PROBLEM_MESSAGE_KEYS if (m := _messages(node.get(k))) is not None), None)
    if name is None or messages is None:
        return None
    return field_path(name), messages


def _field_entries(node: Any, prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, list[str]]]:
    """Every (path, messages) pair: a key whose value is a list of strings maps that field to its messages (the
    path keeps the names of the containers above it, see ``Located.messages``), and a problem object names its
    field. A plain string is never a field's message list, so ``{"code": ..., "message": ...}`` maps nothing."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _field_entries(item, (*prefix, str(index)))
        return
    if not isinstance(node, dict):
        return
    problem = _problem_entry(node)
    if problem is not None:
        yield problem
        return
    for key, value in node.items():
        path = prefix + field_path(key)
        if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
            yield path, list(value)
        else:
            yield from _field_entries(value, path)


def _values(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item)


@dataclass(frozen=True)
class Located:
    """What an answer says, wherever it says it: every string value, and each field's messages."""

    values: frozenset[str]
    fields: dict[FieldPath, tuple[str, ...]]

    def messages(self, name: str, nested: bool = False) -> list[str]:
        """The messages reported for ``name`` (a dotted path): under exactly that path, else under a longer path
        whose extra head names a container of the server's own (``errors.phone``, FastAPI's ``body.phone``), never
        an item (``contacts.3.phone`` is not ``phone``); ``nested``: also under what it holds (``name.0``)."""
        wanted = field_path(name)
        exact = [path for path in self.fields if _names(path, wanted, nested)]
        paths = exact or [path for path in self.fields if _names(_headless(path, wanted), wanted, nested)]
        return [message for path in paths for message in self.fields[path]]

    def reports(self, name: str, nested: bool = False) -> bool:
        return bool(self.messages(name, nested))

    def others(self, names: Iterable[str]) -> list[str]:
        """The reported fields that are none of ``names`` (nor their elements)."""
        wanted = [field_path(name) for name in names]
        return [
            ".".join(path)
            for path in self.fields
            if not any(_names(path, w, True) or _names(_headless(path, w), w, True) for w in wanted)
        ]

    def field_names(self) -> dict[str, list[str]]:
        """The reported fields as dotted paths from the body's root, each with its messages."""
        return {".".join(path): list(messages) for path, messages in self.fields.items()}


def _names(path: FieldPath, wanted: FieldPath, nested: bool) -> bool:
    """Whether ``path`` is ``wanted`` or, when ``nested``, something inside it (``name.0.title``)."""
    return path[: len(wanted)] == wanted and (nested or len(path) == len(wanted))


def _headless(path: FieldPath, wanted: FieldPath) -> FieldPath:
    """``path`` from where ``wanted`` starts in it, when what comes before names no item (no index)."""
    for start in range(1, len(path) - len(wanted) + 1):
        if path[start : start + len(wanted)] == wanted and not any(p.isdigit() for p in path[:start]):
            return path[start:]
    return path


def locate(response: httpx.Response) -> Located:
    """The locator every documented check reads an error through. A body that is no JSON holds nothing."""
    try:
        body = response.json()
    except ValueError:
        return Located(frozenset(), {})
    fields: dict[FieldPath, tuple[str, ...]] = {}
    for path, messages in _field_entries(body):
        fields[path] = fields.get(path, ()) + tuple(messages)
    return Located(frozenset(_values(body)), fields)


def expect(response: httpx.Response, op: Operation, status: int, code: str) -> None:
    """The documented part of an error: the status, and the code wherever the body holds it, where the spec
    gives the operation that code for that status (Comments' 401 has none, D12); never a message (D17)."""
    assert response.status_code == status, (
        f"{op.method} {op.path}: expected {status} {code}, got {response.status_code}: {response.text}"
    )
    if code in op.error_codes.get(status, ()):
        found = locate(response).values
        assert code in found, f"{op.operation_id}: expected code {code} in the answer: {response.text}"


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
    if "message" in body or "message" in op.success_required:  # Get Comments' message is optional (D12)
        assert isinstance(body.get("message"), str) and body["message"], body
    if "message" in body and tier_of(op.raw.get("x-success-message-provenance")) == "documented":
        assert body["message"] == op.success_message, body
    assert "data" in body, body
    assert_request_id(response, body, op.flat)
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
    """Documented level: the status, and the documented code as a value somewhere in the answer (its place is D4)."""
    assert response.status_code == status and code in locate(response).values, (
        f"expected {status} {code}: {describe(response)}"
    )


def values_under(response: httpx.Response, key: str) -> list[Any]:
    """Documented level: every value the answer holds under ``key`` at any depth (``error.details.retry_after``,
    ``errors.retry_after``, a top-level ``retry_after``): a documented detail, wherever the body puts it (D4)."""
    found: list[Any] = []
    stack: list[Any] = [_json_or_none(response)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found += [value for name, value in node.items() if name == key]
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return found


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def refused(
    response: httpx.Response, status: int, code: str, strict: bool, details: dict | None = None
) -> dict:
    """The D4 envelope with ``code`` (and ``details``) when ``strict``, else only the documented status and code.
    Returns the error's ``details`` (``{}`` when absent or not ``strict``)."""
    if strict:
        return expect_error(response, status, code, details).get("details") or {}
    names_code(response, status, code)
    return {}


def details_of(response: httpx.Response) -> dict[str, list[str]]:
    """D4 (level all): a 422 VALIDATION_ERROR whose ``error.details`` maps each failing field to its messages."""
    details = expect_error(response, 422, "VALIDATION_ERROR").get("details")
    assert_field_messages(details)
    assert isinstance(details, dict)
    return details


def field_errors(response: httpx.Response) -> Located:
    """A 422 that reports at least one field with messages, wherever the body maps fields to them (the locator);
    which fields and whose wording are the caller's to compare, where documented."""
    assert response.status_code == 422, describe(response)
    found = locate(response)
    assert found.fields, f"no field mapped to its messages: {describe(response)}"
    return found
