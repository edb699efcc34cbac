"""What a new tenant starts with (D14), the default world, and YAML fixtures."""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from mockserver.resources import contact_defaults, template_record
from mockserver.store import Store, Tenant

# Tokens that exist from the first second, so `curl` works at once (README).
FULL_TOKEN = "wacr_test_full"  # every scope
READONLY_TOKEN = "wacr_test_readonly"  # every ``*:read`` scope the spec's operations ask for

# The simulated WhatsApp Business account of every new tenant (D14).
DEFAULT_WHATSAPP_TEMPLATES: list[dict[str, Any]] = [
    {
        "template_id": "1000000000000001",
        "template_name": "otp_verification",
        "language": "en",
        "category": "AUTHENTICATION",
        "status": "APPROVED",
        "header_format": "NONE",
        "body": "Your code is {{1}}. It expires in {{2}} minutes.",
        "footer": None,
        "buttons": [{"type": "URL", "text": "Copy code", "url": "https://wa.cr/otp/otp{{1}}"}],
        "code_expiration_minutes": 10,
    },
    {
        "template_id": "1000000000000002",
        "template_name": "spring_sale",
        "language": "en",
        "category": "MARKETING",
        "status": "APPROVED",
        "header_format": "TEXT",
        "header_text": "Hello {{1}}",
        "body": "Our spring sale ends on {{1}}. Use code {{2}} at checkout.",
        "footer": "Reply STOP to opt out",
        "buttons": [{"type": "URL", "text": "Shop", "url": "https://shop.example/{{1}}"}],
    },
    {
        "template_id": "1000000000000003",
        "template_name": "otp_pending",
        "language": "en",
        "category": "AUTHENTICATION",
        "status": "PENDING",
        "header_format": "NONE",
        "body": "Your login code is {{1}}.",
        "footer": None,
        "buttons": [],
    },
    {
        "template_id": "1000000000000004",
        "template_name": "promo_rejected",
        "language": "en",
        "category": "MARKETING",
        "status": "REJECTED",
        "header_format": "NONE",
        "body": "Win big today!",
        "footer": None,
        "buttons": [],
    },
    {
        "template_id": "1000000000000005",
        "template_name": "order_shipped",
        "language": "en",
        "category": "UTILITY",
        "status": "APPROVED",
        "header_format": "IMAGE",
        "body": "Order {{1}} has shipped.",
        "footer": None,
        "buttons": [],
    },
]

# Beyond D14's minimum a tenant may start with anything (D19); the ``rich-seed`` variant adds these.
# The first is a second APPROVED AUTHENTICATION template whose name sorts before otp_verification.
RICH_WHATSAPP_TEMPLATES: list[dict[str, Any]] = [
    {
        "template_id": "1000000000000006",
        "template_name": "login_code",
        "language": "en",
        "category": "AUTHENTICATION",
        "status": "APPROVED",
        "header_format": "NONE",
        "body": "{{1}} is your login code. It is valid for {{2}} minutes.",
        "footer": None,
        "buttons": [],
        "code_expiration_minutes": 5,
    },
    {
        "template_id": "1000000000000007",
        "template_name": "otp_verification",
        "language": "es",
        "category": "AUTHENTICATION",
        "status": "APPROVED",
        "header_format": "NONE",
        "body": "Tu código es {{1}}. Caduca en {{2}} minutos.",
        "footer": None,
        "buttons": [],
        "code_expiration_minutes": 10,
    },
    {
        "template_id": "1000000000000008",
        "template_name": "bienvenida",
        "language": "es",
        "category": "MARKETING",
        "status": "APPROVED",
        "header_format": "NONE",
        "body": "Hola {{1}}, gracias por elegirnos.",
        "footer": None,
        "buttons": [],
    },
    {
        "template_id": "1000000000000009",
        "template_name": "rappel_rendez_vous",
        "language": "fr",
        "category": "UTILITY",
        "status": "APPROVED",
        "header_format": "NONE",
        "body": "Rappel : votre rendez-vous est le {{1}}.",
        "footer": None,
        "buttons": [],
    },
]
# The ``other-seed-names`` variant: D14 fixes only ``otp_verification``.
OTHER_NAMES = {
    "Website": "Walk-in Store",
    "New Lead": "Prospect",
    "spring_sale": "summer_offer",
    "otp_pending": "signin_code_pending",
    "promo_rejected": "flash_deal_rejected",
    "order_shipped": "delivery_update",
}


@dataclass(frozen=True)
class SeedOptions:
    """What a new tenant starts with beyond D14's minimum (a seed option of the variants)."""

    rich: bool = False
    other_names: bool = False

    def name(self, default: str) -> str:
        return OTHER_NAMES.get(default, default) if self.other_names else default

    def whatsapp_templates(self) -> list[dict[str, Any]]:
        base = [{**t, "template_name": self.name(t["template_name"])} for t in DEFAULT_WHATSAPP_TEMPLATES]
        return (RICH_WHATSAPP_TEMPLATES + base) if self.rich else base


def create_tenant(store: Store, options: dict[str, Any] | None = None, name: str | None = None) -> Tenant:
    """A tenant with one default source, one default status and the D14 templates."""
    options = options or {}
    seed: SeedOptions = store.seed or SeedOptions()
    tenant_id = store.next_tenant_id
    store.next_tenant_id += 1
    now = store.default_clock.now()
    tenant = Tenant(
        id=tenant_id,
        name=name or f"Tenant {tenant_id}",
        subdomain=f"tenant{tenant_id}",
        created_at=now,
        ids=store.ids,
    )
    tenant.limits.update(options.get("limits") or {})
    tenant.features.update(options.get("features") or {})
    tenant.settings.update(options.get("settings") or {})
    if seed.rich:
        # Inserted first, so the default source and status are not the lowest ids.
        for source_name in ("Referral", "Trade Fair"):
            tenant.insert("sources", {"name": source_name}, now)
        for status_name, color in (("Contacted", "#F39C12"), ("Qualified", "#27AE60")):
            tenant.insert("statuses", {"name": status_name, "color": color}, now)
    source = tenant.insert("sources", {"name": seed.name("Website")}, now)
    status = tenant.insert("statuses", {"name": seed.name("New Lead"), "color": "#2E86DE"}, now)
    tenant.settings.setdefault("default_source_id", source["id"])
    tenant.settings.setdefault("default_status_id", status["id"])
    # Each tenant has its own WhatsApp Business account, so its own template ids.
    tenant.whatsapp_templates = [
        {**t, "template_id": str(int(t["template_id"]) + tenant_id * 1000)} for t in seed.whatsapp_templates()
    ]
    for definition in tenant.whatsapp_templates:
        tenant.insert("templates", template_record(definition, now), now)
    if seed.rich:
        seed_rich_people(tenant, now)
    store.tenants[tenant_id] = tenant
    return tenant


def seed_rich_people(tenant: Tenant, now: float) -> None:
    """Two groups and two contacts (one in a group), with phones no other tenant's seed uses."""
    vip = tenant.insert("groups", {"name": "VIP"}, now)
    tenant.insert("groups", {"name": "Newsletter"}, now)
    people = [
        {
            "firstname": "Asha",
            "lastname": "Rao",
            "company": "Rao Textiles",
            "email": f"asha.rao.{tenant.id}@example.com",
        },
        {"firstname": "Luis", "lastname": "Mendes", "type": "customer"},
    ]
    for number, person in enumerate(people, start=1):
        contact = contact_defaults(tenant, {**person, "phone": f"1555{tenant.id:07d}{number}"})
        contact["group_id"] = [vip["id"]] if number == 1 else []
        tenant.insert("contacts", contact, now)


def default_world(store: Store, scopes: Iterable[str]) -> Tenant:
    """The demo tenant and its two tokens; ``scopes`` are the spec's, so a new read scope is the
    read-only token's at once."""
    tenant = create_tenant(store, name="Demo Company")
    tenant.subdomain = "demo"
    store.add_token(tenant, ["*"], value=FULL_TOKEN)
    store.add_token(
        tenant, sorted(scope for scope in set(scopes) if scope.endswith(":read")), value=READONLY_TOKEN
    )
    return tenant


def apply_fixtures(store: Store, path: Path | str) -> None:
    """Seeds records from a YAML file (see README, "Seeding")."""
    with open(path, encoding="utf-8") as handle:
        try:
            data = yaml.safe_load(handle) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("tenants", []), list)
        or not all(isinstance(t, dict) for t in data.get("tenants", []))
    ):
        raise ValueError(f"{path}: the fixtures file must hold a mapping with a 'tenants' list of mappings")
    problem = seed_problem(data)
    if problem:
        raise ValueError(f"{path}: {problem}")
    for number, spec in enumerate(data.get("tenants", [])):
        tenant = store.tenants.get(spec.get("id", 0))
        if tenant is None:
            tenant = create_tenant(store, spec, spec.get("name"))
        else:  # an existing tenant (the demo one is id 1) takes the file's limits, features and settings too
            for key in ("limits", "features", "settings"):
                getattr(tenant, key).update(spec.get(key) or {})
        for token in spec.get("tokens", []):
            store.add_token(
                tenant, token.get("scopes", ["*"]), token.get("rate_limit_per_minute", 60), token["token"]
            )
        now = store.clock_of(tenant).now()
        for collection in ("sources", "statuses", "groups", "contacts"):
            for index, record in enumerate(spec.get(collection, [])):
                record = dict(record)
                if collection == "contacts":
                    record = contact_defaults(tenant, record)
                    missing = unknown_references(tenant, record)
                    if missing:
                        raise ValueError(f"{path}: tenants[{number}].contacts[{index}]: {missing}")
                tenant.insert(collection, record, now)


SEED_SCHEMA = "seed-schema.yaml"


@cache
def seed_validator() -> jsonschema.Draft202012Validator:
    text = (importlib.resources.files("mockserver") / SEED_SCHEMA).read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(yaml.safe_load(text))


def seed_problem(data: dict) -> str | None:
    """The first place where ``data`` breaks the seed format (mockserver/seed-schema.yaml), and how many more."""
    errors = sorted(seed_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return None
    first = errors[0]
    where = (
        "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path).lstrip(".")
        or "the file"
    )
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {first.message}{more}"


def unknown_references(tenant: Tenant, contact: dict[str, Any]) -> str | None:
    for field, collection in (("source_id", "sources"), ("status_id", "statuses")):
        if tenant.get(collection, contact[field]) is None:
            return f"{field} {contact[field]} names no {collection[:-1]} of the tenant"
    missing = [g for g in contact.get("group_id") or [] if tenant.get("groups", g) is None]
    return f"group_id names no group {missing}" if missing else None
