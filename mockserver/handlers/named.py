"""The shared shape of named records (sources, statuses, groups): create, rename, delete."""

from __future__ import annotations

from mockserver import listing
from mockserver.context import Context, Handler, Reply
from mockserver.errors import ValidationFailed
from mockserver.resources import public


def create(ctx: Context, collection: str, fields: tuple[str, ...]) -> Reply:
    values = {name: ctx.body.get(name) for name in fields}
    return Reply(public(ctx.tenant.insert(collection, values, ctx.now)))


def update(ctx: Context, collection: str, fields: tuple[str, ...]) -> Reply:
    changes = {name: ctx.body[name] for name in fields if name in ctx.body}
    return Reply(public(ctx.tenant.set_fields(collection, ctx.path_record, changes, ctx.now)))


def delete_unless_in_use(ctx: Context, collection: str) -> Reply:
    """Refuses while contacts still reference the record (D13), as the op's ``x-in-use`` says."""
    rule = ctx.op.extensions.in_use
    if rule is not None:
        referenced = rule.referenced_by
        count = sum(
            1
            for c in ctx.tenant.table(referenced.collection).values()
            if c.get(referenced.field) == ctx.path_record["id"]
        )
        if count:
            raise ValidationFailed({rule.details_field: [rule.message.format(count=count)]})
    ctx.tenant.remove(collection, ctx.path_record["id"])
    return Reply(None)


def handlers(
    collection: str,
    fields: tuple[str, ...],
    *,
    list_id: str,
    create_id: str,
    get_id: str,
    update_id: str,
    delete_id: str | None = None,
) -> dict[str, Handler]:
    """The handler table of a named collection; ``delete_id`` is left out where the delete is special."""
    table: dict[str, Handler] = {
        list_id: lambda ctx: listing.respond(ctx, listing.Table(ctx.tenant, collection), public),
        create_id: lambda ctx: create(ctx, collection, fields),
        get_id: lambda ctx: Reply(public(ctx.path_record)),
        update_id: lambda ctx: update(ctx, collection, fields),
    }
    if delete_id is not None:
        table[delete_id] = lambda ctx: delete_unless_in_use(ctx, collection)
    return table
