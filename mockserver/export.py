"""The mock's state as a seed file (``GET /__mock__/export``) that ``--seed`` accepts again.

A seed file holds what ``mockserver/seed-schema.yaml`` allows: tenants with their name,
limits, features, settings and tokens, and their sources, statuses, groups and contacts.
OTPs, messages, chats, comments and clocks are not part of a seed, so they are not exported.

A seed gives no ids: loading it allocates new ones. So the contacts' ``source_id``,
``status_id`` and ``group_id`` are rewritten to the ids the load will give, found by loading
the named records into a throwaway store first; the finished file is loaded once more to prove
it is accepted.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mockserver.seed import seed_validator
from mockserver.store import Store, Tenant

# A fresh store of the instance's kind, seeded with the given seed files only.
WorldFrom = Callable[[list[str]], Store]


NAMED = ("sources", "statuses", "groups")
DEFAULT_RECORDS = {"sources": "default_source_id", "statuses": "default_status_id"}
REFERENCES = {"source_id": "sources", "status_id": "statuses"}


def allowed_keys(definition: str) -> frozenset[str]:
    schema = seed_validator().schema
    return frozenset(schema["$defs"][definition]["properties"])


def named_records(tenant: Tenant, collection: str) -> list[dict]:
    """The tenant's records of a collection, except the default one every new tenant starts with."""
    default_id = tenant.settings.get(DEFAULT_RECORDS.get(collection, ""))
    keys = allowed_keys("named") | ({"color"} if collection == "statuses" else frozenset())
    return [
        {k: v for k, v in record.items() if k in keys and v is not None}
        for record_id, record in tenant.table(collection).items()
        if record_id != default_id
    ]


def tenant_part(store: Store, tenant: Tenant, with_records: bool) -> dict[str, Any]:
    tokens = [
        {"token": t.value, "scopes": sorted(t.scopes), "rate_limit_per_minute": t.rate_limit_per_minute}
        for t in store.tokens.values()
        if t.tenant_id == tenant.id
    ]
    settings = {k: v for k, v in tenant.settings.items() if k not in DEFAULT_RECORDS.values()}
    part: dict[str, Any] = {
        "id": tenant.id,
        "name": tenant.name,
        "limits": dict(tenant.limits),
        "features": dict(tenant.features),
        "settings": settings,
        "tokens": tokens,
    }
    if with_records:
        for collection in NAMED:
            part[collection] = named_records(tenant, collection)
    return part


@contextmanager
def seed_file(data: dict) -> Iterator[str]:
    handle, path = tempfile.mkstemp(suffix=".json", prefix="wacr-export-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        yield path
    finally:
        os.unlink(path)


def loaded(world_from: WorldFrom, data: dict) -> Store:
    """A fresh store of the same kind with only ``data`` seeded; ValueError when it is refused."""
    with seed_file(data) as path:
        return world_from([path])


def id_map(old: Tenant, new: Tenant, collection: str) -> dict[int, int]:
    """Old id -> new id: the default record to the default record, the others in their order."""
    mapping = {}
    key = DEFAULT_RECORDS.get(collection)
    if key and old.settings.get(key) is not None and new.settings.get(key) is not None:
        mapping[old.settings[key]] = new.settings[key]
    old_ids = [i for i in old.table(collection) if i not in mapping]
    new_ids = [i for i in new.table(collection) if i not in mapping.values()]
    # The loaded tenant starts with its own template records etc.; the named ones come last, in order.
    mapping.update(zip(old_ids, new_ids[len(new_ids) - len(old_ids) :], strict=True))
    return mapping


def contact_part(contact: dict, maps: dict[str, dict[int, int]]) -> dict:
    keys = allowed_keys("contact")
    part = {k: v for k, v in contact.items() if k in keys and v is not None}
    for field, collection in REFERENCES.items():
        if field in part:
            part[field] = maps[collection].get(part[field], part[field])
    if "group_id" in part:
        part["group_id"] = [maps["groups"][g] for g in part["group_id"] if g in maps["groups"]]
    return part


def seed_of(store: Store, world_from: WorldFrom) -> dict:
    """The seed file of ``store`` (ValueError when it cannot be written as one); ``world_from`` loads a
    seed file into a fresh store of the same kind, to map ids and to prove the file loads."""
    tenants = sorted(store.tenants.values(), key=lambda t: t.id)
    first = {"tenants": [tenant_part(store, t, with_records=True) for t in tenants]}
    probe = loaded(world_from, first)
    parts = []
    for tenant, part in zip(tenants, first["tenants"], strict=True):
        twin = probe.tenants[tenant.id]
        maps = {collection: id_map(tenant, twin, collection) for collection in NAMED}
        part["contacts"] = [contact_part(c, maps) for c in tenant.table("contacts").values()]
        parts.append(part)
    data = {"tenants": parts}
    loaded(world_from, data)  # the file must load as it is written
    return data
