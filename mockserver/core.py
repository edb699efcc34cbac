"""The mock's core: one request in, one response out, no web framework.

``MockCore.handle`` applies the D6 check order: routing (404/405), token (401),
per-token rate limit (429), scope (403), the record named in the path (404),
body parsing (400/413/415), validation (422), then the operation's handler
(OTP limiters and business rules).
"""

from __future__ import annotations

import json
import math
import re
import threading
import uuid
from collections import ChainMap, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from mockserver import listing
from mockserver.behaviour import Behaviour
from mockserver.clock import iso
from mockserver.errors import ApiError, ValidationFailed, rate_limited
from mockserver.multipart import parse_multipart
from mockserver.phones import clean_phone
from mockserver.routing import Router
from mockserver.seed import default_world
from mockserver.spec import BASE_PATH, Operation, Spec
from mockserver.state import Store, Tenant, Token
from mockserver.validation import ObjectValidator, Outcome, ReferenceCheck, coerce_text, without_empty
from mockserver.variants import VariantSet, behaviour_for, edited_spec, resolve

JSON_LIMIT = 10 * 1024 * 1024
MULTIPART_LIMIT = 120 * 1024 * 1024
CONTROL_PREFIX = "/__mock__"
FAULT_HEADER = "X-Mock-Fault"


@dataclass
class CoreRequest:
    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    body_too_large: bool = False
    origin: str = "http://127.0.0.1:8080"

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)


@dataclass
class CoreResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    def encoded(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


@dataclass
class Reply:
    """What a handler returns: ``data`` goes into the envelope."""

    data: Any
    message: str | None = None
    status: int | None = None
    flat: dict | None = None  # Comments answer flat bodies (D12)
    listing: tuple[dict, dict] | None = None  # (pagination meta, links)


@dataclass
class Context:
    core: MockCore
    op: Operation
    tenant: Tenant
    token: Token
    params: dict[str, str]
    query: dict[str, Any]
    raw_query: list[tuple[str, str]]
    body: dict[str, Any]
    record: dict | None
    origin: str
    item_errors: dict[str, list[str]] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)  # the body as parsed, before readers and D16

    @property
    def now(self) -> float:
        return self.core.store.clock_of(self.tenant).now()

    def error(self, status: int, code: str, details: dict | None = None, message: str | None = None) -> ApiError:
        return ApiError(status, code, message or self.op.error_message(status, code), details)

    def invalid(self, field_name: str, rule: str, **fmt: Any) -> ValidationFailed:
        return ValidationFailed({field_name: [self.op.field_message(field_name, rule).format(**fmt)]})

    def list_reply(
        self, records: list[dict], present: Callable[[dict], dict] = lambda r: r, message: str | None = None
    ) -> Reply:
        """Filters, searches, sorts and pages ``records`` as the operation's extensions say."""
        op = self.op
        behaviour = self.core.behaviour
        records = list(records)
        raw_filters = [(k, v) for k, v in self.raw_query if k.startswith("filter[")]
        filters = op.ext("filters", {})
        if behaviour.all_operators:
            filters = {name: {**rule, "operators": list(listing.ALL_OPERATORS)} for name, rule in filters.items()}
        predicates = listing.build_filters(filters, raw_filters, self.core.list_messages, behaviour.unknown_query)
        if predicates:
            records = [r for r in records if all(p(r) for p in predicates)]
        term = self.query.get("search") or self.query.get("q")
        if term:
            records = listing.search_records(records, term, op.ext("search-fields", []))
        records = listing.sort_records(records, self.query.get("sort") or behaviour.default_sort(op))
        page = self.query.get("page") or 1
        per_page = self.query.get("per_page") or 15
        url = self.origin + BASE_PATH + op.path
        items, meta, links = listing.page_of(records, page, per_page, url, self.raw_query)
        fields = self.query.get("fields")
        data = [
            listing.select_fields(behaviour.present(op, present(item), "item", self.tenant.id), fields)
            for item in items
        ]
        return Reply(data, message, listing=(meta, links))


Handler = Callable[[Context], Reply]


class MockCore:
    """A complete mock instance: compiled spec, state, clocks and handlers."""

    def __init__(
        self,
        spec: Spec | None = None,
        validate_responses: bool = False,
        variants: VariantSet | Iterable[str] = (),
    ) -> None:
        """``variants``: legitimate variants (``mockserver/variants.py``), fixed for the instance's life."""
        from mockserver.handlers import HANDLERS

        self.variants = variants if isinstance(variants, VariantSet) else resolve(variants)
        base = spec or Spec.load()
        self.behaviour: Behaviour = behaviour_for(self.variants, base)
        self.spec = edited_spec(base, self.behaviour)
        self.router = Router(list(self.spec.operations.values()))
        missing = sorted(set(self.spec.operations) - set(HANDLERS))
        if missing:
            raise RuntimeError(f"operations without a handler: {missing}")
        # The variants' entries first; the shared table is read at call time (seeded faults wrap it).
        self.handlers: ChainMap[str, Handler] = ChainMap(dict(self.behaviour.handlers), HANDLERS)
        self.list_messages: dict[str, str] = self.spec.document["x-list-messages"]
        self.lock = threading.RLock()
        self.journal: deque[dict] = deque(maxlen=2000)
        self.faults: dict[str, dict] = {}
        self.fixtures: list[str] = []
        self.response_validator = None
        if validate_responses:
            from mockserver.response_check import ResponseValidator

            self.response_validator = ResponseValidator(self.spec, lenient=bool(self.variants))
        self.store = self._new_store()
        self.reset()

    def _new_store(self) -> Store:
        return Store(ids=self.behaviour.ids(), seed=self.behaviour.seed)

    # --- state -------------------------------------------------------------------------

    def reset(self) -> None:
        from mockserver.seed import apply_fixtures

        with self.lock:
            self.store = self._new_store()
            default_world(self.store)
            for path in self.fixtures:
                apply_fixtures(self.store, path)
            self.journal.clear()
            self.faults.clear()

    # --- entry point -----------------------------------------------------------------

    def handle(self, request: CoreRequest) -> CoreResponse:
        with self.lock:
            if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + "/"):
                from mockserver.control import handle_control

                return handle_control(self, request)
            response, op, tenant = self._dispatch(request)
            response.headers.setdefault("Content-Type", "application/json")
            # An injected fault is the caller's wish, documented or not: it is not a mock bug.
            if self.response_validator is not None and op is not None and FAULT_HEADER not in response.headers:
                self.response_validator.check(op, response)
            self.journal.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string,
                    "operation_id": op.operation_id if op else None,
                    "tenant_id": tenant.id if tenant else None,
                    "status": response.status,
                    "request_id": response.headers.get("X-Request-Id"),
                    "at": iso(self.store.clock_of(tenant).now() if tenant else self.store.default_clock.now()),
                }
            )
            return response

    def _dispatch(self, request: CoreRequest) -> tuple[CoreResponse, Operation | None, Tenant | None]:
        request_id = str(uuid.uuid4())
        path = request.path
        if not (path == BASE_PATH or path.startswith(BASE_PATH + "/")):
            return self._plain_error(404, "NOT_FOUND", "Route not found", request_id), None, None
        match = self.router.match(path[len(BASE_PATH) :] or "/")
        if match is None:
            return self._plain_error(404, "NOT_FOUND", "Route not found", request_id), None, None
        op = match.operation(request.method)
        comments = match.route.template.startswith("/comments")
        if op is None:
            response = self._error_response(
                405, "METHOD_NOT_ALLOWED", "Method not allowed", request_id, None, comments, None
            )
            response.headers["Allow"] = match.allow
            return response, None, None
        token = self._token(request.headers.get("authorization", ""))
        if token is None:
            return (
                self._error_response(401, "UNAUTHORIZED", op.error_message(401, "UNAUTHORIZED"), request_id, None, comments, None),
                op,
                None,
            )
        tenant = self.store.tenants[token.tenant_id]
        clock = self.store.clock_of(tenant)
        now = clock.now()
        fault = self.faults.get(op.operation_id)
        counted = False
        try:
            self._count_request(token, now)
            counted = True
            if fault is not None:
                self._apply_fault(fault, op)
            missing_scope = next((s for s in op.scopes if not token.allows(s)), None)
            if missing_scope is not None:
                raise ApiError(403, "INSUFFICIENT_SCOPE", f"Token missing {missing_scope} scope")
            record = self._path_record(op, tenant, match.params)
            body = self._parse_body(op, request)
            ctx = Context(self, op, tenant, token, match.params, {}, request.query, body, record, request.origin)
            self._validate(ctx, request.query)
            reply = self.handlers[op.operation_id](ctx)
            response = self._success(op, reply, request_id, now, comments, tenant.id)
        except ApiError as error:
            response = self._error_response(
                error.status, error.code, error.message, request_id, error.details, comments, now
            )
            response.headers.update(error.headers)
        if counted:
            # Read after the handler: an OTP limiter's 429 gives its slot back (D6).
            limit = token.rate_limit_per_minute
            response.headers["X-RateLimit-Limit"] = str(limit)
            response.headers["X-RateLimit-Remaining"] = str(max(0, limit - len(token.window)))
        if fault is not None:
            response.delay_seconds = fault.get("delay_ms", 0) / 1000
        return response, op, tenant

    # --- checks --------------------------------------------------------------------------

    def _token(self, header: str) -> Token | None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return self.store.tokens.get(value.strip())

    def _count_request(self, token: Token, now: float) -> None:
        """Counts the request in the token's sliding 60 s window, or raises the 429 (D11)."""
        window = token.window
        while window and window[0] <= now - 60:
            window.popleft()
        limit = token.rate_limit_per_minute
        if len(window) >= limit:
            error = rate_limited(math.ceil(window[0] + 60 - now))
            error.headers.update({"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0"})
            raise error
        window.append(now)

    def _apply_fault(self, fault: dict, op: Operation) -> None:
        if fault.get("times") is not None:
            fault["times"] -= 1
            if fault["times"] <= 0:
                self.faults.pop(op.operation_id, None)
        if fault.get("status"):
            status = int(fault["status"])
            code = fault.get("code") or ("INTERNAL_ERROR" if status >= 500 else "FAULT_INJECTED")
            raise ApiError(status, code, fault.get("message") or "Injected fault", headers={FAULT_HEADER: "injected"})

    def _path_record(self, op: Operation, tenant: Tenant, params: dict[str, str]) -> dict | None:
        if "id" in params:
            collection = op.path.strip("/").split("/")[0]
            if collection == "templates":
                record = tenant.find("templates", template_id=params["id"])
            else:
                record = tenant.get(collection, params["id"])
            if record is None:
                raise ApiError(404, "NOT_FOUND", op.error_message(404, "NOT_FOUND"))
            return record
        if "mobile" in params:
            record = tenant.find("chats", phone=clean_phone(params["mobile"])) if clean_phone(params["mobile"]) else None
            if record is None:
                raise ApiError(404, "NOT_FOUND", "Chat conversation not found for the given mobile number")
            return record
        return None

    def _parse_body(self, op: Operation, request: CoreRequest) -> dict[str, Any]:
        if not op.bodies:
            return {}
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        multipart = media_type == "multipart/form-data"
        if request.body_too_large or len(request.body) > (MULTIPART_LIMIT if multipart else JSON_LIMIT):
            raise ApiError(413, "PAYLOAD_TOO_LARGE", "The request body is too large")
        if multipart and media_type in op.bodies:
            try:
                return parse_multipart(request.body, request.headers["content-type"])
            except ValueError as exc:
                raise ApiError(400, "INVALID_JSON", f"Malformed multipart body: {exc}") from None
        if media_type and not (media_type == "application/json" or media_type.endswith("+json")):
            return self.behaviour.foreign_body(op, media_type)
        if not request.body.strip():
            return {}
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "INVALID_JSON", "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_JSON", "The request body must be a JSON object")
        return body

    def _validate(self, ctx: Context, raw_query: list[tuple[str, str]]) -> None:
        op = ctx.op
        raw_query = self._screen_includes(op, raw_query)
        query = {}
        for key, value in raw_query:
            if key in op.query_schemas:
                query[key] = coerce_text(value, op.query_schemas[key])
        outcome = op.query.check(query)
        ctx.query = {k: v for k, v in query.items() if not outcome.errors.get(k)}
        body_validator = op.bodies.get("multipart/form-data") if ctx.body.get("__multipart__") else None
        body_validator = body_validator or next(iter(op.bodies.values()), None)
        emptied: list[str] = []
        if body_validator is not None:
            ctx.sent = ctx.body
            ctx.body, emptied = self._read_body(ctx.body, body_validator)
            body_validator.validate(ctx.body, "", outcome)
            for check in self.behaviour.body_checks:
                for path, messages in check(ctx.body, body_validator).items():
                    for message in messages:
                        outcome.fail(path, message)
        format_failures = set(outcome.errors) if self.behaviour.batch_format_refuses else set()
        self._settle_references(ctx, outcome)
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
        self.behaviour.emptied(ctx, emptied)

    def _read_body(self, body: dict[str, Any], validator: ObjectValidator) -> tuple[dict[str, Any], list[str]]:
        """The body as the validator sees it: form fields read, the readers applied, empty fields dropped (D16)."""
        body = dict(body)
        if body.pop("__multipart__", False):
            for reader in self.behaviour.form_readers:
                body = reader(body, validator)
        for reader in self.behaviour.body_readers:
            body = reader(body, validator)
        return without_empty(body, validator)

    def _screen_includes(self, op: Operation, raw_query: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Unknown ``include`` relations: refused by the parameter's own rule (422), with 400, or dropped (D19)."""
        allowed = op.ext("includes")
        policy = self.behaviour.unknown_query
        if allowed is None or policy == "refuse":
            return raw_query
        screened = []
        for key, value in raw_query:
            if key == "include":
                parts = [part.strip() for part in value.split(",") if part.strip()]
                unknown = [part for part in parts if part not in allowed]
                if unknown and policy == "bad-request":
                    raise listing.invalid_query("include", unknown)
                value = ",".join(part for part in parts if part in allowed)
                if not value:
                    continue
            screened.append((key, value))
        return screened

    def _settle_references(self, ctx: Context, outcome: Outcome) -> None:
        for check in outcome.references:
            if check.rule == "exists":
                self._check_exists(ctx.tenant, check, outcome)
            elif check.rule == "unique" and check.field == "phone" and not clean_phone(str(check.value)):
                # A phone is its digits (D9): one without any names no number, and would collide with every other.
                outcome.fail(check.path, self.spec.document["x-send-messages"]["phone_digits"])
            elif check.rule == "unique" and self._taken(ctx, check):
                outcome.fail(check.path, check.message)

    def _check_exists(self, tenant: Tenant, check: ReferenceCheck, outcome: Outcome) -> None:
        table = tenant.table(check.collection)
        if isinstance(check.value, list):
            for index, value in enumerate(check.value):
                if value not in table:
                    outcome.fail(f"{check.path}.{index}", check.message)
        elif check.value not in table:
            outcome.fail(check.path, check.message)

    def _taken(self, ctx: Context, check: ReferenceCheck) -> bool:
        own_id = ctx.record["id"] if ctx.record is not None else None
        # Stored phones are cleaned (D9); other unique values compare case-insensitively.
        value = clean_phone(str(check.value)) if check.field == "phone" else str(check.value)
        return bool(ctx.tenant.holders(check.collection, check.field, value) - {own_id})

    # --- answers ---------------------------------------------------------------------------

    def _meta(self, request_id: str, now: float | None) -> dict:
        return {"request_id": request_id, "timestamp": iso(now if now is not None else self.store.default_clock.now())}

    def _success(
        self, op: Operation, reply: Reply, request_id: str, now: float, comments: bool, tenant_id: int
    ) -> CoreResponse:
        status = reply.status or op.success_status
        headers = {"X-Request-Id": request_id}
        message = self.behaviour.success_text(op, reply.message or op.success_message)
        present = self.behaviour.present
        if comments:
            if reply.flat is not None:
                body = {**reply.flat, "message": self.behaviour.success_text(op, reply.flat["message"])}
            else:
                body = {"success": True, "message": message, "data": reply.data}
            if "data" in body:
                body["data"] = present(op, body["data"], "data", tenant_id)
            else:
                body = present(op, body, "body", tenant_id)
            return CoreResponse(status, body, headers)
        data = reply.data if reply.listing is not None else present(op, reply.data, "data", tenant_id)
        body = {"success": True, "message": message, "data": data, "meta": self._meta(request_id, now)}
        if reply.listing is not None:
            meta, links = reply.listing
            body["meta"].update(meta)
            body["links"] = links
        return CoreResponse(status, body, headers)

    def _error_response(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str,
        details: dict | None,
        comments: bool,
        now: float | None,
    ) -> CoreResponse:
        headers = {"X-Request-Id": request_id}
        message = self.behaviour.error_text(status, code, message)
        if comments:
            body: dict[str, Any] = {"success": False, "message": message}
            if code == "VALIDATION_ERROR" and details:
                body["errors"] = details
            return CoreResponse(status, body, headers)
        error: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            error["details"] = details
        body = {"success": False, "message": message, "error": error, "meta": self._meta(request_id, now)}
        return CoreResponse(status, body, headers)

    def _plain_error(self, status: int, code: str, message: str, request_id: str) -> CoreResponse:
        return self._error_response(status, code, message, request_id, None, False, None)
