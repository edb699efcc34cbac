"""Groups: named contact groups; membership lives on each contact's ``group_id`` list."""

from mockserver.clock import iso
from mockserver.core import Context, Reply
from mockserver.handlers import handles, named

named.register("groups", ("name",), "Group")


@handles("deleteGroup")
def delete_group(ctx: Context) -> Reply:
    """Deleting a group removes its id from every contact (D13)."""
    group_id = ctx.record["id"]
    stamp = iso(ctx.now)
    for contact in ctx.tenant.table("contacts").values():
        if group_id in contact["group_id"]:
            contact["group_id"] = [g for g in contact["group_id"] if g != group_id]
            contact["updated_at"] = stamp
    del ctx.tenant.table("groups")[group_id]
    return Reply(None)


@handles("addGroupContacts")
def add_group_contacts(ctx: Context) -> Reply:
    group_id = ctx.record["id"]
    added = 0
    stamp = iso(ctx.now)
    for contact_id in dict.fromkeys(ctx.body["contact_ids"]):
        contact = ctx.tenant.get("contacts", contact_id)
        if group_id not in contact["group_id"]:
            contact["group_id"] = contact["group_id"] + [group_id]
            contact["updated_at"] = stamp
            added += 1
    return Reply({"group_id": group_id, "contacts_added": added})


@handles("removeGroupContacts")
def remove_group_contacts(ctx: Context) -> Reply:
    group_id = ctx.record["id"]
    removed = 0
    stamp = iso(ctx.now)
    for contact_id in dict.fromkeys(ctx.body["contact_ids"]):
        contact = ctx.tenant.get("contacts", contact_id)
        if contact is not None and group_id in contact["group_id"]:
            contact["group_id"] = [g for g in contact["group_id"] if g != group_id]
            contact["updated_at"] = stamp
            removed += 1
    return Reply({"group_id": group_id, "contacts_removed": removed})
