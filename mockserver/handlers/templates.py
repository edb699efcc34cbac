"""Templates: the tenant's copy of its WhatsApp Business account's templates."""

from mockserver import listing
from mockserver.context import Context, Reply
from mockserver.resources import template_record


def public(record: dict) -> dict:
    return dict(record)


def list_templates(ctx: Context) -> Reply:
    return listing.respond(ctx, listing.Table(ctx.tenant, "templates"), public)


def get_template(ctx: Context) -> Reply:
    return Reply(public(ctx.path_record))


def sync_templates(ctx: Context) -> Reply:
    """Mirrors the simulated WhatsApp account: new ones created, changed ones updated, gone ones deleted."""
    tenant = ctx.tenant
    if not tenant.settings.get("whatsapp_configured") or not tenant.settings.get("business_account_id"):
        raise ctx.error(422, "WHATSAPP_NOT_CONFIGURED")
    table = tenant.table("templates")
    by_remote_id = {r["template_id"]: r for r in table.values()}
    created = updated = 0
    remote_ids = set()
    for definition in tenant.whatsapp_templates:
        remote_ids.add(definition["template_id"])
        fresh = template_record(definition, ctx.now)
        existing = by_remote_id.get(definition["template_id"])
        if existing is None:
            tenant.insert("templates", fresh, ctx.now)
            created += 1
            continue
        changed = {
            k: v for k, v in fresh.items() if k not in ("created_at", "updated_at") and existing.get(k) != v
        }
        if changed:
            tenant.set_fields("templates", existing, changed, ctx.now)
            updated += 1
    gone = [r["id"] for r in table.values() if r["template_id"] not in remote_ids]
    for record_id in gone:
        tenant.remove("templates", record_id)
    return Reply(
        {
            "total": len(tenant.whatsapp_templates),
            "created": created,
            "updated": updated,
            "deleted": len(gone),
        }
    )


HANDLERS = {
    "listTemplates": list_templates,
    "getTemplate": get_template,
    "syncTemplates": sync_templates,
}
