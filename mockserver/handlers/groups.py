"""Groups: named contact groups; membership lives on each contact's ``group_id`` list."""

from mockserver.context import Context, Reply
from mockserver.handlers import named


def delete_group(ctx: Context) -> Reply:
    """Deleting a group removes its id from every contact (D13)."""
    group_id = ctx.path_record["id"]
    for contact in list(ctx.tenant.table("contacts").values()):
        if group_id in contact["group_id"]:
            set_membership(ctx, contact, [g for g in contact["group_id"] if g != group_id])
    ctx.tenant.remove("groups", group_id)
    return Reply(None)


def set_membership(ctx: Context, contact: dict, group_ids: list[int]) -> None:
    ctx.tenant.set_fields("contacts", contact, {"group_id": group_ids}, ctx.now)


def change_membership(ctx: Context, join: bool) -> int:
    """Adds or removes the listed contacts; returns how many actually changed (documented counting)."""
    group_id = ctx.path_record["id"]
    changed = 0
    for contact_id in dict.fromkeys(ctx.body["contact_ids"]):
        contact = ctx.tenant.get("contacts", contact_id)
        if contact is None or (group_id in contact["group_id"]) == join:
            continue
        others = [g for g in contact["group_id"] if g != group_id]
        set_membership(ctx, contact, others + [group_id] if join else others)
        changed += 1
    return changed


def add_group_contacts(ctx: Context) -> Reply:
    return Reply({"group_id": ctx.path_record["id"], "contacts_added": change_membership(ctx, join=True)})


def remove_group_contacts(ctx: Context) -> Reply:
    return Reply({"group_id": ctx.path_record["id"], "contacts_removed": change_membership(ctx, join=False)})


HANDLERS = {
    **named.handlers(
        "groups",
        ("name",),
        list_id="listGroups",
        create_id="createGroup",
        get_id="getGroup",
        update_id="updateGroup",
    ),
    "deleteGroup": delete_group,
    "addGroupContacts": add_group_contacts,
    "removeGroupContacts": remove_group_contacts,
}
