"""Answers chosen per request with the ``Prefer`` header, in Prism's convention.

- ``Prefer: code=404`` answers the operation's documented error of that status, in the
  contract's envelope (D4, or D12's flat one for Comments) with its documented message; when a
  status documents several codes, ``error=CODE`` picks one (``Prefer: code=422, error=OTP_EXPIRED``).
- ``Prefer: example=NAME`` answers the spec's example of that name, with a fresh ``meta``.

The step runs after the token and the rate limit (a chosen answer is still a counted call) and
before anything reads or writes records, so no chosen answer changes state. A preference the
operation cannot honour answers ``400 PREFER_NOT_HONOURED`` naming what it can honour. Other
preferences (``return=minimal``, Prism's ``dynamic=true``) are ignored, as RFC 7240 says.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.context import Reply
from mockserver.errors import ApiError, ValidationFailed, rate_limited
from mockserver.exchange import Exchange, Pipeline
from mockserver.spec import Operation
from mockserver.validation import Outcome

APPLIED_HEADER = "Preference-Applied"  # RFC 7240: which preference shaped the answer
NOT_HONOURED = "PREFER_NOT_HONOURED"
# Header that keeps --validate-responses from calling a caller-chosen refusal a mock bug.
CHOSEN_HEADER = "X-Mock-Fault"
PREFERENCE = re.compile(r"\s*([A-Za-z-]+)\s*=\s*\"?([^\",;]*)\"?\s*")
# The code an error status carries where the spec lists none (the flat Comments answers, D12).
USUAL_CODES = {
    400: "INVALID_JSON",
    401: "UNAUTHORIZED",
    403: "INSUFFICIENT_SCOPE",
    404: "NOT_FOUND",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
}
# What an error of these codes carries in ``error.details`` (D4) when the spec shows no example.
DEFAULT_DETAILS: dict[str, dict[str, Any]] = {
    "RATE_LIMIT_EXCEEDED": {"retry_after": 60},
    "INVALID_CODE": {"attempts_remaining": 4},
    "FEATURE_LIMIT_EXCEEDED": {"feature": "contacts", "current": 1000, "maximum": 1000},
}


def preferences(header: str) -> dict[str, str]:
    """``code=422, example=x; error=Y`` as a dict; keys lower-cased, unparseable parts skipped."""
    found: dict[str, str] = {}
    for part in re.split(r"[,;]", header):
        match = PREFERENCE.fullmatch(part)
        if match:
            found.setdefault(match.group(1).lower(), match.group(2).strip())
    return found


def examples(op: Operation) -> dict[str, tuple[int, dict]]:
    """The operation's named examples: name -> (status, body)."""
    named: dict[str, tuple[int, dict]] = {}
    for status, response in op.raw.get("responses", {}).items():
        for name, example in (
            response.get("content", {}).get("application/json", {}).get("examples") or {}
        ).items():
            if isinstance(example, dict) and "value" in example:
                named.setdefault(name, (int(status), example["value"]))
    return named


def documented_codes(op: Operation, status: int) -> list[str]:
    """The error codes the spec lists for ``status``; the flat (D12) answers list none, so their
    status's usual code stands in (the flat envelope shows only the message)."""
    response = op.raw.get("responses", {}).get(str(status))
    if response is None:
        return []
    codes = [entry["code"] for entry in response.get("x-error-codes", ()) if entry.get("code")]
    return codes or [USUAL_CODES.get(status, "ERROR")]


def error_statuses(op: Operation) -> list[int]:
    return sorted(int(status) for status in op.raw.get("responses", {}) if int(status) >= 400)


def refuse(op: Operation, why: str) -> ApiError:
    can = [f"code={status}" for status in error_statuses(op)] + [f"example={n}" for n in examples(op)]
    return ApiError(
        400,
        NOT_HONOURED,
        f"Prefer: {why}; {op.operation_id} can honour {', '.join(can) or 'nothing'}",
        headers={CHOSEN_HEADER: "prefer"},
    )


def validation_details(op: Operation) -> dict[str, list[str]]:
    """The failures of an empty body (every required field's message), else the first field's first message."""
    validator = next(iter(op.bodies.values()), None)
    if validator is not None:
        outcome = Outcome()
        validator.validate({}, "", outcome)
        if outcome.errors:
            return outcome.errors
    fields = (validator.fields if validator is not None else []) + op.query.fields
    for field in fields:
        rule = next((r for r in field.messages if r != "required"), None) or next(iter(field.messages), None)
        if rule is not None:
            return {field.name: [field.messages[rule]]}
    return {"body": ["Validation failed"]}


def chosen_error(op: Operation, status: int, code: str | None) -> ApiError:
    """The documented error of ``status`` (``code``: which one, when the status documents several)."""
    codes = documented_codes(op, status)
    if not codes:
        raise refuse(op, f"code={status} is not a documented error of {op.operation_id}")
    if code is not None and code not in codes:
        raise refuse(
            op,
            f"error={code} is not documented for {op.operation_id} at {status} ({', '.join(dict.fromkeys(codes))})",
        )
    code = code or codes[0]
    example = next(
        (
            body
            for s, body in examples(op).values()
            if s == status and body.get("error", {}).get("code") == code
        ),
        None,
    )
    path_record = op.extensions.path_record
    if example is not None:
        details = example["error"].get("details")
    elif code == "VALIDATION_ERROR":
        details = validation_details(op)
    else:
        details = DEFAULT_DETAILS.get(code)
    headers = {APPLIED_HEADER: f"code={status}"}
    if code == "RATE_LIMIT_EXCEEDED":
        limited = rate_limited(details["retry_after"])  # as the limiter itself answers (D11)
        limited.headers.update(headers)
        return limited
    if code == "VALIDATION_ERROR":
        error: ApiError = ValidationFailed(details)  # the message every 422 of the mock carries (D4)
        error.headers.update(headers)
        return error
    message = op.error_message(status, code)
    if status == 404 and path_record is not None and path_record.not_found:
        message = path_record.not_found  # the message the operation's own 404 carries
    return ApiError(status, code, message, details, headers)


def example_answer(op: Operation, name: str) -> Reply:
    """A success example as the reply (the envelope adds a fresh meta); an error example is raised."""
    found = examples(op).get(name)
    if found is None:
        raise refuse(op, f"example={name} is not an example of {op.operation_id}")
    status, body = found
    if status >= 400:
        error = body.get("error") or {"code": "ERROR", "message": body.get("message", "")}
        raise ApiError(
            status,
            error["code"],
            body.get("message", error["message"]),
            error.get("details"),
            {APPLIED_HEADER: f"example={name}"},
        )
    if op.envelope == "flat":
        return Reply(
            None,
            body.get("message"),
            fields={k: v for k, v in body.items() if k not in ("success", "message")},
        )
    meta = {k: v for k, v in (body.get("meta") or {}).items() if k not in ("request_id", "timestamp")}
    listing = (meta, body["links"]) if "links" in body else None
    return Reply(body.get("data"), body.get("message"), listing=listing)


def answer_as_preferred(core: Pipeline, exchange: Exchange) -> None:
    """The ``prefer`` step: raises the chosen error, or fills the reply with the chosen example."""
    header = exchange.request.headers.get("prefer")
    if not header:
        return
    wanted = preferences(header)
    op = exchange.operation
    if "code" in wanted:
        status = wanted["code"]
        if not status.isdigit():
            raise refuse(op, f"code={status} is not a status code")
        if 200 <= int(status) < 300 and "example" not in wanted:
            return  # the normal answer is the success the caller asks for
        if int(status) >= 300:
            raise chosen_error(op, int(status), wanted.get("error"))
    if "example" in wanted:
        exchange.reply = example_answer(op, wanted["example"])  # a filled reply ends the steps
