"""One exchange judged against the spec, for the validating proxy (``wacr-mock proxy``).

The request: its query and body against the operation's rules (the rules that need the
server's records, uniqueness and existence, are the server's to judge). The response: a
documented status, the schema, the required headers, ``X-Request-Id`` equal to
``meta.request_id``, a documented error code, the documented message of that code, and, in a
422, only messages the failing field documents.

``level``: ``documented`` judges only what the published docs state (each rule's provenance),
``all`` also what docs/decisions.md decides. Problems never quote a value from the traffic (a
token or an OTP code could be one), only paths, rules and the spec's own texts.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from mockserver.http import media_type
from mockserver.spec import Operation, Spec
from mockserver.validation import FieldValidator, Outcome, coerce_text, without_empty

LEVELS = ("documented", "all")


def counts(provenance: str | None, level: str) -> bool:
    """Whether a rule of this provenance is judged at ``level`` (an unmarked rule is documented)."""
    text = (provenance or "documented").strip().lower()
    if text.startswith("mock"):
        return False  # the mock's own choice binds no other implementation (D19)
    return level == "all" or text.startswith("documented")


def rule_provenance(op: Operation, field: FieldValidator, rule: str, spec: Spec) -> str:
    named = field.schema.get("x-rule-provenance") or {}
    if rule in named:
        return named[rule]
    if rule in (field.schema.get("x-assumed-rules") or ()):
        return "assumed"
    implicit = spec.document.get("x-implicit-rules") or {}
    if rule in implicit:
        return str(implicit[rule])
    return op.raw.get("x-provenance") or "documented"


def request_problems(
    op: Operation, spec: Spec, query: list[tuple[str, str]], headers: dict, body: bytes, level: str
) -> list[str]:
    """What the request breaks (the client's side)."""
    outcome = Outcome()
    values = {k: coerce_text(v, op.query_schemas[k]) for k, v in query if k in op.query_schemas}
    op.query.validate(values, "", outcome)
    if op.bodies:
        kind = media_type(headers)
        if kind and kind not in op.bodies and not kind.endswith("+json"):
            return [f"request: content type {kind} is not one of {', '.join(op.bodies)}"]
        validator = op.bodies.get(kind) or next(iter(op.bodies.values()))
        if kind != "multipart/form-data":
            try:
                sent = json.loads(body) if body.strip() else {}
            except (ValueError, UnicodeDecodeError):
                return ["request: the body is not valid JSON"]
            if not isinstance(sent, dict):
                return ["request: the body is not a JSON object"]
            validator.validate(without_empty(sent, validator)[0], "", outcome)
    problems = []
    for path, messages in outcome.errors.items():
        field = field_at(op, path)
        for message in messages:
            rule = next((r for r, m in (field.messages if field else {}).items() if m == message), None)
            if field is None or rule is None or counts(rule_provenance(op, field, rule, spec), level):
                problems.append(f"request: {path}: {message}")
    return problems


def field_at(op: Operation, path: str) -> FieldValidator | None:
    """The field a dotted error path names (``contacts.0.phone``: the item's ``phone``), or None."""
    parts = [part for part in path.split(".") if not part.isdigit()]
    fields = {**{f.name: f for f in op.query.fields}, **op.body_fields}
    field = fields.get(parts[0]) if parts else None
    for part in parts[1:]:
        inner = (field.obj or field.item_obj) if field is not None else None
        field = inner.by_name(part) if inner is not None else None
    return field


class ResponseJudge:
    """Compiled response schemas, one per operation and status, made on first use."""

    def __init__(self, spec: Spec, level: str) -> None:
        self.spec = spec
        self.level = level
        self.validators: dict[tuple[str, int], Draft202012Validator | None] = {}

    def schema_validator(self, op: Operation, status: int) -> Draft202012Validator | None:
        key = (op.operation_id, status)
        if key not in self.validators:
            schema = op.response_schemas.get(status)
            self.validators[key] = (
                Draft202012Validator(schema, format_checker=FormatChecker()) if schema else None
            )
        return self.validators[key]

    def problems(self, op: Operation, status: int, headers: dict[str, str], body: Any) -> list[str]:
        """What the response breaks (the server's side); ``body`` is the decoded JSON, or None."""
        documented = op.raw.get("responses", {}).get(str(status))
        if documented is None:
            return [f"response: status {status} is not documented for {op.operation_id}"]
        problems = []
        lower = {k.lower(): v for k, v in headers.items()}
        for name, header in (documented.get("headers") or {}).items():
            if header.get("required") and name.lower() not in lower:
                problems.append(f"response: header {name} is missing")
        validator = self.schema_validator(op, status)
        if validator is not None:
            for error in validator.iter_errors(body):
                where = "/".join(map(str, error.absolute_path)) or "(body)"
                problems.append(
                    f"response: {where}: fails {error.validator} {json.dumps(error.validator_value)[:80]}"
                )
        if not isinstance(body, dict):
            return problems
        meta = found if isinstance(found := body.get("meta"), dict) else {}
        if meta.get("request_id") and lower.get("x-request-id") not in (None, meta["request_id"]):
            problems.append("response: X-Request-Id differs from meta.request_id (D2)")
        if status >= 400:
            problems += self.error_problems(op, status, body)
        return problems

    def error_problems(self, op: Operation, status: int, body: dict) -> list[str]:
        error = body.get("error") if isinstance(body.get("error"), dict) else None
        if error is None:
            return []  # the flat Comments style (D12) has no code; its schema is checked above
        entries = [
            e
            for e in op.raw["responses"][str(status)].get("x-error-codes", ())
            if e.get("code") == error.get("code")
        ]
        if not entries:
            codes = sorted(op.error_codes.get(status, ()))
            return [
                f"response: error.code {error.get('code')!r} is not documented for {op.operation_id} at {status} ({', '.join(codes)})"
            ]
        problems = []
        messages = {
            e["message"] for e in entries if e.get("message") and counts(e.get("provenance"), self.level)
        }
        if messages and error.get("message") not in messages:
            problems.append(f"response: error.message is not the documented {' / '.join(sorted(messages))!r}")
        if error.get("code") == "VALIDATION_ERROR" and isinstance(error.get("details"), dict):
            problems += self.field_message_problems(op, error["details"])
        return problems

    def field_message_problems(self, op: Operation, details: dict) -> list[str]:
        problems = []
        for path, messages in details.items():
            field = field_at(op, str(path))
            if field is None or not isinstance(messages, list):
                continue
            judged = {
                m
                for r, m in field.messages.items()
                if counts(rule_provenance(op, field, r, self.spec), self.level)
            }
            for message in messages:
                if message not in field.messages.values() and judged:
                    problems.append(
                        f"response: error.details.{path}: a message that is not one of the field's documented messages"
                    )
        return problems
