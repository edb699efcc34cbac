"""The mock's control API under ``/__mock__`` (D14, plus the mock's own additions).

Answers are plain JSON without the WA.cr envelope: 200 on success, 404 when a
named tenant, contact or OTP does not exist, 400 for a malformed call.
``docs/control-api.yaml`` describes every call.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from mockserver.behaviour import Behaviour
from mockserver.clock import Clock, parse_iso
from mockserver.errors import ApiError
from mockserver.export import StateSource, seed_of
from mockserver.http import CoreRequest, CoreResponse, json_object
from mockserver.phones import clean_phone
from mockserver.resources import present_contact, template_record
from mockserver.seed import create_tenant
from mockserver.spec import Spec
from mockserver.store import StoreError, Tenant

log = logging.getLogger("wacr-mock")
LATEST_MOMENT = 253_370_764_799  # 9998-12-31T23:59:59Z: a day short of the last four-digit year
MAX_DELAY_MS = 60_000  # a longer wait would outlast every client's timeout


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ControlSettings:
    """The control API (``/__mock__``): on or off, the secret it asks for, and whom it answers.

    ``hosts``: the ``Host`` names it answers to (None: any), so a page that rebinds its own
    DNS name to 127.0.0.1 cannot reach it. A browser call (one with an ``Origin``) is answered
    only from a loopback page or an origin in ``origins``, so no other page can change the
    mock behind its user's back.
    """

    enabled: bool = True
    admin_secret: str | None = None
    hosts: frozenset[str] | None = None
    origins: frozenset[str] = frozenset()

    def refusal(self, headers: dict[str, str]) -> str | None:
        """Why a control call with these (lower-case) headers is refused, or None."""
        if self.hosts is not None and host_name(headers.get("host", "")) not in self.hosts:
            return f"the control API answers only to Host {', '.join(sorted(self.hosts))}"
        origin = headers.get("origin")
        if (
            origin is not None
            and origin not in self.origins
            and host_name(urlsplit(origin).netloc) not in LOOPBACK_NAMES
        ):
            return f"the control API does not answer pages from {origin} (allow one with --cors-origin)"
        return None


def host_name(netloc: str) -> str:
    """``host`` of ``host:port`` or ``[v6]:port``, lower-cased."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


class Controlled(StateSource, Protocol):
    """What the control calls may read and change of their instance (``MockCore`` is one)."""

    spec: Spec
    behaviour: Behaviour
    injected: dict[str, dict]  # /__mock__/faults, by operation

    @property
    def control(self) -> ControlSettings: ...

    @property
    def variants(self) -> Iterable[str]: ...

    @property
    def journal(self) -> Iterable[dict]: ...

    def reset(self) -> None: ...


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(request: CoreRequest) -> dict:
    try:
        return json_object(request.body)
    except ApiError as error:
        raise ControlError(400, error.message.replace("The request body", "the body")) from None


def _int(value: Any, name: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value):
            value = int(value)
        else:
            raise ControlError(400, f"{name} must be an integer")
    if abs(value) >= 10**18:
        raise ControlError(400, f"{name} must have at most 18 digits")
    if minimum is not None and value < minimum:
        raise ControlError(400, f"{name} must be at least {minimum}")
    return value


def _limits(body: dict) -> dict[str, int]:
    """Plan limits: a count, or -1 for unlimited."""
    return {key: _int(value, f"limits.{key}", -1) for key, value in _mapping(body, "limits").items()}


def _features(body: dict) -> dict[str, bool]:
    features = _mapping(body, "features")
    wrong = sorted(key for key, value in features.items() if not isinstance(value, bool))
    if wrong:
        raise ControlError(400, f"features must be true or false: {', '.join(wrong)}")
    return features


def _name(body: dict) -> str | None:
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 255):
        raise ControlError(400, "name must be a non-empty string of at most 255 characters")
    return name


# The tenant settings the mock reads, and the type each must have; other keys may hold any scalar.
SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "whatsapp_configured": (bool,),
    "auto_contact_config": (bool,),
    "business_account_id": (str, type(None)),
    "sender_id": (str,),
    "campaigns": (int,),
    "staff": (int,),
    "default_source_id": (int,),
    "default_status_id": (int,),
}
MAX_SETTINGS = 100
MAX_SETTING_TEXT = 1000


def _settings(body: dict) -> dict[str, Any]:
    """Scalars only (a nested value could not be stored or shown sensibly), typed where the mock reads them."""
    settings = _mapping(body, "settings")
    if len(settings) > MAX_SETTINGS:
        raise ControlError(400, f"settings may have at most {MAX_SETTINGS} keys")
    for key, value in settings.items():
        if len(key) > MAX_SETTING_TEXT or (isinstance(value, str) and len(value) > MAX_SETTING_TEXT):
            raise ControlError(
                400, f"settings.{key[:50]}: keys and texts may have at most {MAX_SETTING_TEXT} characters"
            )
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ControlError(400, f"settings.{key} must be a string, number, boolean or null")
        if isinstance(value, float) and not math.isfinite(value):
            raise ControlError(400, f"settings.{key} must be a finite number")
        wanted = SETTING_TYPES.get(key)
        if wanted is not None and (
            not isinstance(value, wanted) or (bool in wanted) != isinstance(value, bool)
        ):
            raise ControlError(
                400, f"settings.{key} must be {'true or false' if bool in wanted else wanted[0].__name__}"
            )
        if wanted == (int,):
            _int(value, f"settings.{key}", 0)
    return settings


def _options(body: dict) -> dict[str, dict]:
    return {"limits": _limits(body), "features": _features(body), "settings": _settings(body)}


def _moment(epoch: float, name: str) -> float:
    """A clock reading the mock can print: between 1970 and 9998 (ISO 8601 with four-digit years)."""
    if not (math.isfinite(epoch) and 0 <= epoch <= LATEST_MOMENT):
        raise ControlError(400, f"{name} would put the clock outside 1970-01-01 .. 9998-12-31")
    return epoch


def _scopes(body: dict) -> list[str]:
    scopes = body.get("scopes", ["*"])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ControlError(400, "scopes must be a list of strings")
    return scopes


def _mapping(body: dict, name: str) -> dict:
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise ControlError(400, f"{name} must be an object")
    return value


def _tenant(core: Controlled, tenant_id: Any) -> Tenant:
    tenant = core.store.tenants.get(_int(tenant_id, "tenant_id"))
    if tenant is None:
        raise ControlError(404, f"no tenant {tenant_id}")
    core.store.touched.add(tenant.id)  # the call may change it: the commit compares its row
    return tenant


def _query(request: CoreRequest) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.query_string).items()}


# --- calls ---------------------------------------------------------------------------------


def health(core: Controlled, request: CoreRequest, params: dict) -> Any:
    return {"status": "ok", "operations": len(core.spec.operations), "variants": sorted(core.variants)}


def reset(core: Controlled, request: CoreRequest, params: dict) -> Any:
    try:
        core.reset()  # builds the new state first: a broken seed file leaves the old one in place
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        problem = f"a required key is missing: {exc}" if isinstance(exc, KeyError) else exc
        raise ControlError(
            500, f"reset refused, the state is unchanged: a --seed file is not valid: {problem}"
        ) from None
    return {"status": "reset"}


def new_tenant(core: Controlled, request: CoreRequest, params: dict) -> Any:
    body = _json(request)
    options = _options(body)
    scopes = _scopes(body)
    rate = _int(body.get("rate_limit_per_minute", 60), "rate_limit_per_minute", 1)
    tenant = create_tenant(core.store, options, _name(body))
    token = core.store.add_token(tenant, scopes, rate)
    return {
        "tenant_id": tenant.id,
        "token": token.value,
        "default_source_id": tenant.settings["default_source_id"],
        "default_status_id": tenant.settings["default_status_id"],
    }


def describe_tenant(core: Controlled, request: CoreRequest, params: dict) -> Any:
    tenant = _tenant(core, params["id"])
    return {
        "tenant_id": tenant.id,
        "name": tenant.name,
        "limits": tenant.limits,
        "features": tenant.features,
        "settings": tenant.settings,
        "whatsapp_templates": tenant.whatsapp_templates,
        "counts": {name: len(table) for name, table in tenant.records.items()},
    }


def change_tenant(core: Controlled, request: CoreRequest, params: dict) -> Any:
    tenant = _tenant(core, params["id"])
    body = _json(request)
    for key, values in _options(body).items():
        getattr(tenant, key).update(values)
    if "whatsapp_templates" in body:
        templates = body["whatsapp_templates"]
        required = {"template_id", "template_name", "category", "status", "body"}
        if not isinstance(templates, list) or not all(
            isinstance(t, dict) and required <= set(t) for t in templates
        ):
            raise ControlError(400, f"whatsapp_templates must be a list of objects with {sorted(required)}")
        try:
            for definition in templates:
                template_record(definition, 0)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ControlError(400, f"a whatsapp template is malformed: {exc}") from None
        tenant.whatsapp_templates = [dict(t) for t in templates]
    return describe_tenant(core, request, params)


def new_token(core: Controlled, request: CoreRequest, params: dict) -> Any:
    tenant = _tenant(core, params["id"])
    body = _json(request)
    token = core.store.add_token(
        tenant, _scopes(body), _int(body.get("rate_limit_per_minute", 60), "rate_limit_per_minute", 1)
    )
    return {"tenant_id": tenant.id, "token": token.value, "scopes": sorted(token.scopes)}


def read_clock(core: Controlled, request: CoreRequest, params: dict) -> Any:
    tenant_id = _query(request).get("tenant_id")
    if tenant_id is None:
        return core.store.default_clock.describe()
    return core.store.clock_of(_tenant(core, tenant_id)).describe()


def move_clock(core: Controlled, request: CoreRequest, params: dict) -> Any:
    body = _json(request)
    if "advance_seconds" in body and "now" in body:
        raise ControlError(400, "advance_seconds and now exclude each other")
    if not ({"advance_seconds", "now", "freeze"} & set(body)):
        raise ControlError(400, "give one of advance_seconds, now or freeze")
    clock: Clock
    if body.get("tenant_id") is not None:
        clock = core.store.own_clock(_tenant(core, body["tenant_id"]))
    else:
        clock = core.store.default_clock
    if "advance_seconds" in body:
        seconds = body["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ControlError(400, "advance_seconds must be a number")
        if not abs(seconds) <= LATEST_MOMENT:  # also NaN; and a 400-digit integer, before any float sum
            raise ControlError(400, "advance_seconds would put the clock outside 1970-01-01 .. 9998-12-31")
        _moment(clock.now() + seconds, "advance_seconds")
        clock.advance(seconds)
    if "now" in body:
        try:
            moment = parse_iso(str(body["now"]))
        except (ValueError, OverflowError):
            raise ControlError(400, "now must be an ISO 8601 timestamp") from None
        clock.set(_moment(moment, "now"))
    if "freeze" in body:
        if not isinstance(body["freeze"], bool):
            raise ControlError(400, "freeze must be true or false")
        clock.freeze(body["freeze"])
    return clock.describe()


def patch_contact(core: Controlled, request: CoreRequest, params: dict) -> Any:
    body = _json(request)
    contact_id = _int(params["id"], "id")
    owners = core.store.owners_of("contacts", contact_id)
    # Where ids are per tenant (a variant, D19) one id may name several contacts: tenant_id picks one.
    tenant_id = body.get("tenant_id", _query(request).get("tenant_id"))
    if tenant_id is not None:
        wanted = _int(tenant_id, "tenant_id")
        owners = [t for t in owners if t.id == wanted]
    if not owners:
        raise ControlError(404, f"no contact {contact_id}")
    if len(owners) > 1:
        raise ControlError(400, f"contact {contact_id} exists in several tenants; give tenant_id")
    tenant = owners[0]
    if not isinstance(body.get("is_opted_out"), bool):
        raise ControlError(400, "is_opted_out must be true or false")
    contact = tenant.table("contacts")[contact_id]
    now = core.store.clock_of(tenant).now()
    changed = tenant.set_fields("contacts", contact, {"is_opted_out": body["is_opted_out"]}, now)
    return present_contact(tenant, changed, phone_as_sent=core.behaviour.phone_as_sent)


def peek_otp(core: Controlled, request: CoreRequest, params: dict) -> Any:
    query = _query(request)
    if "tenant_id" not in query or "phone" not in query:
        raise ControlError(400, "tenant_id and phone are required")
    tenant = _tenant(core, query["tenant_id"])
    otp = tenant.otps.get((clean_phone(query["phone"]), query.get("purpose") or "authentication"))
    if otp is None:
        raise ControlError(404, "no OTP for that phone and purpose")
    return otp.public()


def requests_journal(core: Controlled, request: CoreRequest, params: dict) -> Any:
    """Newest last; ``bodies=true`` adds headers, bodies (secrets masked) and why a refusal happened."""
    query = _query(request)
    entries = list(core.journal)
    if query.get("tenant_id") is not None:
        wanted = _int(query["tenant_id"], "tenant_id")
        entries = [e for e in entries if e["tenant_id"] == wanted]
    if query.get("operation_id"):
        entries = [e for e in entries if e["operation_id"] == query["operation_id"]]
    if query.get("status"):
        wanted_status = _int(query["status"], "status")
        entries = [e for e in entries if e["status"] == wanted_status]
    if query.get("request_id"):
        entries = [e for e in entries if e["request_id"] == query["request_id"]]
    if query.get("limit"):
        entries = entries[-_int(query["limit"], "limit", 1) :]
    if query.get("bodies", "false").lower() not in ("true", "1", "yes"):
        entries = [{k: v for k, v in e.items() if k != "detail"} for e in entries]
    return {"requests": entries}


def otp_inbox(core: Controlled, request: CoreRequest, params: dict) -> Any:
    """Every stored OTP (of one tenant with ``tenant_id``), newest first, with seconds to expiry on its tenant's clock."""
    tenant_id = _query(request).get("tenant_id")
    tenants = [_tenant(core, tenant_id)] if tenant_id is not None else list(core.store.tenants.values())
    listed = []
    for tenant in tenants:
        now = core.store.clock_of(tenant).now()
        for otp in tenant.otps.values():
            seconds = math.ceil(otp.expires_at - now)
            listed.append({"tenant_id": tenant.id, **otp.public(), "expires_in_seconds": max(0, seconds)})
    listed.sort(key=lambda o: o["created_at"], reverse=True)
    return {"otps": listed}


def list_tenants(core: Controlled, request: CoreRequest, params: dict) -> Any:
    """Every tenant with its tokens (values included: the control API is the mock's owner's)."""
    tokens: dict[int, list[dict]] = {}
    for token in core.store.tokens.values():
        tokens.setdefault(token.tenant_id, []).append(
            {
                "token": token.value,
                "scopes": sorted(token.scopes),
                "rate_limit_per_minute": token.rate_limit_per_minute,
            }
        )
    return {
        "tenants": [
            {
                "tenant_id": tenant.id,
                "name": tenant.name,
                "clock": core.store.clock_of(tenant).describe(),
                "counts": {name: len(table) for name, table in tenant.records.items()},
                "tokens": tokens.get(tenant.id, []),
            }
            for tenant in core.store.tenants.values()
        ]
    }


def export_seed(core: Controlled, request: CoreRequest, params: dict) -> Any:
    """The state as a seed file (JSON, which YAML reads) that ``--seed`` accepts again."""
    try:
        return seed_of(core)
    except ValueError as exc:
        raise ControlError(500, f"the state cannot be written as a seed file: {exc}") from None


def list_faults(core: Controlled, request: CoreRequest, params: dict) -> Any:
    return {"faults": core.injected}


def list_operations(core: Controlled, request: CoreRequest, params: dict) -> Any:
    """The spec's operations (for fault forms and filters)."""
    return {
        "operations": [
            {"operation_id": op.operation_id, "method": op.method, "path": op.path}
            for op in core.spec.operations.values()
        ]
    }


def add_fault(core: Controlled, request: CoreRequest, params: dict) -> Any:
    body = _json(request)
    operation_id = body.get("operation_id")
    if not isinstance(operation_id, str) or operation_id not in core.spec.operations:
        raise ControlError(400, f"operation_id must be one of the spec's operationIds, not {operation_id!r}")
    fault: dict[str, Any] = {}
    if "status" in body:
        fault["status"] = _int(body["status"], "status", 400)
        if fault["status"] > 599:
            raise ControlError(400, "status must be an HTTP error status (400-599)")
    for key in ("code", "message"):
        if key in body:
            fault[key] = str(body[key])
    if "delay_ms" in body:
        fault["delay_ms"] = _int(body["delay_ms"], "delay_ms", 0)
        if fault["delay_ms"] > MAX_DELAY_MS:
            raise ControlError(400, f"delay_ms must be at most {MAX_DELAY_MS} (one minute)")
    if "times" in body:
        fault["times"] = _int(body["times"], "times", 1)
    if not ({"status", "delay_ms"} & set(fault)):
        raise ControlError(400, "a fault needs status or delay_ms")
    core.injected[operation_id] = fault
    return {"operation_id": operation_id, **fault}


def clear_faults(core: Controlled, request: CoreRequest, params: dict) -> Any:
    core.injected.clear()
    return {"faults": {}}


ROUTES: list[tuple[str, re.Pattern, Callable]] = [
    (method, re.compile("^/__mock__" + pattern + "$"), function)
    for method, pattern, function in [
        ("GET", "/health", health),
        ("POST", "/reset", reset),
        ("GET", "/tenants", list_tenants),
        ("POST", "/tenants", new_tenant),
        ("GET", r"/tenants/(?P<id>[^/]+)", describe_tenant),
        ("PATCH", r"/tenants/(?P<id>[^/]+)", change_tenant),
        ("POST", r"/tenants/(?P<id>[^/]+)/tokens", new_token),
        ("GET", "/clock", read_clock),
        ("POST", "/clock", move_clock),
        ("PATCH", r"/contacts/(?P<id>[^/]+)", patch_contact),
        ("GET", "/otps", peek_otp),
        ("GET", "/inbox", otp_inbox),
        ("GET", "/export", export_seed),
        ("GET", "/requests", requests_journal),
        ("GET", "/operations", list_operations),
        ("GET", "/faults", list_faults),
        ("POST", "/faults", add_fault),
        ("DELETE", "/faults", clear_faults),
    ]
]


def handle_control(core: Controlled, request: CoreRequest) -> CoreResponse:
    if not core.control.enabled:
        return CoreResponse(404, {"error": "the control API is turned off (--no-control)"})
    refusal = core.control.refusal(request.headers)
    if refusal is not None:
        return CoreResponse(403, {"error": refusal})
    secret = core.control.admin_secret
    given = request.headers.get("x-mock-admin-secret", "")
    if secret and not hmac.compare_digest(given.encode(), secret.encode()):
        return CoreResponse(403, {"error": "the control API needs the X-Mock-Admin-Secret header"})
    path = request.path.rstrip("/")
    allowed = []
    for method, pattern, function in ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        if method != request.method:
            allowed.append(method)
            continue
        try:
            return CoreResponse(200, function(core, request, match.groupdict()))
        except ControlError as error:
            return CoreResponse(error.status, {"error": error.message})
        except StoreError:
            raise  # the core answers a commit that failed
        except Exception:  # noqa: BLE001  (a mock bug still answers JSON, and is logged)
            log.exception("unhandled error in control call %s %s", request.method, request.path)
            return CoreResponse(500, {"error": "internal error in the control API (see the mock's log)"})
    if allowed:
        return CoreResponse(405, {"error": f"use {', '.join(allowed)}"}, {"Allow": ", ".join(allowed)})
    return CoreResponse(404, {"error": f"no control call {request.method} {request.path}"})
