"""The API's resources as the mock stores and presents them: contacts and templates.

Handlers, the send pipeline (``outbox``), the control API, the seed and the variants share
these; none of them imports another's module for it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import yaml

from mockserver.clock import iso
from mockserver.errors import ApiError
from mockserver.phones import clean_phone
from mockserver.spec import Operation
from mockserver.store import Tenant


def public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


WRITABLE = (
    "firstname",
    "lastname",
    "company",
    "type",
    "email",
    "phone",
    "status_id",
    "source_id",
    "description",
    "city",
    "state",
    "zip",
    "address",
    "country_id",
    "assigned_id",
)


def present_contact(
    tenant: Tenant, contact: dict, includes: str | None = None, phone_as_sent: bool = False
) -> dict:
    """The Contact resource; ``phone_as_sent``: its ``phone`` as the client last sent it (D9 leaves it free),
    while the stored ``phone`` stays cleaned for lookups and uniqueness."""
    data = public(contact)
    if phone_as_sent and contact.get("_phone_as_sent"):
        data["phone"] = contact["_phone_as_sent"]
    wanted = {part.strip() for part in (includes or "").split(",") if part.strip()}
    if "groups" in wanted:
        groups = tenant.table("groups")
        data["groups"] = [public(groups[g]) for g in contact["group_id"] if g in groups]
    # Every contact's source and status exist (checked on write, a record in use is not deleted, D13, and
    # auto-creation needs existing defaults), so the object is always there; the null is only for a mutant
    # that breaks one of those rules, which the suite should see as a wrong answer, not a crash.
    if "source" in wanted:
        source = tenant.get("sources", contact["source_id"])
        data["source"] = public(source) if source else None
    if "status" in wanted:
        status = tenant.get("statuses", contact["status_id"])
        data["status"] = public(status) if status else None
    return data


def ensure_room(tenant: Tenant, op: Operation, adding: int = 1) -> None:
    """403 FEATURE_LIMIT_EXCEEDED, with ``op``'s message, when the plan's contact limit would be passed
    (documented)."""
    limit = tenant.limits.get("contacts", -1)
    current = len(tenant.table("contacts"))
    if limit != -1 and current + adding > limit:
        code = "FEATURE_LIMIT_EXCEEDED"
        details = {"feature": "contacts", "current": current, "maximum": limit}
        raise ApiError(403, code, op.error_message(403, code), details)


def insert_contact(tenant: Tenant, values: dict, now: float) -> dict:
    fields = {k: values[k] for k in WRITABLE if values.get(k) is not None}
    contact = contact_defaults(tenant, fields)
    if fields.get("phone"):
        contact["_phone_as_sent"] = str(fields["phone"])
    contact["group_id"] = list(dict.fromkeys(values.get("groups") or []))
    return tenant.insert("contacts", contact, now)


def find_contact_by_phone(tenant: Tenant, phone: str) -> dict | None:
    return tenant.find("contacts", phone=clean_phone(phone))


def auto_creation_configured(tenant: Tenant) -> bool:
    """Contact auto-creation needs its settings on and a default source and status that still exist:
    deleting the default source or status (allowed once no contact uses it) unsets that default, so no
    contact is ever created pointing at a missing record."""
    settings = tenant.settings
    return (
        bool(settings.get("auto_contact_config", True))
        and tenant.get("sources", settings["default_source_id"]) is not None
        and tenant.get("statuses", settings["default_status_id"]) is not None
    )


def contact_defaults(tenant: Tenant, record: dict[str, Any]) -> dict[str, Any]:
    contact = {
        "firstname": "",
        "lastname": "",
        "company": None,
        "type": "lead",
        "email": None,
        "phone": None,
        "status_id": tenant.settings["default_status_id"],
        "source_id": tenant.settings["default_source_id"],
        "description": None,
        "city": None,
        "state": None,
        "zip": None,
        "address": None,
        "country_id": None,
        "assigned_id": None,
        "group_id": [],
        "is_opted_out": False,
    }
    contact.update(record)
    if contact["phone"]:
        contact["phone"] = clean_phone(str(contact["phone"]))
    return contact


def conversations_this_month(tenant: Tenant, now: float) -> set[str]:
    """Distinct cleaned phones that got an outbound message in the tenant clock's month."""
    month = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m")
    return {
        m["_phone"]
        for m in tenant.table("messages").values()
        if m.get("direction") == "outbound" and m["sent_at"][:7] == month
    }


PARAM = re.compile(r"\{\{\d+\}\}")


def template_record(definition: dict[str, Any], now: float) -> dict[str, Any]:
    """The API's Template resource for one WhatsApp template definition."""
    header_text = definition.get("header_text")
    body = definition["body"]
    buttons = definition.get("buttons") or []
    components = [{"type": "BODY", "text": body}]
    if definition.get("header_format", "NONE") != "NONE":
        components.insert(0, {"type": "HEADER", "format": definition["header_format"], "text": header_text})
    if definition.get("footer"):
        components.append({"type": "FOOTER", "text": definition["footer"]})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    is_auth = definition["category"] == "AUTHENTICATION"
    stamp = iso(now)
    return {
        "template_id": definition["template_id"],
        "template_name": definition["template_name"],
        "name": definition["template_name"],
        "language": definition.get("language", "en"),
        "category": definition["category"],
        "status": definition["status"],
        "header_data_format": definition.get("header_format", "NONE"),
        "header_data_text": header_text or "",
        "header_params_count": len(PARAM.findall(header_text or "")),
        "header_file_url": None,
        "header_variable_value": None,
        "body_data": body,
        "body_params_count": len(PARAM.findall(body)),
        "body_variable_value": None,
        "footer_data": definition.get("footer"),
        "footer_params_count": 0,
        "buttons_data": None if not buttons else yaml.safe_dump(buttons, default_flow_style=True).strip(),
        "message_send_ttl_seconds": 600 if is_auth else None,
        "add_security_recommendation": is_auth,
        "code_expiration_minutes": definition.get("code_expiration_minutes") if is_auth else None,
        "otp_button_config": {"type": "COPY_CODE"} if is_auth else None,
        "components": components,
        "created_at": stamp,
        "updated_at": stamp,
    }
