"""Tenants, tokens and their records (D8): everything the mock remembers.

Records are plain dicts shaped like the API's resources. Ids come from the
store's one ``IdAllocator``, which every tenant of the store shares: positive
integers, never reused (D8), by default one sequence per collection.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from mockserver.clock import Clock, iso
from mockserver.limits import SlidingWindow, Window

COLLECTIONS = ("contacts", "groups", "sources", "statuses", "templates", "messages", "chats", "comments")

DEFAULT_LIMITS = {"contacts": 1000, "conversations": 1000, "campaigns": 10, "staff": 5}
DEFAULT_FEATURES = {
    "whatsapp_templates": True,
    "bulk_messaging": True,
    "chatbot": False,
    "advanced_analytics": False,
    "api_access": True,
    "custom_branding": False,
}
DEFAULT_SETTINGS = {
    "whatsapp_configured": True,
    "business_account_id": "102290129340398",
    "sender_id": "15550001234",
    "auto_contact_config": True,
    "campaigns": 0,
    "staff": 1,
}


MAX_ID_DIGITS = 19  # more digits than any id the mock hands out (its ids fit in 64 bits)


@dataclass
class IdAllocator:
    """Hands out record ids (D8: positive integers, never reused; D19: any scheme).

    The default counts from 1 per collection, shared by every tenant of a store, so an
    id names one record in the whole mock. ``start``, ``max_gap`` and ``per_tenant``
    give the other schemes a correct server may use (``mockserver/variants.py``).
    """

    start: int = 1
    max_gap: int = 0
    per_tenant: bool = False
    seed: int = 20260101
    counters: dict[tuple[int, str], int] = field(default_factory=dict)
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def next(self, tenant_id: int, collection: str) -> int:
        key = (tenant_id if self.per_tenant else 0, collection)
        record_id = self.counters.get(key, self.start)
        if self.max_gap:
            record_id += self.rng.randint(0, self.max_gap)
        self.counters[key] = record_id + 1
        return record_id


@dataclass
class Token:
    value: str
    tenant_id: int
    scopes: frozenset[str]
    rate_limit_per_minute: int = 60
    window: SlidingWindow = field(default_factory=SlidingWindow)  # the calls of the last minute (D11)

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


@dataclass
class Otp:
    phone: str
    purpose: str
    code: str
    created_at: float
    expires_at: float
    attempts: int = 0
    max_attempts: int = 5

    def public(self) -> dict:
        return {
            "phone": self.phone,
            "purpose": self.purpose,
            "code": self.code,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "verification_attempts": self.attempts,
            "max_attempts": self.max_attempts,
        }


@dataclass
class Tenant:
    id: int
    name: str
    subdomain: str
    created_at: float
    limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    features: dict[str, bool] = field(default_factory=lambda: dict(DEFAULT_FEATURES))
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    plan: dict[str, Any] = field(
        default_factory=lambda: {"plan_name": "Growth", "plan_id": 2, "status": "active", "expires_at": None}
    )
    clock: Clock | None = None
    records: dict[str, dict[int, dict]] = field(default_factory=lambda: {c: {} for c in COLLECTIONS})
    # The store's allocator: it decides whether tenants share one id sequence (D8, D19).
    ids: IdAllocator = field(default_factory=IdAllocator)
    otps: dict[tuple[str, str], Otp] = field(default_factory=dict)
    limiters: dict[str, Window] = field(default_factory=dict)  # the OTP limits (D10), by x-rate-limit key
    whatsapp_templates: list[dict] = field(default_factory=list)
    # (collection, field) -> normalised value -> ids holding it; built on first use, kept by the writers below.
    unique_index: dict[tuple[str, str], dict[Any, set[int]]] = field(default_factory=dict)

    def table(self, collection: str) -> dict[int, dict]:
        return self.records[collection]

    def get(self, collection: str, record_id: Any) -> dict | None:
        if isinstance(record_id, str):
            # ASCII digits only: "²" or "٣" pass str.isdigit() but are not ids (D6: non-numeric is a 404);
            # nor is a number of more digits than any id has (Python refuses int() past 4300 digits).
            if not (record_id.isascii() and record_id.isdigit()) or len(record_id) > MAX_ID_DIGITS:
                return None
            record_id = int(record_id)
        return self.records[collection].get(record_id)

    def new_id(self, collection: str) -> int:
        return self.ids.next(self.id, collection)

    def insert(self, collection: str, record: dict, now: float) -> dict:
        record = {"id": self.new_id(collection), **record}
        stamp = iso(now)
        record.setdefault("created_at", stamp)
        record.setdefault("updated_at", stamp)
        self.records[collection][record["id"]] = record
        self._index_record(collection, record, add=True)
        return record

    def set_fields(self, collection: str, record: dict, changes: dict, now: float) -> dict:
        """Writes ``changes`` into a stored record and stamps ``updated_at``."""
        self._index_record(collection, record, add=False)
        record.update(changes)
        record["updated_at"] = iso(now)
        self._index_record(collection, record, add=True)
        return record

    def remove(self, collection: str, record_id: int) -> dict | None:
        record = self.records[collection].pop(record_id, None)
        if record is not None:
            self._index_record(collection, record, add=False)
        return record

    def holders(self, collection: str, field_name: str, value: Any) -> set[int]:
        """Ids of the records whose ``field_name`` equals ``value`` (strings compared case-insensitively)."""
        key = (collection, field_name)
        if key not in self.unique_index:
            index: dict[Any, set[int]] = {}
            for record in self.records[collection].values():
                if record.get(field_name) is not None:
                    index.setdefault(_normal(record[field_name]), set()).add(record["id"])
            self.unique_index[key] = index
        return self.unique_index[key].get(_normal(value), set())

    def _index_record(self, collection: str, record: dict, add: bool) -> None:
        for (indexed, field_name), index in self.unique_index.items():
            value = record.get(field_name)
            if indexed != collection or value is None:
                continue
            ids = index.setdefault(_normal(value), set())
            if add:
                ids.add(record["id"])
            else:
                ids.discard(record["id"])

    def find(self, collection: str, **where: Any) -> dict | None:
        for record in self.records[collection].values():
            if all(record.get(k) == v for k, v in where.items()):
                return record
        return None


def _normal(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def new_token_value() -> str:
    return "wacr_" + secrets.token_urlsafe(24)


@dataclass
class Store:
    """All tenants and tokens of one mock instance."""

    default_clock: Clock = field(default_factory=Clock)
    tenants: dict[int, Tenant] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    next_tenant_id: int = 1
    ids: IdAllocator = field(default_factory=IdAllocator)
    seed: Any = None  # a ``seed.SeedOptions``; None is D14's minimum with the default names

    def owners_of(self, collection: str, record_id: int) -> list[Tenant]:
        """Every tenant holding that id: one, unless ids are per tenant (D19)."""
        return [t for t in self.tenants.values() if record_id in t.records[collection]]

    def clock_of(self, tenant: Tenant) -> Clock:
        return tenant.clock or self.default_clock

    def own_clock(self, tenant: Tenant) -> Clock:
        """The tenant's own clock, started from the shared one the first time it is asked for."""
        if tenant.clock is None:
            tenant.clock = self.default_clock.copy()
        return tenant.clock

    def add_token(
        self, tenant: Tenant, scopes: list[str], rate_limit_per_minute: int = 60, value: str | None = None
    ) -> Token:
        token = Token(value or new_token_value(), tenant.id, frozenset(scopes), rate_limit_per_minute)
        self.tokens[token.value] = token
        return token
