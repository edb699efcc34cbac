"""What every send operation shares: plan checks, the recipient contact, the chat and the history record."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, overload

from mockserver.clock import iso
from mockserver.context import Context
from mockserver.errors import ValidationFailed
from mockserver.phones import clean_phone
from mockserver.resources import (
    auto_creation_configured,
    conversations_this_month,
    ensure_room,
    find_contact_by_phone,
    insert_contact,
)

MERGE_FIELDS = {
    "@{contact_first_name}": "firstname",
    "@{contact_last_name}": "lastname",
    "@{contact_email}": "email",
    "@{contact_phone}": "phone",
}


def require_whatsapp(ctx: Context) -> None:
    if not ctx.tenant.settings.get("whatsapp_configured", True):
        raise ctx.error(422, "WHATSAPP_NOT_CONFIGURED")


def require_templates_feature(ctx: Context) -> None:
    if not ctx.tenant.features.get("whatsapp_templates", True):
        raise ctx.error(403, "FEATURE_NOT_AVAILABLE")


def recipient(ctx: Context, phone: str, details: dict[str, Any] | None = None) -> dict:
    """The contact a message goes to: by ``contact_id``, by phone, or auto-created (documented).

    Every refusal comes before anything is written, so a refused send leaves no contact behind.
    """
    contact_id = ctx.body.get("contact_id")
    if contact_id is not None:
        contact = ctx.tenant.get("contacts", contact_id)
        if contact is None:
            raise ctx.error(404, "NOT_FOUND")
    else:
        contact = find_contact_by_phone(ctx.tenant, phone)
    if contact is not None and contact.get("is_opted_out"):
        raise ctx.error(403, "CONTACT_OPTED_OUT")
    ensure_conversation_room(ctx, phone)
    if contact is not None:
        return contact
    settings = ctx.tenant.settings
    if not auto_creation_configured(ctx.tenant):
        raise ValidationFailed({"phone": [ctx.op.field_message("phone", "auto_contact_config")]})
    ensure_room(ctx.tenant, ctx.op)
    extra = details or {}
    return insert_contact(
        ctx.tenant,
        {
            "firstname": extra.get("firstname") or "",
            "lastname": extra.get("lastname") or "",
            "email": extra.get("email"),
            "assigned_id": extra.get("assigned_id"),
            "phone": phone,
            "type": "lead",
            "source_id": settings["default_source_id"],
            "status_id": settings["default_status_id"],
        },
        ctx.now,
    )


def ensure_conversation_room(ctx: Context, phone: str) -> None:
    """A new conversation this month counts against the plan (403 FEATURE_LIMIT_EXCEEDED)."""
    limit = ctx.tenant.limits.get("conversations", -1)
    talked_to = conversations_this_month(ctx.tenant, ctx.now)
    if limit != -1 and phone not in talked_to and len(talked_to) >= limit:
        raise ctx.error(
            403,
            "FEATURE_LIMIT_EXCEEDED",
            {"feature": "conversations", "current": len(talked_to), "maximum": limit},
        )


def merge(text: str, contact: dict) -> str:
    for placeholder, field in MERGE_FIELDS.items():
        text = text.replace(placeholder, str(contact.get(field) or ""))
    return text


def chat_for(ctx: Context, phone: str, contact: dict) -> dict:
    chat = ctx.tenant.find("chats", phone=phone)
    if chat is None:
        chat = ctx.tenant.insert("chats", {"phone": phone, "contact_id": contact["id"]}, ctx.now)
    return chat


def record(
    ctx: Context, phone: str, contact: dict, kind: str, text: str | None, url: str | None = None
) -> dict:
    """Stores the outbound message in the history and returns the fields every send answer shares."""
    chat = chat_for(ctx, phone, contact)
    stamp = iso(ctx.now)
    message = ctx.tenant.insert(
        "messages",
        {
            "interaction_id": chat["id"],
            "sender_id": ctx.tenant.settings.get("sender_id"),
            "type": kind,
            "message": text,
            "status": "sent",
            "status_message": None,
            "message_id": "wamid." + secrets.token_hex(16),
            "ref_message_id": None,
            "url": url,
            "sent_at": stamp,
            "is_read": False,
            "staff_id": None,
            "direction": "outbound",
            "_phone": phone,
        },
        ctx.now,
    )
    return {
        "message_id": message["message_id"],
        "contact_id": contact["id"],
        "phone": phone,
        "status": "sent",
        "sent_at": stamp,
        "chat_id": chat["id"],
        "chat_message_id": ctx.behaviour.chat_message_id(ctx.tenant, message),
    }


@overload
def prepare(
    ctx: Context, details: dict[str, Any] | None = None, template: None = None
) -> tuple[str, dict, None]: ...
@overload
def prepare(
    ctx: Context, details: dict[str, Any] | None = None, *, template: Callable[[], dict]
) -> tuple[str, dict, dict]: ...
def prepare(
    ctx: Context, details: dict[str, Any] | None = None, template: Callable[[], dict] | None = None
) -> tuple[str, dict, dict | None]:
    """Plan, configuration, template, then recipient checks, in that order; returns (phone, contact, template)."""
    if template is not None:
        require_templates_feature(ctx)
    require_whatsapp(ctx)
    phone = clean_phone(ctx.body["phone"])
    if not phone:
        # Where the docs give the phone no pattern, a value without digits still names no number (D9).
        raise ValidationFailed({"phone": [ctx.messages.phone_digits]})
    chosen = template() if template is not None else None
    return phone, recipient(ctx, phone, details), chosen
