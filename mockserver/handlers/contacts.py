"""Contacts: the tenant's people, with source, status and group membership."""

from __future__ import annotations

from typing import Any

from mockserver import listing
from mockserver.context import Context, Reply
from mockserver.errors import ValidationFailed
from mockserver.phones import clean_phone
from mockserver.resources import (
    WRITABLE,
    ensure_room,
    insert_contact,
    present_contact,
)


def list_contacts(ctx: Context) -> Reply:
    include = ctx.query.get("include")
    return listing.respond(
        ctx,
        listing.Table(ctx.tenant, "contacts"),
        lambda c: present_contact(ctx.tenant, c, include, ctx.behaviour.phone_as_sent),
    )


def create_contact(ctx: Context) -> Reply:
    ensure_room(ctx.tenant, ctx.op)
    contact = insert_contact(ctx.tenant, ctx.body, ctx.now)
    return Reply(present_contact(ctx.tenant, contact, "groups", ctx.behaviour.phone_as_sent))


def get_contact(ctx: Context) -> Reply:
    include = ctx.query.get("include")
    return Reply(present_contact(ctx.tenant, ctx.path_record, include, ctx.behaviour.phone_as_sent))


def update_contact(ctx: Context) -> Reply:
    changes = {name: ctx.body[name] for name in WRITABLE if name in ctx.body}
    if changes.get("phone"):
        changes["_phone_as_sent"] = str(changes["phone"])
        changes["phone"] = clean_phone(changes["phone"])
    if "groups" in ctx.body:
        changes["group_id"] = list(dict.fromkeys(ctx.body["groups"] or []))
    contact = ctx.tenant.set_fields("contacts", ctx.path_record, changes, ctx.now)
    return Reply(present_contact(ctx.tenant, contact, "groups", ctx.behaviour.phone_as_sent))


def delete_contact(ctx: Context) -> Reply:
    """Messages of a deleted contact stay (D13)."""
    ctx.tenant.remove("contacts", ctx.path_record["id"])
    return Reply(None)


def sent_item(ctx: Context, index: int, item: dict) -> Any:
    """Item ``index`` as the client sent it (before D16 dropped its empty fields)."""
    sent = ctx.sent.get("contacts")
    return sent[index] if isinstance(sent, list) and index < len(sent) else item


def item_message(ctx: Context, field: str, rule: str) -> str:
    """The message of ``rule`` on a field of one ``contacts`` item."""
    items = ctx.op.body_fields["contacts"].item_obj
    validator = items.by_name(field) if items is not None else None
    if validator is None:
        raise RuntimeError(f"{ctx.op.operation_id}: contacts items have no field {field!r}")
    return validator.message(rule)


def batch_create_contacts(ctx: Context, keep_before: bool = False) -> Reply:
    """``keep_before``: with continue_on_error false, the items before the first failing one stay (D18)."""
    items = ctx.body["contacts"]
    options = ctx.body.get("options") or {}
    skip_duplicates = options.get("skip_duplicates", False)
    phone_taken = item_message(ctx, "phone", "unique")
    email_taken = item_message(ctx, "email", "unique")
    failures: dict[int, dict[str, list[str]]] = {}
    for key, messages in ctx.item_errors.items():
        _, position, field = key.split(".", 2)
        failures.setdefault(int(position), {})[field] = messages
    seen_phones: set[str] = set()
    seen_emails: set[str] = set()
    to_create, skipped = [], []
    for index, item in enumerate(items):
        # An item failing only because its phone exists is a duplicate, which the options may skip.
        existing_phone = failures.get(index) == {"phone": [phone_taken]}
        if index in failures and not existing_phone:
            continue
        phone = clean_phone(str(item.get("phone", "")))
        email = str(item.get("email") or "").lower()
        if existing_phone or phone in seen_phones:
            if skip_duplicates:
                failures.pop(index, None)
                skipped.append(
                    {"index": index, "reason": "duplicate_phone", "data": sent_item(ctx, index, item)}
                )
            else:
                failures[index] = {"phone": [phone_taken]}
            continue
        if email and email in seen_emails:
            failures[index] = {"email": [email_taken]}
            continue
        seen_phones.add(phone)
        if email:
            seen_emails.add(email)
        to_create.append((index, item))
    if failures and options.get("continue_on_error", True) is False:
        if keep_before:
            before = [item for index, item in to_create if index < min(failures)]
            ensure_room(ctx.tenant, ctx.op, len(before))
            for item in before:
                insert_contact(ctx.tenant, item, ctx.now)
        raise ValidationFailed(
            {f"contacts.{i}.{f}": m for i, fields in sorted(failures.items()) for f, m in fields.items()}
        )
    ensure_room(ctx.tenant, ctx.op, len(to_create))
    as_sent = ctx.behaviour.phone_as_sent
    created = [
        present_contact(ctx.tenant, insert_contact(ctx.tenant, item, ctx.now), None, as_sent)
        for _, item in to_create
    ]
    errors = [{"index": i, "errors": fields} for i, fields in sorted(failures.items())]
    return Reply(
        {
            "summary": {
                "total": len(items),
                "created": len(created),
                "skipped": len(skipped),
                "failed": len(errors),
            },
            "created": created,
            "skipped": skipped,
            "errors": errors,
        }
    )


def batch_delete_contacts(ctx: Context) -> Reply:
    ids = ctx.body["ids"]
    deleted = sum(
        1 for contact_id in dict.fromkeys(ids) if ctx.tenant.remove("contacts", contact_id) is not None
    )
    return Reply({"summary": {"total": len(ids), "deleted": deleted, "failed": len(ids) - deleted}})


HANDLERS = {
    "listContacts": list_contacts,
    "createContact": create_contact,
    "getContact": get_contact,
    "updateContact": update_contact,
    "deleteContact": delete_contact,
    "batchCreateContacts": batch_create_contacts,
    "batchDeleteContacts": batch_delete_contacts,
}
