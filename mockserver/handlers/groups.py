"""Groups: named contact groups; membership lives on each contact's ``group_id`` list."""

from mockserver.core import Context, Reply
from mockserver.handlers import handles, named

named.register("groups", ("name",), "Group")


@handles("deleteGroup")
def delete_group(ctx: Context) -> Reply:
    """Deleting a group removes its id from every contact (D13)."""
    group_id = ctx.record["id"]
    for contact in list(ctx.tenant.table("contacts").values()):
        if group_id in contact["group_id"]:
            set_membership(ctx, contact, [g for g in contact["group_id"] if g != group_id])
    ctx.tenant.remove("groups", group_id)
    return Reply(None)


def set_membership(ctx: Context, contact: dict, group_ids: list[int]) -> None:
    ctx.tenant.set_fields("contacts", contact, {"group_id": group_ids}, ctx.now)


@handles("addGroupContacts")
def add_group_contacts(ctx: Context) -> Reply:
    group_id = ctx.record["id"]
    added = 0
    for contact_id in dict.fromkeys(ctx.body["contact_ids"]):
        contact = ctx.tenant.get("contacts", contact_id)
        if group_id not in contact["group_id"]:
            set_membership(ctx, contact, contact["group_id"] + [group_id])
            added += 1
    return Reply({"group_id": group_id, "contacts_added": added})


@handles("removeGroupContacts")
def remove_group_contacts(ctx: Context) -> Reply:
    group_id = ctx.record["id"]
    removed = 0
    for contact_id in dict.fromkeys(ctx.body["contact_ids"]):
        contact = ctx.tenant.get("contacts", contact_id)
        if contact is not None and group_id in contact["group_id"]:
            set_membership(ctx, contact, [g for g in contact["group_id"] if g != group_id])
            removed += 1
    return Reply({"group_id": group_id, "contacts_removed": removed})
