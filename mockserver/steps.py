"""The D6 check order, one named step each: routing, token, rate limit, a chosen answer (``Prefer``),
injected error, scope,
the record the path names, the body, validation, then the operation's handler.

A step reads and fills the request's ``Exchange``, or raises the ``ApiError`` that answers it.
``MockCore.steps`` is the sequence for one instance (``DEFAULT_STEPS`` unless changed), so the
order is visible in one place and a seam can swap a single step.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.context import Context
from mockserver.errors import ApiError, ValidationFailed, rate_limited
from mockserver.exchange import Exchange, Pipeline, ReferenceRule, Steps
from mockserver.http import CoreRequest, media_type, reads_as_json
from mockserver.listing import invalid_query
from mockserver.multipart import parse_multipart
from mockserver.phones import clean_phone
from mockserver.prefer import answer_as_preferred
from mockserver.spec import BASE_PATH, Operation
from mockserver.validation import (
    MAX_FAILING_ITEMS,
    ObjectValidator,
    Outcome,
    ReferenceCheck,
    coerce_text,
    without_empty,
)

INJECTED_HEADER = "X-Mock-Fault"  # marks an answer forced through /__mock__/faults


# --- the steps, in D6 order ---------------------------------------------------------------------


def route(core: Pipeline, exchange: Exchange) -> None:
    """404 for a path no operation has; 405 with ``Allow`` for a known path and another method."""
    path = exchange.request.path
    if path == BASE_PATH or path.startswith(BASE_PATH + "/"):
        exchange.match = core.router.match(path[len(BASE_PATH) :] or "/")
    if exchange.match is None:
        raise ApiError(404, "NOT_FOUND", "Route not found")
    exchange.op = exchange.match.operation(exchange.request.method)
    if exchange.op is None:
        raise ApiError(
            405, "METHOD_NOT_ALLOWED", "Method not allowed", headers={"Allow": exchange.match.allow}
        )


def authenticate(core: Pipeline, exchange: Exchange) -> None:
    """401 without a Bearer token the store knows; sets the token, its tenant and the tenant's now."""
    scheme, _, value = exchange.request.headers.get("authorization", "").partition(" ")
    token = core.store.tokens.get(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    if token is None:
        raise ApiError(
            401,
            "UNAUTHORIZED",
            exchange.operation.error_message(401, "UNAUTHORIZED"),
            headers={"WWW-Authenticate": 'Bearer realm="WA.cr API v2"'},
        )
    exchange.token = token
    exchange.tenant = core.store.tenants[token.tenant_id]
    exchange.now = core.store.clock_of(exchange.tenant).now()


def count_request(core: Pipeline, exchange: Exchange) -> None:
    """The token's sliding 60 s window (D11); a refused call is not counted."""
    token = exchange.caller_token
    retry_after = token.window.admit(exchange.now, token.rate_limit_per_minute, 60)
    if retry_after is not None:
        error = rate_limited(retry_after)
        error.headers.update(
            {"X-RateLimit-Limit": str(token.rate_limit_per_minute), "X-RateLimit-Remaining": "0"}
        )
        raise error
    exchange.counted = True


def inject_error(core: Pipeline, exchange: Exchange) -> None:
    """An error or a delay asked for through ``/__mock__/faults`` (after the limiter, before the scope)."""
    entry = core.injected.get(exchange.operation.operation_id)
    if entry is None:
        return
    exchange.injected = entry
    if entry.get("times") is not None:
        entry["times"] -= 1
        if entry["times"] <= 0:
            core.injected.pop(exchange.operation.operation_id, None)
    if entry.get("status"):
        status = int(entry["status"])
        code = entry.get("code") or ("INTERNAL_ERROR" if status >= 500 else "FAULT_INJECTED")
        raise ApiError(
            status, code, entry.get("message") or "Injected fault", headers={INJECTED_HEADER: "injected"}
        )


def check_scope(core: Pipeline, exchange: Exchange) -> None:
    """403 when the token lacks a scope the operation needs."""
    missing = next(
        (scope for scope in exchange.operation.scopes if not exchange.caller_token.allows(scope)), None
    )
    if missing is not None:
        raise ApiError(403, "INSUFFICIENT_SCOPE", f"Token missing {missing} scope")


def load_record(core: Pipeline, exchange: Exchange) -> None:
    """The record the path names (``x-path-record``), or the operation's 404."""
    lookup = exchange.operation.extensions.path_record
    if lookup is None:
        return
    value = exchange.route_match.params[lookup.param]
    if lookup.normalise == "phone":
        value = clean_phone(value)
    if lookup.field == "id":
        record = exchange.caller_tenant.get(lookup.collection, value)
    else:
        record = exchange.caller_tenant.find(lookup.collection, **{lookup.field: value}) if value else None
    if record is None:
        raise ApiError(
            404, "NOT_FOUND", lookup.not_found or exchange.operation.error_message(404, "NOT_FOUND")
        )
    exchange.record = record


def parse_form(request: CoreRequest) -> dict[str, Any] | ValueError:
    """The multipart body's fields, or why it is malformed. A large upload reaches the core already
    parsed (``CoreRequest.form``: the ASGI app spools it to a file and parses it in a worker thread)."""
    try:
        return parse_multipart(request.body, request.headers.get("content-type", ""))
    except ValueError as exc:
        return exc


def parse_body(core: Pipeline, exchange: Exchange) -> None:
    """413, then 400 for a body that is not a JSON object (or a broken form), or the D19 answer to a
    content type the operation does not take."""
    op, request = exchange.operation, exchange.request
    if not op.bodies:
        return
    if request.body_too_large:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", "The request body is too large")
    kind = media_type(request.headers)
    if kind == "multipart/form-data" and kind in op.bodies:
        try:
            form = request.form if request.form is not None else parse_form(request)
            if isinstance(form, ValueError):
                raise form
            exchange.body = form
        except ValueError as exc:
            raise ApiError(400, "INVALID_JSON", f"Malformed multipart body: {exc}") from None
        exchange.form = True
    elif not reads_as_json(request.headers):
        exchange.body = core.behaviour.foreign_body(op, kind)
    else:
        exchange.body = request.json_object()


def validate(core: Pipeline, exchange: Exchange) -> None:
    """422 with every failing field: query and body rules, then uniqueness and existence."""
    op = exchange.operation
    ctx = Context(
        op=op,
        tenant=exchange.caller_tenant,
        token=exchange.caller_token,
        now=exchange.now,
        params=exchange.route_match.params,
        raw_query=exchange.request.query,
        body=exchange.body,
        record=exchange.record,
        origin=exchange.request.origin,
        behaviour=core.behaviour,
        messages=core.spec.messages,
        paging=core.paging,
    )
    exchange.ctx = ctx
    query = {}
    for key, value in screen_includes(core, op, ctx.raw_query):
        if key in op.query_schemas:
            query[key] = coerce_text(value, op.query_schemas[key])
    outcome = op.query.check(query)
    ctx.query = {k: v for k, v in query.items() if not outcome.errors.get(k)}
    validator = (op.bodies.get("multipart/form-data") if exchange.form else None) or next(
        iter(op.bodies.values()), None
    )
    emptied: list[str] = []
    if validator is not None:
        ctx.sent = ctx.body
        ctx.body, emptied = read_body(core, ctx.body, validator, exchange.form)
        validator.validate(ctx.body, "", outcome)
        for check in core.behaviour.body_checks:
            for path, messages in check(ctx.body, validator).items():
                for message in messages:
                    outcome.fail(path, message)
    format_failures = set(outcome.errors) if core.behaviour.batch_format_refuses else set()
    for reference in outcome.references:
        core.reference_rules[reference.rule](ctx, reference, outcome)
    partial = op.ext("partial-items")
    if partial:
        # Failures of single items (``contacts.N.field``) are the handler's to judge: skipped as
        # duplicates, listed, or a 422 as the options say. Only the request's own fields fail here,
        # and, where the behaviour says so, items breaking a format rule (D18).
        item_key = re.compile(rf"^{re.escape(partial)}\.\d+\.")
        ctx.item_errors = {
            k: v for k, v in outcome.errors.items() if item_key.match(k) and k not in format_failures
        }
        outcome.errors = {k: v for k, v in outcome.errors.items() if k not in ctx.item_errors}
    if outcome.errors:
        raise ValidationFailed(outcome.errors)
    ctx.body.update(core.behaviour.emptied(op, ctx.tenant, ctx.record, emptied))


def dispatch(core: Pipeline, exchange: Exchange) -> None:
    """The operation's handler: business rules (OTP limiters, plan limits, ...) and the answer's data."""
    exchange.reply = core.handlers[exchange.operation.operation_id](exchange.context)


DEFAULT_STEPS = Steps(
    (
        ("route", route),
        ("authenticate", authenticate),
        ("count_request", count_request),
        ("prefer", answer_as_preferred),  # Prefer: code=... / example=... (mockserver/prefer.py)
        ("inject_error", inject_error),
        ("check_scope", check_scope),
        ("load_record", load_record),
        ("parse_body", parse_body),
        ("validate", validate),
        ("dispatch", dispatch),
    )
)


# --- the parts of validation ---------------------------------------------------------------------


def read_body(
    core: Pipeline, body: dict[str, Any], validator: ObjectValidator, form: bool
) -> tuple[dict[str, Any], list[str]]:
    """The body as the validator sees it: form fields read, the readers applied, empty fields dropped (D16)."""
    readers = (core.behaviour.form_readers if form else ()) + core.behaviour.body_readers
    for reader in readers:
        body = reader(body, validator)
    return without_empty(body, validator)


def screen_includes(core: Pipeline, op: Operation, raw_query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Unknown ``include`` relations: refused by the parameter's own rule (422), with 400, or dropped (D19)."""
    allowed = op.ext("includes")
    policy = core.behaviour.unknown_query
    if allowed is None or policy == "refuse":
        return raw_query
    screened = []
    for key, value in raw_query:
        if key == "include":
            parts = [part.strip() for part in value.split(",") if part.strip()]
            unknown = [part for part in parts if part not in allowed]
            if unknown and policy == "bad-request":
                raise invalid_query("include", unknown)
            value = ",".join(part for part in parts if part in allowed)
            if not value:
                continue
        screened.append((key, value))
    return screened


def check_exists(ctx: Context, check: ReferenceCheck, outcome: Outcome) -> None:
    """Every referenced id is one of the tenant's records."""
    table = ctx.tenant.table(check.collection)
    if isinstance(check.value, list):
        failures = 0
        for index, value in enumerate(check.value):
            if failures == MAX_FAILING_ITEMS:
                outcome.stop_listing(check.path, len(check.value) - index)
                return
            if value not in table:
                outcome.fail(f"{check.path}.{index}", check.message)
                failures += 1
    elif check.value not in table:
        outcome.fail(check.path, check.message)


def check_unique(ctx: Context, check: ReferenceCheck, outcome: Outcome) -> None:
    """No other record of the tenant holds the value (compared case-insensitively, phones by digits)."""
    value = str(check.value)
    if check.normalise == "phone":
        value = clean_phone(value)
        if not value:
            # A phone is its digits (D9): one without any names no number, and would collide with every other.
            outcome.fail(check.path, ctx.messages.phone_digits)
            return
    own_id = ctx.record["id"] if ctx.record is not None else None
    if ctx.tenant.holders(check.collection, check.field, value) - {own_id}:
        outcome.fail(check.path, check.message)


DEFAULT_REFERENCE_RULES: dict[str, ReferenceRule] = {"exists": check_exists, "unique": check_unique}
