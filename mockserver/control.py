"""The mock's control API under ``/__mock__`` (D14, plus the mock's own additions).

Answers are plain JSON without the WA.cr envelope: 200 on success, 404 when a
named tenant, contact or OTP does not exist, 400 for a malformed call.
``docs/control-api.yaml`` describes every call, and is the check: ``control_spec`` compiles it
into the routes and the body validators, so a call's function gets a body its schema allows.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mockserver.behaviour import Behaviour
from mockserver.clock import Clock, parse_iso
from mockserver.control_spec import ControlOperation, MalformedBody, control_operations
from mockserver.export import WorldFrom, seed_of
from mockserver.http import CoreRequest, CoreResponse
from mockserver.phones import clean_phone
from mockserver.resources import present_contact
from mockserver.seed import create_tenant
from mockserver.spec import Spec
from mockserver.store import Store, StoreError, Tenant

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


@dataclass(frozen=True)
class Controlled:
    """What the control calls may read and change of their instance, taken for one call
    (``MockCore.controlled()`` builds it; the calls never see ``MockCore``)."""

    store: Store
    spec: Spec
    behaviour: Behaviour
    settings: ControlSettings
    variants: Iterable[str]
    journal: Iterable[dict]  # the API calls answered, oldest first
    injected: dict[str, dict]  # /__mock__/faults, by operation
    reset: Callable[[], None]  # the whole state back to the instance's start
    world_from: WorldFrom  # a fresh store of the instance's kind from seed files only (the export's check)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ControlCall:
    """One control call as its function gets it: the path's names, the query, and the body as its
    schema in ``docs/control-api.yaml`` allows it (checked before the call runs)."""

    params: dict[str, str]
    query: dict[str, str]
    body: dict[str, Any]


def _int(value: Any, name: str, minimum: int | None = None) -> int:
    """A path or query value (text) that names an integer of at most 18 digits."""
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


def _moment(epoch: float, name: str) -> float:
    """A clock reading the mock can print: between 1970 and 9998 (ISO 8601 with four-digit years)."""
    if not (math.isfinite(epoch) and 0 <= epoch <= LATEST_MOMENT):
        raise ControlError(400, f"{name} would put the clock outside 1970-01-01 .. 9998-12-31")
    return epoch


def _tenant(core: Controlled, tenant_id: Any) -> Tenant:
    tenant = core.store.tenants.get(_int(tenant_id, "tenant_id"))
    if tenant is None:
        raise ControlError(404, f"no tenant {tenant_id}")
    core.store.touched.add(tenant.id)  # the call may change it: the commit compares its row
    return tenant


def _options(body: dict) -> dict[str, dict]:
    return {key: body.get(key) or {} for key in ("limits", "features", "settings")}


# --- calls ---------------------------------------------------------------------------------


def health(core: Controlled, call: ControlCall) -> Any:
    return {"status": "ok", "operations": len(core.spec.operations), "variants": sorted(core.variants)}


def reset(core: Controlled, call: ControlCall) -> Any:
    try:
        core.reset()  # builds the new state first: a broken seed file leaves the old one in place
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        problem = f"a required key is missing: {exc}" if isinstance(exc, KeyError) else exc
        raise ControlError(
            500, f"reset refused, the state is unchanged: a --seed file is not valid: {problem}"
        ) from None
    return {"status": "reset"}


def new_tenant(core: Controlled, call: ControlCall) -> Any:
    body = call.body
    tenant = create_tenant(core.store, _options(body), body.get("name"))
    token = core.store.add_token(tenant, body.get("scopes", ["*"]), body.get("rate_limit_per_minute", 60))
    return {
        "tenant_id": tenant.id,
        "token": token.value,
        "default_source_id": tenant.settings["default_source_id"],
        "default_status_id": tenant.settings["default_status_id"],
    }


def describe_tenant(core: Controlled, call: ControlCall) -> Any:
    tenant = _tenant(core, call.params["id"])
    return {
        "tenant_id": tenant.id,
        "name": tenant.name,
        "limits": tenant.limits,
        "features": tenant.features,
        "settings": tenant.settings,
        "whatsapp_templates": tenant.whatsapp_templates,
        "counts": {name: len(table) for name, table in tenant.records.items()},
    }


def change_tenant(core: Controlled, call: ControlCall) -> Any:
    tenant = _tenant(core, call.params["id"])
    for key, values in _options(call.body).items():
        getattr(tenant, key).update(values)
    if "whatsapp_templates" in call.body:
        tenant.whatsapp_templates = [dict(t) for t in call.body["whatsapp_templates"]]
    return describe_tenant(core, call)


def new_token(core: Controlled, call: ControlCall) -> Any:
    tenant = _tenant(core, call.params["id"])
    body = call.body
    token = core.store.add_token(tenant, body.get("scopes", ["*"]), body.get("rate_limit_per_minute", 60))
    return {"tenant_id": tenant.id, "token": token.value, "scopes": sorted(token.scopes)}


def read_clock(core: Controlled, call: ControlCall) -> Any:
    tenant_id = call.query.get("tenant_id")
    if tenant_id is None:
        return core.store.default_clock.describe()
    return core.store.clock_of(_tenant(core, tenant_id)).describe()


def move_clock(core: Controlled, call: ControlCall) -> Any:
    body = call.body
    clock: Clock
    if body.get("tenant_id") is not None:
        clock = core.store.own_clock(_tenant(core, body["tenant_id"]))
    else:
        clock = core.store.default_clock
    if "advance_seconds" in body:
        _moment(clock.now() + body["advance_seconds"], "advance_seconds")
        clock.advance(body["advance_seconds"])
    if "now" in body:
        try:
            moment = parse_iso(body["now"])
        except (ValueError, OverflowError):
            raise ControlError(400, "now must be an ISO 8601 timestamp") from None
        clock.set(_moment(moment, "now"))
    if "freeze" in body:
        clock.freeze(body["freeze"])
    return clock.describe()


def patch_contact(core: Controlled, call: ControlCall) -> Any:
    contact_id = _int(call.params["id"], "id")
    owners = core.store.owners_of("contacts", contact_id)
    # Where ids are per tenant (a variant, D19) one id may name several contacts: tenant_id picks one.
    tenant_id = call.body.get("tenant_id", call.query.get("tenant_id"))
    if tenant_id is not None:
        wanted = _int(tenant_id, "tenant_id")
        owners = [t for t in owners if t.id == wanted]
    if not owners:
        raise ControlError(404, f"no contact {contact_id}")
    if len(owners) > 1:
        raise ControlError(400, f"contact {contact_id} exists in several tenants; give tenant_id")
    tenant = owners[0]
    contact = tenant.table("contacts")[contact_id]
    now = core.store.clock_of(tenant).now()
    changed = tenant.set_fields("contacts", contact, {"is_opted_out": call.body["is_opted_out"]}, now)
    return present_contact(tenant, changed, phone_as_sent=core.behaviour.phone_as_sent)


def peek_otp(core: Controlled, call: ControlCall) -> Any:
    query = call.query
    if "tenant_id" not in query or "phone" not in query:
        raise ControlError(400, "tenant_id and phone are required")
    tenant = _tenant(core, query["tenant_id"])
    otp = tenant.otps.get((clean_phone(query["phone"]), query.get("purpose") or "authentication"))
    if otp is None:
        raise ControlError(404, "no OTP for that phone and purpose")
    return otp.public()


def requests_journal(core: Controlled, call: ControlCall) -> Any:
    """Newest last; ``bodies=true`` adds headers, bodies (secrets masked) and why a refusal happened."""
    query = call.query
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
    else:
        entries = [{**e, "detail": e["detail"].rendered()} for e in entries]
    return {"requests": entries}


def otp_inbox(core: Controlled, call: ControlCall) -> Any:
    """Every stored OTP (of one tenant with ``tenant_id``), newest first, with seconds to expiry on its tenant's clock."""
    tenant_id = call.query.get("tenant_id")
    tenants = [_tenant(core, tenant_id)] if tenant_id is not None else list(core.store.tenants.values())
    listed = []
    for tenant in tenants:
        now = core.store.clock_of(tenant).now()
        for otp in tenant.otps.values():
            seconds = math.ceil(otp.expires_at - now)
            listed.append({"tenant_id": tenant.id, **otp.public(), "expires_in_seconds": max(0, seconds)})
    listed.sort(key=lambda o: o["created_at"], reverse=True)
    return {"otps": listed}


def list_tenants(core: Controlled, call: ControlCall) -> Any:
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


def export_seed(core: Controlled, call: ControlCall) -> Any:
    """The state as a seed file (JSON, which YAML reads) that ``--seed`` accepts again."""
    try:
        return seed_of(core.store, core.world_from)
    except ValueError as exc:
        raise ControlError(500, f"the state cannot be written as a seed file: {exc}") from None


def list_faults(core: Controlled, call: ControlCall) -> Any:
    return {"faults": core.injected}


def list_operations(core: Controlled, call: ControlCall) -> Any:
    """The spec's operations (for fault forms and filters)."""
    return {
        "operations": [
            {"operation_id": op.operation_id, "method": op.method, "path": op.path}
            for op in core.spec.operations.values()
        ]
    }


def add_fault(core: Controlled, call: ControlCall) -> Any:
    operation_id = call.body["operation_id"]
    if operation_id not in core.spec.operations:
        raise ControlError(400, f"operation_id must be one of the spec's operationIds, not {operation_id!r}")
    fault = {
        key: call.body[key] for key in ("status", "code", "message", "delay_ms", "times") if key in call.body
    }
    core.injected[operation_id] = fault
    return {"operation_id": operation_id, **fault}


def clear_faults(core: Controlled, call: ControlCall) -> Any:
    core.injected.clear()
    return {"faults": {}}


ControlFunction = Callable[[Controlled, ControlCall], Any]

# docs/control-api.yaml's operations by operationId: the document gives their paths and body schemas.
CALLS: dict[str, ControlFunction] = {
    "health": health,
    "reset": reset,
    "listTenants": list_tenants,
    "createTenant": new_tenant,
    "describeTenant": describe_tenant,
    "changeTenant": change_tenant,
    "createToken": new_token,
    "readClock": read_clock,
    "moveClock": move_clock,
    "setOptOut": patch_contact,
    "peekOtp": peek_otp,
    "otpInbox": otp_inbox,
    "exportSeed": export_seed,
    "journal": requests_journal,
    "listOperations": list_operations,
    "listFaults": list_faults,
    "addFault": add_fault,
    "clearFaults": clear_faults,
}


def control_routes() -> tuple[ControlOperation, ...]:
    """The document's operations; one without a function here, or a function without one, is a mock bug."""
    operations = control_operations()
    documented = {op.operation_id for op in operations}
    if documented != set(CALLS):
        raise RuntimeError(
            f"docs/control-api.yaml and control.CALLS differ: only documented {sorted(documented - set(CALLS))}, "
            f"only in CALLS {sorted(set(CALLS) - documented)}"
        )
    return operations


def handle_control(core: Controlled, request: CoreRequest) -> CoreResponse:
    if not core.settings.enabled:
        return CoreResponse(404, {"error": "the control API is turned off (--no-control)"})
    refusal = core.settings.refusal(request.headers)
    if refusal is not None:
        return CoreResponse(403, {"error": refusal})
    secret = core.settings.admin_secret
    given = request.headers.get("x-mock-admin-secret", "")
    if secret and not hmac.compare_digest(given.encode(), secret.encode()):
        return CoreResponse(403, {"error": "the control API needs the X-Mock-Admin-Secret header"})
    path = request.path.rstrip("/")
    allowed = []
    for operation in control_routes():
        match = operation.pattern.match(path)
        if match is None:
            continue
        if operation.method != request.method:
            allowed.append(operation.method)
            continue
        try:
            query = {k: v[-1] for k, v in parse_qs(request.query_string).items()}
            call = ControlCall(match.groupdict(), query, operation.read_body(request.body))
            return CoreResponse(200, CALLS[operation.operation_id](core, call))
        except MalformedBody as malformed:
            return CoreResponse(400, {"error": str(malformed)})
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
