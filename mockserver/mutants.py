"""Mutants: realistic bugs the contract suite must catch (``wacr-mock --mutant NAME``).

Each mutant changes one ``MockCore`` instance, and only through the seams the core declares:
its ``steps``, its ``handlers`` table, its ``reference_rules``, its ``paging`` and its
``after_dispatch`` hooks. Nothing is patched by name, so renaming a private function cannot
disarm a mutant, and other instances in the process stay correct.
``python -m contract_tests.meta`` runs the suite once per mutant and asserts that it fails.
(Not to be confused with ``/__mock__/faults``, which injects errors and delays at run time.)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from mockserver import listing
from mockserver.context import Context, Reply
from mockserver.core import MockCore
from mockserver.errors import ApiError
from mockserver.exchange import Exchange, Pipeline, Step
from mockserver.handlers import auth, messages
from mockserver.http import CoreResponse
from mockserver.steps import check_unique


@dataclass(frozen=True)
class Mutant:
    name: str
    area: str
    description: str
    apply: Callable[[MockCore], None]


MUTANTS: dict[str, Mutant] = {}


def mutant(
    name: str, area: str, description: str
) -> Callable[[Callable[[MockCore], None]], Callable[[MockCore], None]]:
    def register(apply: Callable[[MockCore], None]) -> Callable[[MockCore], None]:
        MUTANTS[name] = Mutant(name, area, description, apply)
        return apply

    return register


def apply_mutant(core: MockCore, name: str) -> Mutant:
    """Turns ``core`` into the named mutant; ValueError names the known ones."""
    if name not in MUTANTS:
        raise ValueError(f"unknown mutant {name!r}; known: {', '.join(sorted(MUTANTS))}")
    MUTANTS[name].apply(core)
    return MUTANTS[name]


# --- the seams, as mutants use them ---------------------------------------------------------------------

Around = Callable[[Callable[[Context], Reply], Context], Reply]


def wrap_handler(core: MockCore, operation_id: str, around: Around) -> None:
    original = core.handlers[operation_id]
    core.handlers[operation_id] = lambda ctx: around(original, ctx)


def wrap_step(core: MockCore, name: str, around: Callable[[Step, Pipeline, Exchange], None]) -> None:
    core.steps = core.steps.wrap(name, around)


def rewrite_responses(core: MockCore, change: Callable[[CoreResponse], None]) -> None:
    core.after_dispatch.append(lambda exchange, response: change(response))


def error_code(response: CoreResponse) -> str | None:
    body = response.body if isinstance(response.body, dict) else {}
    return (body.get("error") or {}).get("code")


def delete_without_checks(core: MockCore, operation_id: str, collection: str | None) -> None:
    """The delete answers success; with ``collection``, it removes the record and nothing else."""

    def delete(original, ctx):
        if collection is not None:
            ctx.tenant.remove(collection, ctx.record["id"])
        return Reply(None)

    wrap_handler(core, operation_id, delete)


# --- OTP --------------------------------------------------------------------------------------------


@mutant(
    "otp_expiry_off_by_one", "OTP", "an OTP still verifies at the very second it expires (now == expires_at)"
)
def _otp_expiry_off_by_one(core: MockCore) -> None:
    def verify(original, ctx):
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        if otp is not None and int(ctx.now) == int(otp.expires_at):
            otp.expires_at += 1
        return original(ctx)

    wrap_handler(core, "verifyOtp", verify)


@mutant("otp_wrong_code_not_counted", "OTP", "a wrong code does not use up an attempt")
def _otp_wrong_code_not_counted(core: MockCore) -> None:
    def verify(original, ctx):
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        before = otp.attempts if otp else 0
        try:
            return original(ctx)
        finally:
            if otp is not None:
                otp.attempts = before

    wrap_handler(core, "verifyOtp", verify)


def keep_otp_through(core: MockCore, operation_id: str) -> None:
    """After a successful call of ``operation_id``, the OTP stored before it is put back."""

    def around(original, ctx):
        key = auth.otp_key(ctx)
        before = ctx.tenant.otps.get(key)
        reply = original(ctx)
        if before is not None:
            ctx.tenant.otps[key] = before
        return reply

    wrap_handler(core, operation_id, around)


@mutant("otp_not_consumed", "OTP", "a verified OTP can be verified again")
def _otp_not_consumed(core: MockCore) -> None:
    keep_otp_through(core, "verifyOtp")


@mutant("otp_resend_keeps_old_code", "OTP", "resend sends a new code but the previous one stays valid")
def _otp_resend_keeps_old_code(core: MockCore) -> None:
    keep_otp_through(core, "resendOtp")


@mutant("otp_status_counts_attempt", "OTP", "Check OTP Status uses up an attempt")
def _otp_status_counts_attempt(core: MockCore) -> None:
    def status(original, ctx):
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        if otp is not None:
            otp.attempts += 1
        return original(ctx)

    wrap_handler(core, "checkOtpStatus", status)


@mutant("otp_phone_not_cleaned", "OTP", "OTPs are keyed by the phone as sent, so two spellings differ")
def _otp_phone_not_cleaned(core: MockCore) -> None:
    spelled: dict[tuple[int, tuple[str, str]], str] = {}  # (tenant, OTP key) -> the phone as sent

    def send(original, ctx):
        reply = original(ctx)
        spelled[(ctx.tenant.id, auth.otp_key(ctx))] = ctx.body["phone"]
        return reply

    def by_spelling(original, ctx):
        # Another spelling of the phone finds no OTP, as if the store were keyed by the text sent.
        key = auth.otp_key(ctx)
        if spelled.get((ctx.tenant.id, key), ctx.body["phone"]) == ctx.body["phone"]:
            return original(ctx)
        hidden = ctx.tenant.otps.pop(key, None)
        try:
            return original(ctx)
        finally:
            if hidden is not None and key not in ctx.tenant.otps:
                ctx.tenant.otps[key] = hidden

    wrap_handler(core, "sendOtp", send)
    for operation_id in ("resendOtp", "verifyOtp", "checkOtpStatus"):
        wrap_handler(core, operation_id, by_spelling)


def without_limiter(core: MockCore, operation_id: str) -> None:
    """``operation_id``'s OTP limiter forgets every call before this one, so it never refuses."""

    def forget(original, ctx):
        ctx.tenant.limiters.pop(auth.limiter_key(ctx), None)
        return original(ctx)

    wrap_handler(core, operation_id, forget)


@mutant("otp_no_verify_limit", "OTP", "verify has no per-phone rate limit")
def _otp_no_verify_limit(core: MockCore) -> None:
    without_limiter(core, "verifyOtp")


@mutant("otp_six_attempts", "OTP", "six wrong codes are allowed instead of five")
def _otp_six_attempts(core: MockCore) -> None:
    def send(original, ctx):
        reply = original(ctx)
        ctx.tenant.otps[auth.otp_key(ctx)].max_attempts = 6
        return reply

    wrap_handler(core, "sendOtp", send)
    wrap_handler(core, "resendOtp", send)


@mutant(
    "otp_default_expiry_five",
    "OTP",
    "an OTP sent without expiry_minutes lives 5 minutes, not the documented 10",
)
def _otp_default_expiry_five(core: MockCore) -> None:
    def send(original, ctx):
        ctx.body.setdefault("expiry_minutes", 5)
        return original(ctx)

    wrap_handler(core, "sendOtp", send)
    wrap_handler(core, "resendOtp", send)


@mutant("otp_purpose_ignored", "OTP", "verify accepts the code of the phone's OTP for another purpose")
def _otp_purpose_ignored(core: MockCore) -> None:
    def verify(original, ctx):
        phone, purpose = auth.otp_key(ctx)
        others = [p for (number, p) in ctx.tenant.otps if number == phone and p != purpose]
        if (phone, purpose) not in ctx.tenant.otps and others:
            ctx.body["purpose"] = others[0]
        return original(ctx)

    wrap_handler(core, "verifyOtp", verify)


@mutant(
    "otp_status_none_generic_message", "OTP", "Check OTP Status without an OTP says 'OTP status retrieved'"
)
def _otp_status_none_generic_message(core: MockCore) -> None:
    def status(original, ctx):
        reply = original(ctx)
        return dataclasses.replace(reply, message=ctx.op.success_message) if reply.message else reply

    wrap_handler(core, "checkOtpStatus", status)


@mutant("otp_no_resend_limit", "OTP", "resend has no per-phone rate limit")
def _otp_no_resend_limit(core: MockCore) -> None:
    without_limiter(core, "resendOtp")


@mutant("otp_verify_limit_not_cleared", "OTP", "a successful verify leaves the verify limiter's count")
def _otp_verify_limit_not_cleared(core: MockCore) -> None:
    def verify(original, ctx):
        key = auth.limiter_key(ctx)
        counted = ctx.tenant.limiters.get(key)  # the calls before this one; it adds itself to the same window
        reply = original(ctx)
        if counted is not None:
            ctx.tenant.limiters[key] = counted
        return reply

    wrap_handler(core, "verifyOtp", verify)


@mutant("otp_expiry_ignored", "OTP", "an expired OTP still verifies")
def _otp_expiry_ignored(core: MockCore) -> None:
    def verify(original, ctx):
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        if otp is not None and ctx.now >= otp.expires_at:
            otp.expires_at = ctx.now + 60
        return original(ctx)

    wrap_handler(core, "verifyOtp", verify)


@mutant("otp_attempts_survive_send", "OTP", "a new OTP keeps the failed attempts of the one it replaces")
def _otp_attempts_survive_send(core: MockCore) -> None:
    def send(original, ctx):
        before = ctx.tenant.otps.get(auth.otp_key(ctx))
        reply = original(ctx)
        if before is not None:
            ctx.tenant.otps[auth.otp_key(ctx)].attempts = before.attempts
        return reply

    wrap_handler(core, "sendOtp", send)
    wrap_handler(core, "resendOtp", send)


@mutant("otp_resend_short_code", "OTP", "resend generates a 4-digit code instead of 6")
def _otp_resend_short_code(core: MockCore) -> None:
    def resend(original, ctx):
        reply = original(ctx)
        otp = ctx.tenant.otps[auth.otp_key(ctx)]
        otp.code = otp.code[:4]
        return reply

    wrap_handler(core, "resendOtp", resend)


# --- messages and plan limits ----------------------------------------------------------------------------

# Every operation that sends a WhatsApp message (and so may auto-create its contact).
SENDS = tuple(op_id for op_id in (*messages.HANDLERS, *auth.HANDLERS) if op_id.startswith(("send", "resend")))


def without_contact_limit(original, ctx):
    """Runs ``original`` as if the tenant's plan had no contact limit."""
    limits = ctx.tenant.limits
    saved = limits.get("contacts")
    limits["contacts"] = -1
    try:
        return original(ctx)
    finally:
        if saved is None:
            limits.pop("contacts", None)
        else:
            limits["contacts"] = saved


@mutant("contact_limit_ignored", "messages", "Create Contact ignores the plan's contacts limit")
def _contact_limit_ignored(core: MockCore) -> None:
    wrap_handler(core, "createContact", without_contact_limit)


@mutant(
    "auto_created_contacts_uncounted", "messages", "contacts the sends auto-create ignore the contacts limit"
)
def _auto_created_contacts_uncounted(core: MockCore) -> None:
    for operation_id in SENDS:
        wrap_handler(core, operation_id, without_contact_limit)


@mutant(
    "auto_created_contact_dropped", "messages", "a send answers the contact_id of a contact it never stores"
)
def _auto_created_contact_dropped(core: MockCore) -> None:
    def send(original, ctx):
        known = {contact["id"] for contact in ctx.tenant.table("contacts").values()}
        reply = original(ctx)
        if reply.data["contact_id"] not in known:
            ctx.tenant.remove("contacts", reply.data["contact_id"])
        return reply

    for operation_id in SENDS:
        wrap_handler(core, operation_id, send)


@mutant("text_answer_unmerged", "messages", "Send Text answers the message as sent, merge fields unexpanded")
def _text_answer_unmerged(core: MockCore) -> None:
    def send(original, ctx):
        reply = original(ctx)
        return dataclasses.replace(reply, data={**reply.data, "message": ctx.body["message"]})

    wrap_handler(core, "sendTextMessage", send)


@mutant(
    "template_fields_unmerged",
    "messages",
    "Send Template stores its field_N values with merge fields unexpanded",
)
def _template_fields_unmerged(core: MockCore) -> None:
    def send(original, ctx):
        reply = original(ctx)
        stored = ctx.tenant.find("messages", message_id=reply.data["message_id"])
        if stored is not None:
            stored["message"] = " ".join(
                str(v) for k, v in sorted(ctx.body.items()) if k.startswith("field_")
            )
        return reply

    wrap_handler(core, "sendTemplateMessage", send)


@mutant("template_status_ignored", "messages", "Send Template sends PENDING and REJECTED templates too")
def _template_status_ignored(core: MockCore) -> None:
    def send(original, ctx):
        named = [
            t
            for t in ctx.tenant.table("templates").values()
            if t["template_name"] == ctx.body.get("template_name")
        ]
        statuses = [(t, t["status"]) for t in named]
        for template in named:
            template["status"] = "APPROVED"
        try:
            return original(ctx)
        finally:
            for template, status in statuses:
                template["status"] = status

    wrap_handler(core, "sendTemplateMessage", send)


# --- validation ---------------------------------------------------------------------------------------


@mutant("validation_first_field_only", "validation", "a 422 lists only the first failing field")
def _validation_first_field_only(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "VALIDATION_ERROR":
            details = response.body["error"]["details"]
            first = next(iter(details))
            response.body["error"]["details"] = {first: details[first]}

    rewrite_responses(core, change)


@mutant("validation_message_reworded", "validation", "a documented message is worded differently")
def _validation_message_reworded(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "VALIDATION_ERROR":
            text = json.dumps(response.body).replace(
                "Phone number is required", "The phone field is required."
            )
            response.body = json.loads(text)

    rewrite_responses(core, change)


@mutant("nested_errors_under_the_array", "validation", "a nested field's failure is reported under its array")
def _nested_errors_under_the_array(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "VALIDATION_ERROR":
            details: dict = {}
            for key, messages in response.body["error"]["details"].items():
                details.setdefault(key.split(".")[0], []).extend(messages)
            response.body["error"]["details"] = details

    rewrite_responses(core, change)


@mutant("validation_status_400", "validation", "validation failures answer 400 instead of 422")
def _validation_status_400(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "VALIDATION_ERROR":
            response.status = 400

    rewrite_responses(core, change)


@mutant(
    "validation_coerces_strings", "validation", "a numeric string is accepted where the spec says integer"
)
def _validation_coerces_strings(core: MockCore) -> None:
    def validate(original, core, exchange):
        for name, value in list(exchange.body.items()):
            if isinstance(value, str) and value.isdigit() and name.endswith(("_id", "_minutes")):
                exchange.body[name] = int(value)
        original(core, exchange)

    wrap_step(core, "validate", validate)


# --- auth and scopes -------------------------------------------------------------------------------


@mutant("scope_not_checked", "auth", "a token without the operation's scope is let through")
def _scope_not_checked(core: MockCore) -> None:
    core.steps = core.steps.replace("check_scope", lambda core, exchange: None)


@mutant("missing_token_403", "auth", "a request without a token answers 403 instead of 401")
def _missing_token_403(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        if error_code(response) == "UNAUTHORIZED":
            response.status = 403
            response.body["error"]["code"] = "INSUFFICIENT_SCOPE"

    rewrite_responses(core, change)


@mutant("unknown_token_accepted", "auth", "any bearer token is accepted as the demo tenant's")
def _unknown_token_accepted(core: MockCore) -> None:
    def authenticate(original, core, exchange):
        try:
            original(core, exchange)
        except ApiError:
            header = exchange.request.headers.get("authorization", "")
            if not (header.lower().startswith("bearer ") and header[7:].strip()):
                raise
            exchange.token = core.store.tokens["wacr_test_full"]
            exchange.tenant = core.store.tenants[exchange.token.tenant_id]

    wrap_step(core, "authenticate", authenticate)


# --- tenancy ---------------------------------------------------------------------------------------


@mutant("tenant_leak_get", "tenancy", "a record of another tenant can be read by id")
def _tenant_leak_get(core: MockCore) -> None:
    def load_record(original, core, exchange):
        try:
            original(core, exchange)
        except ApiError:
            own = exchange.tenant
            for other in core.store.tenants.values():
                if other is own or "id" not in exchange.match.params:
                    continue
                exchange.tenant = other
                try:
                    original(core, exchange)
                    return
                except ApiError:
                    continue
                finally:
                    exchange.tenant = own
            raise

    wrap_step(core, "load_record", load_record)


@mutant("tenant_leak_list", "tenancy", "List Sources shows every tenant's sources")
def _tenant_leak_list(core: MockCore) -> None:
    def list_sources(original, ctx):
        everything = [s for t in core.store.tenants.values() for s in t.table("sources").values()]
        return listing.respond(ctx, everything)

    wrap_handler(core, "listSources", list_sources)


# --- CRUD --------------------------------------------------------------------------------------------


@mutant("update_clears_unsent_fields", "CRUD", "Update Contact blanks the optional fields it was not sent")
def _update_clears_unsent_fields(core: MockCore) -> None:
    def update(original, ctx):
        blanked = {name: ctx.body.get(name) for name in ("company", "city", "email")}
        ctx.tenant.set_fields("contacts", ctx.record, blanked, ctx.now)
        return original(ctx)

    wrap_handler(core, "updateContact", update)


@mutant("group_delete_keeps_membership", "CRUD", "deleting a group leaves its id in contacts' group_id")
def _group_delete_keeps_membership(core: MockCore) -> None:
    delete_without_checks(core, "deleteGroup", "groups")


@mutant("duplicate_phone_allowed", "CRUD", "two contacts may share a phone")
def _duplicate_phone_allowed(core: MockCore) -> None:
    def unique(ctx, check, outcome):
        if check.normalise != "phone":
            check_unique(ctx, check, outcome)

    core.reference_rules["unique"] = unique


@mutant("source_in_use_deleted", "CRUD", "a source still used by contacts can be deleted")
def _source_in_use_deleted(core: MockCore) -> None:
    delete_without_checks(core, "deleteSource", "sources")


@mutant("deleted_record_still_readable", "CRUD", "Delete Status answers 200 but the status stays")
def _deleted_record_still_readable(core: MockCore) -> None:
    delete_without_checks(core, "deleteStatus", None)


@mutant("add_to_group_counts_members", "CRUD", "contacts_added counts contacts that were already members")
def _add_to_group_counts_members(core: MockCore) -> None:
    def add(original, ctx):
        reply = original(ctx)
        reply.data["contacts_added"] = len(set(ctx.body["contact_ids"]))
        return reply

    wrap_handler(core, "addGroupContacts", add)


@mutant(
    "contact_phone_not_cleaned",
    "CRUD",
    "contacts store the phone as sent and are matched on it, so two spellings of a number are two contacts",
)
def _contact_phone_not_cleaned(core: MockCore) -> None:
    def create(original, ctx):
        reply = original(ctx)
        raw = ctx.body["phone"]
        contact = ctx.tenant.table("contacts")[reply.data["id"]]
        ctx.tenant.set_fields("contacts", contact, {"phone": raw}, ctx.now)
        reply.data["phone"] = raw
        return reply

    wrap_handler(core, "createContact", create)


@mutant(
    "contact_reference_unchecked", "CRUD", "a contact may name a source or status the tenant does not have"
)
def _contact_reference_unchecked(core: MockCore) -> None:
    exists = core.reference_rules["exists"]

    def only_others(ctx, check, outcome):
        if check.collection not in ("sources", "statuses"):
            exists(ctx, check, outcome)

    core.reference_rules["exists"] = only_others


@mutant("contact_groups_not_loaded", "CRUD", "Create and Update Contact answer without the contact's groups")
def _contact_groups_not_loaded(core: MockCore) -> None:
    def without_groups(original, ctx):
        reply = original(ctx)
        reply.data.pop("groups", None)
        return reply

    for operation_id in ("createContact", "updateContact"):
        wrap_handler(core, operation_id, without_groups)


# --- pagination ---------------------------------------------------------------------------------------


@mutant("page_overlap", "pagination", "each page after the first repeats the previous page's last item")
def _page_overlap(core: MockCore) -> None:
    original = core.paging.page

    def page(records, number, per_page, base_url, query):
        items, meta, links = original(records, number, per_page, base_url, query)
        if number > 1 and items:
            start = (number - 1) * per_page - 1
            items = records[start : start + per_page]
        return items, meta, links

    core.paging = dataclasses.replace(core.paging, page=page)


@mutant("total_is_page_size", "pagination", "meta.total counts the page, not the whole list")
def _total_is_page_size(core: MockCore) -> None:
    original = core.paging.page

    def page(records, number, per_page, base_url, query):
        items, meta, links = original(records, number, per_page, base_url, query)
        meta["total"] = len(items)
        return items, meta, links

    core.paging = dataclasses.replace(core.paging, page=page)


@mutant("descending_sort_ignored", "pagination", "a '-' sort prefix is ignored")
def _descending_sort_ignored(core: MockCore) -> None:
    original = core.paging.sort
    core.paging = dataclasses.replace(
        core.paging, sort=lambda records, sort: original(records, sort.replace("-", ""))
    )


@mutant("per_page_unbounded", "pagination", "per_page above 100 is accepted")
def _per_page_unbounded(core: MockCore) -> None:
    def too_big(key: str, value: str) -> bool:
        return key == "per_page" and value.isdigit() and int(value) > 100

    def validate(original, core, exchange):
        asked = exchange.request.query
        capped = [(k, v) for k, v in asked if not too_big(k, v)]
        exchange.request = dataclasses.replace(exchange.request, query_string=urlencode(capped))
        original(core, exchange)
        for key, value in asked:
            if too_big(key, value):
                exchange.ctx.query["per_page"] = int(value)

    wrap_step(core, "validate", validate)


def rewrite_query(core: MockCore, change: Callable[[list[tuple[str, str]]], list[tuple[str, str]]]) -> None:
    """The request's query as the server reads it, changed before validation (a bug in its query parsing)."""

    def validate(original, core, exchange):
        query = change(list(exchange.request.query))
        exchange.request = dataclasses.replace(exchange.request, query_string=urlencode(query))
        original(core, exchange)

    wrap_step(core, "validate", validate)


@mutant(
    "filter_operator_as_equals", "pagination", "filter[field][operator] is read as filter[field] (equality)"
)
def _filter_operator_as_equals(core: MockCore) -> None:
    def plain(query):
        return [((f"filter[{m.group(1)}]" if (m := listing.FILTER_KEY.match(k)) else k), v) for k, v in query]

    rewrite_query(core, plain)


@mutant("include_ignored", "pagination", "include is accepted but embeds nothing")
def _include_ignored(core: MockCore) -> None:
    rewrite_query(core, lambda query: [(k, v) for k, v in query if k != "include"])


@mutant("fields_ignored", "pagination", "fields is accepted but every field is returned")
def _fields_ignored(core: MockCore) -> None:
    rewrite_query(core, lambda query: [(k, v) for k, v in query if k != "fields"])


@mutant("default_per_page_10", "pagination", "a list without per_page shows 10 items, not 15")
def _default_per_page_10(core: MockCore) -> None:
    rewrite_query(
        core, lambda query: query if any(k == "per_page" for k, _ in query) else [*query, ("per_page", "10")]
    )


# --- response shape ----------------------------------------------------------------------------------


@mutant("request_id_mismatch", "response shape", "X-Request-Id differs from meta.request_id")
def _request_id_mismatch(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        if "X-Request-Id" in response.headers:
            response.headers["X-Request-Id"] = "00000000-0000-4000-8000-000000000000"

    rewrite_responses(core, change)


@mutant("timestamp_with_microseconds", "response shape", "meta.timestamp has microseconds and a Z offset")
def _timestamp_with_microseconds(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        meta = response.body.get("meta") if isinstance(response.body, dict) else None
        if meta and "timestamp" in meta:
            meta["timestamp"] = meta["timestamp"].replace("+00:00", ".123456Z")

    rewrite_responses(core, change)


@mutant("error_without_success_flag", "response shape", "error answers lack the success flag")
def _error_without_success_flag(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        if response.status >= 400 and isinstance(response.body, dict):
            response.body.pop("success", None)

    rewrite_responses(core, change)


@mutant("rate_limit_headers_missing", "response shape", "no X-RateLimit-* headers")
def _rate_limit_headers_missing(core: MockCore) -> None:
    def change(response: CoreResponse) -> None:
        response.headers.pop("X-RateLimit-Limit", None)
        response.headers.pop("X-RateLimit-Remaining", None)

    rewrite_responses(core, change)
