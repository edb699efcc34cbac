"""Seeded faults: realistic bugs the contract suite must catch (``--fault NAME``, ``WACR_MOCK_FAULT``).

Each fault patches the mock of this process only, so a process runs with at most
one. ``python -m contract_tests.meta`` runs the suite once per fault and asserts
that it fails, and once without a fault and asserts that it passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from mockserver import core as core_module
from mockserver import listing
from mockserver.core import CoreResponse, MockCore


@dataclass(frozen=True)
class Fault:
    name: str
    area: str
    description: str
    apply: Callable[[], None]


FAULTS: dict[str, Fault] = {}


def fault(name: str, area: str, description: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(apply: Callable[[], None]) -> Callable[[], None]:
        FAULTS[name] = Fault(name, area, description, apply)
        return apply

    return register


def activate(name: str) -> Fault:
    if name not in FAULTS:
        raise SystemExit(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
    FAULTS[name].apply()
    return FAULTS[name]


# --- helpers that patch one piece of the mock ---------------------------------------------------------


def wrap_handler(operation_id: str, around: Callable) -> None:
    from mockserver.handlers import HANDLERS

    original = HANDLERS[operation_id]
    HANDLERS[operation_id] = lambda ctx: around(original, ctx)


def rewrite_responses(change: Callable[[CoreResponse], None]) -> None:
    original = MockCore._dispatch

    def dispatch(self, request):
        response, op, tenant = original(self, request)
        change(response)
        return response, op, tenant

    MockCore._dispatch = dispatch


def error_code(response: CoreResponse) -> str | None:
    body = response.body if isinstance(response.body, dict) else {}
    return (body.get("error") or {}).get("code")


# --- OTP --------------------------------------------------------------------------------------------


@fault("otp_expiry_off_by_one", "OTP", "an OTP still verifies at the very second it expires (now == expires_at)")
def _otp_expiry_off_by_one() -> None:
    from mockserver.handlers import auth

    def verify(original, ctx):
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        if otp is not None and int(ctx.now) == int(otp.expires_at):
            otp.expires_at += 1
        return original(ctx)

    wrap_handler("verifyOtp", verify)


@fault("otp_wrong_code_not_counted", "OTP", "a wrong code does not use up an attempt")
def _otp_wrong_code_not_counted() -> None:
    from mockserver.handlers import auth

    def verify(original, ctx):
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        before = otp.attempts if otp else 0
        try:
            return original(ctx)
        finally:
            if otp is not None:
                otp.attempts = before

    wrap_handler("verifyOtp", verify)


def keep_otp_through(operation_id: str) -> None:
    """After a successful call of ``operation_id``, the OTP stored before it is put back."""
    from mockserver.handlers import auth

    def around(original, ctx):
        key = auth.otp_key(ctx)
        before = ctx.tenant.otps.get(key)
        reply = original(ctx)
        if before is not None:
            ctx.tenant.otps[key] = before
        return reply

    wrap_handler(operation_id, around)


@fault("otp_not_consumed", "OTP", "a verified OTP can be verified again")
def _otp_not_consumed() -> None:
    keep_otp_through("verifyOtp")


@fault("otp_resend_keeps_old_code", "OTP", "resend sends a new code but the previous one stays valid")
def _otp_resend_keeps_old_code() -> None:
    keep_otp_through("resendOtp")


@fault("otp_status_counts_attempt", "OTP", "Check OTP Status uses up an attempt")
def _otp_status_counts_attempt() -> None:
    from mockserver.handlers import auth

    def status(original, ctx):
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        if otp is not None:
            otp.attempts += 1
        return original(ctx)

    wrap_handler("checkOtpStatus", status)


@fault("otp_phone_not_cleaned", "OTP", "OTPs are keyed by the phone as sent, so two spellings differ")
def _otp_phone_not_cleaned() -> None:
    from mockserver.handlers import auth

    auth.otp_key = lambda ctx: (ctx.body["phone"], ctx.body.get("purpose") or auth.DEFAULT_PURPOSE)


@fault("otp_no_verify_limit", "OTP", "verify has no per-phone rate limit")
def _otp_no_verify_limit() -> None:
    from mockserver.handlers import auth

    original = auth.hit_limiter
    auth.hit_limiter = lambda ctx: None if ctx.op.operation_id == "verifyOtp" else original(ctx)


@fault("otp_six_attempts", "OTP", "six wrong codes are allowed instead of five")
def _otp_six_attempts() -> None:
    from mockserver.handlers import auth

    def send(original, ctx):
        reply = original(ctx)
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        otp.max_attempts = 6
        return reply

    wrap_handler("sendOtp", send)
    wrap_handler("resendOtp", send)


# --- validation ---------------------------------------------------------------------------------------


@fault("validation_first_field_only", "validation", "a 422 lists only the first failing field")
def _validation_first_field_only() -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "VALIDATION_ERROR":
            details = response.body["error"]["details"]
            first = next(iter(details))
            response.body["error"]["details"] = {first: details[first]}

    rewrite_responses(change)


@fault("validation_message_reworded", "validation", "a documented message is worded differently")
def _validation_message_reworded() -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "VALIDATION_ERROR":
            text = json.dumps(response.body).replace("Phone number is required", "The phone field is required.")
            response.body = json.loads(text)

    rewrite_responses(change)


@fault("validation_status_400", "validation", "validation failures answer 400 instead of 422")
def _validation_status_400() -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "VALIDATION_ERROR":
            response.status = 400

    rewrite_responses(change)


@fault("validation_coerces_strings", "validation", "a numeric string is accepted where the spec says integer")
def _validation_coerces_strings() -> None:
    original = core_module.MockCore._validate

    def validate(self, ctx, raw_query):
        for name, value in list(ctx.body.items()):
            if isinstance(value, str) and value.isdigit() and name.endswith(("_id", "_minutes")):
                ctx.body[name] = int(value)
        return original(self, ctx, raw_query)

    core_module.MockCore._validate = validate


# --- auth and scopes -------------------------------------------------------------------------------


@fault("scope_not_checked", "auth", "a token without the operation's scope is let through")
def _scope_not_checked() -> None:
    from mockserver.state import Token

    Token.allows = lambda self, scope: True


@fault("missing_token_403", "auth", "a request without a token answers 403 instead of 401")
def _missing_token_403() -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "UNAUTHORIZED":
            response.status = 403
            response.body["error"]["code"] = "INSUFFICIENT_SCOPE"

    rewrite_responses(change)


@fault("unknown_token_accepted", "auth", "any bearer token is accepted as the demo tenant's")
def _unknown_token_accepted() -> None:
    original = MockCore._token

    def token(self, header):
        found = original(self, header)
        if found is None and header.lower().startswith("bearer ") and header[7:].strip():
            return self.store.tokens.get("wacr_test_full")
        return found

    MockCore._token = token


# --- tenancy ---------------------------------------------------------------------------------------


@fault("tenant_leak_get", "tenancy", "a record of another tenant can be read by id")
def _tenant_leak_get() -> None:
    original = MockCore._path_record

    def path_record(self, op, tenant, params):
        try:
            return original(self, op, tenant, params)
        except Exception:
            for other in self.store.tenants.values():
                if other is not tenant and "id" in params:
                    try:
                        return original(self, op, other, params)
                    except Exception:  # noqa: BLE001,S112  (not in that tenant either)
                        continue
            raise

    MockCore._path_record = path_record


@fault("tenant_leak_list", "tenancy", "List Sources shows every tenant's sources")
def _tenant_leak_list() -> None:
    def list_sources(original, ctx):
        everything = [s for t in ctx.core.store.tenants.values() for s in t.table("sources").values()]
        return ctx.list_reply(everything)

    wrap_handler("listSources", list_sources)


# --- CRUD --------------------------------------------------------------------------------------------


@fault("update_clears_unsent_fields", "CRUD", "Update Contact blanks the optional fields it was not sent")
def _update_clears_unsent_fields() -> None:
    def update(original, ctx):
        blanked = {name: ctx.body.get(name) for name in ("company", "city", "email")}
        ctx.tenant.set_fields("contacts", ctx.record, blanked, ctx.now)
        return original(ctx)

    wrap_handler("updateContact", update)


@fault("group_delete_keeps_membership", "CRUD", "deleting a group leaves its id in contacts' group_id")
def _group_delete_keeps_membership() -> None:
    def delete(original, ctx):
        ctx.tenant.remove("groups", ctx.record["id"])
        from mockserver.core import Reply

        return Reply(None)

    wrap_handler("deleteGroup", delete)


@fault("duplicate_phone_allowed", "CRUD", "two contacts may share a phone")
def _duplicate_phone_allowed() -> None:
    original = MockCore._taken
    MockCore._taken = lambda self, ctx, check: False if check.field == "phone" else original(self, ctx, check)


@fault("source_in_use_deleted", "CRUD", "a source still used by contacts can be deleted")
def _source_in_use_deleted() -> None:
    def delete(original, ctx):
        ctx.tenant.remove("sources", ctx.record["id"])
        from mockserver.core import Reply

        return Reply(None)

    wrap_handler("deleteSource", delete)


@fault("deleted_record_still_readable", "CRUD", "Delete Status answers 200 but the status stays")
def _deleted_record_still_readable() -> None:
    def delete(original, ctx):
        from mockserver.core import Reply

        return Reply(None)

    wrap_handler("deleteStatus", delete)


@fault("add_to_group_counts_members", "CRUD", "contacts_added counts contacts that were already members")
def _add_to_group_counts_members() -> None:
    def add(original, ctx):
        reply = original(ctx)
        reply.data["contacts_added"] = len(set(ctx.body["contact_ids"]))
        return reply

    wrap_handler("addGroupContacts", add)


# --- pagination ---------------------------------------------------------------------------------------


@fault("page_overlap", "pagination", "each page after the first repeats the previous page's last item")
def _page_overlap() -> None:
    original = listing.page_of

    def page_of(records, page, per_page, base_url, query):
        items, meta, links = original(records, page, per_page, base_url, query)
        if page > 1 and items:
            start = (page - 1) * per_page - 1
            items = records[start : start + per_page]
        return items, meta, links

    listing.page_of = page_of


@fault("total_is_page_size", "pagination", "meta.total counts the page, not the whole list")
def _total_is_page_size() -> None:
    original = listing.page_of

    def page_of(records, page, per_page, base_url, query):
        items, meta, links = original(records, page, per_page, base_url, query)
        meta["total"] = len(items)
        return items, meta, links

    listing.page_of = page_of


@fault("descending_sort_ignored", "pagination", "a '-' sort prefix is ignored")
def _descending_sort_ignored() -> None:
    original = listing.sort_records
    listing.sort_records = lambda records, sort: original(records, sort.replace("-", ""))


@fault("per_page_unbounded", "pagination", "per_page above 100 is accepted")
def _per_page_unbounded() -> None:
    original = core_module.MockCore._validate

    def validate(self, ctx, raw_query):
        capped = [(k, v) for k, v in raw_query if k != "per_page" or not v.isdigit() or int(v) <= 100]
        ctx.raw_query = capped
        original(self, ctx, capped)
        for key, value in raw_query:
            if key == "per_page" and value.isdigit() and int(value) > 100:
                ctx.query["per_page"] = int(value)

    core_module.MockCore._validate = validate


# --- response shape ----------------------------------------------------------------------------------


@fault("request_id_mismatch", "response shape", "X-Request-Id differs from meta.request_id")
def _request_id_mismatch() -> None:
    def change(response: CoreResponse) -> None:
        if "X-Request-Id" in response.headers:
            response.headers["X-Request-Id"] = "00000000-0000-4000-8000-000000000000"

    rewrite_responses(change)


@fault("timestamp_with_microseconds", "response shape", "meta.timestamp has microseconds and a Z offset")
def _timestamp_with_microseconds() -> None:
    def change(response: CoreResponse) -> None:
        meta = response.body.get("meta") if isinstance(response.body, dict) else None
        if meta and "timestamp" in meta:
            meta["timestamp"] = meta["timestamp"].replace("+00:00", ".123456Z")

    rewrite_responses(change)


@fault("error_without_success_flag", "response shape", "error answers lack the success flag")
def _error_without_success_flag() -> None:
    def change(response: CoreResponse) -> None:
        if response.status >= 400 and isinstance(response.body, dict):
            response.body.pop("success", None)

    rewrite_responses(change)


@fault("rate_limit_headers_missing", "response shape", "no X-RateLimit-* headers")
def _rate_limit_headers_missing() -> None:
    def change(response: CoreResponse) -> None:
        response.headers.pop("X-RateLimit-Limit", None)
        response.headers.pop("X-RateLimit-Remaining", None)

    rewrite_responses(change)


@fault("contact_phone_not_cleaned", "CRUD", "contacts keep the phone as sent (+, spaces)")
def _contact_phone_not_cleaned() -> None:
    def create(original, ctx):
        reply = original(ctx)
        raw = ctx.body["phone"]
        contact = ctx.tenant.table("contacts")[reply.data["id"]]
        ctx.tenant.set_fields("contacts", contact, {"phone": raw}, ctx.now)
        reply.data["phone"] = raw
        return reply

    wrap_handler("createContact", create)
