"""Account: the tenant's record, usage and plan limits, computed from its real state."""

from __future__ import annotations

from mockserver.clock import iso
from mockserver.context import Context, Reply
from mockserver.resources import conversations_this_month
from mockserver.store import Tenant

FEATURE_NAMES = {
    "contacts": "Total Contacts",
    "conversations": "Conversations per Month",
    "campaigns": "Active Campaigns",
    "staff": "Team Members",
    "api_calls_per_minute": "API Calls per Minute",
}


def usage_counts(tenant: Tenant, now: float) -> dict[str, int]:
    return {
        "contacts": len(tenant.table("contacts")),
        "conversations": len(conversations_this_month(tenant, now)),
        "campaigns": int(tenant.settings.get("campaigns", 0)),
        "staff": int(tenant.settings.get("staff", 1)),
    }


def get_account(ctx: Context) -> Reply:
    tenant = ctx.tenant
    return Reply(
        {
            "id": tenant.id,
            "name": tenant.name or tenant.subdomain,
            "subdomain": tenant.subdomain,
            "status": "active",
            "created_at": iso(tenant.created_at),
            "subscription": dict(tenant.plan),
        }
    )


def get_usage(ctx: Context) -> Reply:
    data = {}
    for feature, current in usage_counts(ctx.tenant, ctx.now).items():
        limit = ctx.tenant.limits.get(feature)
        unlimited = limit == -1
        data[feature] = {
            "current": current,
            "limit": limit,
            "remaining": None if unlimited or limit is None else max(0, limit - current),
            "percentage_used": 0 if unlimited or not limit else round(min(100.0, current * 100 / limit), 2),
            "is_unlimited": unlimited,
        }
    return Reply(data)


def get_limits(ctx: Context) -> Reply:
    limits = dict(ctx.tenant.limits, api_calls_per_minute=ctx.token.rate_limit_per_minute)
    return Reply(
        {
            "limits": {
                key: {"limit": limits[key], "feature_name": name, "is_unlimited": limits[key] == -1}
                for key, name in FEATURE_NAMES.items()
            },
            "features": dict(ctx.tenant.features, api_access=True),
        }
    )


HANDLERS = {
    "getAccount": get_account,
    "getUsage": get_usage,
    "getLimits": get_limits,
}
