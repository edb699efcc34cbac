"""The shared shape of named records (sources, statuses, groups): create, rename, delete."""

from __future__ import annotations

from mockserver.core import Context, Reply


def public(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def create(ctx: Context, collection: str, fields: tuple[str, ...]) -> Reply:
    values = {name: ctx.body.get(name) for name in fields}
    return Reply(public(ctx.tenant.insert(collection, values, ctx.now)))


def update(ctx: Context, collection: str, fields: tuple[str, ...]) -> Reply:
    changes = {name: ctx.body[name] for name in fields if name in ctx.body}
    return Reply(public(ctx.tenant.set_fields(collection, ctx.record, changes, ctx.now)))


def delete_unless_in_use(ctx: Context, collection: str) -> Reply:
    """Refuses while contacts still reference the record (D13), as the op's ``x-in-use`` says."""
    rule = ctx.op.ext("in-use")
    if rule:
        referenced = rule["referenced_by"]
        count = sum(
            1 for c in ctx.tenant.table(referenced["collection"]).values() if c.get(referenced["field"]) == ctx.record["id"]
        )
        if count:
            from mockserver.errors import ValidationFailed

            raise ValidationFailed({rule["details_field"]: [rule["message"].format(count=count)]})
    ctx.tenant.remove(collection, ctx.record["id"])
    return Reply(None)


def register(collection: str, fields: tuple[str, ...], singular: str) -> None:
    """Registers list/create/get/update/delete for a named collection (e.g. ``Source``)."""
    from mockserver.handlers import handles

    plural = collection.capitalize()
    handles(f"list{plural}")(lambda ctx: ctx.list_reply(ctx.tenant.table(collection).values(), public))
    handles(f"create{singular}")(lambda ctx: create(ctx, collection, fields))
    handles(f"get{singular}")(lambda ctx: Reply(public(ctx.record)))
    handles(f"update{singular}")(lambda ctx: update(ctx, collection, fields))
    handles(f"delete{singular}")(lambda ctx: delete_unless_in_use(ctx, collection))
