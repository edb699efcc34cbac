"""The store: everything the mock remembers (D8), kept in SQLite.

- The working set is plain Python: tenants, tokens and records shaped like the API's resources,
  which handlers read and change. Ids come from the store's one ``IdAllocator``, which every
  tenant shares: positive integers, never reused (D8), by default one sequence per collection.
- ``Database`` keeps that state in SQLite (Python's ``sqlite3``): in memory by default, or in
  ``--state-file``. ``MockCore`` commits once after each request, in one transaction, only the
  rows the request changed (records, the tenant, its token, the id counters). A call is answered
  only after its transaction commits; when the commit fails (a full disk, a read-only folder, an
  I/O error) the transaction is rolled back, the working set is read back from the database, and
  the caller gets a 500 in the D4 envelope: memory and file stay as they were.
- The file holds data only (JSON text in four tables), never code. A file that is not a store of
  this version (``application_id``, ``user_version`` and the exact schema are checked) is refused
  at start and left untouched.
- One server per file: the server holds an exclusive ``flock`` on the file itself (its inode), so
  the file is refused to a second server however its path is spelled (a symlink, ``..``), and no
  side file can be deleted to get round it. SQLite runs in WAL mode with ``locking_mode=EXCLUSIVE``
  as well, so no other SQLite client writes it while the server runs.
- ``synchronous=NORMAL``: a commit survives the mock being killed (``kill -9``); a power cut may
  lose the last commits, which a development mock can afford.
- Reads move the per-token rate-limit window (D11) without writing: the window is written with
  the next write of that token's request and at shutdown.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import secrets
import sqlite3
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mockserver.clock import Clock, iso
from mockserver.limits import SlidingWindow, Window, restored_window, window_state

try:
    import fcntl
except ImportError:  # Windows: no flock; SQLite's own exclusive lock still keeps a second writer out
    fcntl = None  # type: ignore[assignment]

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


def empty_tables() -> dict[str, dict[int, dict]]:
    return {collection: {} for collection in COLLECTIONS}


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


class RecordIndex(Protocol):
    """An index a list keeps on one table (``mockserver/list_index.py``), told of every change."""

    def drop(self, record: dict) -> None: ...

    def add(self, record: dict) -> None: ...


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
    # collection -> id -> record; None for a tenant read from a state file until its records are first
    # used (``read_tables`` reads them then), so a start does not wait for every tenant's records.
    tables: dict[str, dict[int, dict]] | None = field(default_factory=lambda: empty_tables(), repr=False)
    read_tables: Callable[[], dict[str, dict[int, dict]]] | None = field(
        default=None, repr=False, compare=False
    )
    # The store's allocator: it decides whether tenants share one id sequence (D8, D19).
    ids: IdAllocator = field(default_factory=IdAllocator)
    otps: dict[tuple[str, str], Otp] = field(default_factory=dict)
    limiters: dict[str, Window] = field(default_factory=dict)  # the OTP limits (D10), by x-rate-limit key
    whatsapp_templates: list[dict] = field(default_factory=list)
    # (collection, field) -> normalised value -> ids holding it; built on first use, kept by the writers below.
    unique_index: dict[tuple[str, str], dict[Any, set[int]]] = field(default_factory=dict)
    # collection -> list shape -> its index (filtered, searched, sorted), least recently used first; built by
    # lists on first use, kept by the writers below.
    list_indexes: dict[str, OrderedDict[Hashable, RecordIndex]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # (collection, id) of the records written since the last commit: what the next commit writes.
    changed: set[tuple[str, int]] = field(default_factory=set, repr=False, compare=False)

    @property
    def records(self) -> dict[str, dict[int, dict]]:
        if self.tables is None:
            if self.read_tables is None:
                raise RuntimeError(f"tenant {self.id} has neither records nor a way to read them")
            self.tables = self.read_tables()
            self.read_tables = None
        return self.tables

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
        table = self.records[collection]
        last = next(reversed(table), None)
        table[record["id"]] = record
        if last is not None and record["id"] < last:
            # Tables stay in id order (a seed file may give a lower id): lists page them without sorting.
            ordered = sorted(table.items())
            table.clear()
            table.update(ordered)
        self._index_record(collection, record, add=True)
        self.changed.add((collection, record["id"]))
        return record

    def set_fields(self, collection: str, record: dict, changes: dict, now: float) -> dict:
        """Writes ``changes`` into a stored record and stamps ``updated_at``."""
        self._index_record(collection, record, add=False)
        record.update(changes)
        record["updated_at"] = iso(now)
        self._index_record(collection, record, add=True)
        self.changed.add((collection, record["id"]))
        return record

    def remove(self, collection: str, record_id: int) -> dict | None:
        record = self.records[collection].pop(record_id, None)
        if record is not None:
            self._index_record(collection, record, add=False)
            self.changed.add((collection, record_id))
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
        indexes = self.list_indexes.get(collection)
        if not indexes:
            return
        for shape, kept in list(indexes.items()):
            try:
                if add:
                    kept.add(record)
                else:
                    kept.drop(record)
            except Exception:  # noqa: BLE001  (a value the order cannot compare: rebuilt, and judged, when next listed)
                del indexes[shape]

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
    # Tenants a control call looked up (it may have changed them): the next commit compares their rows.
    touched: set[int] = field(default_factory=set, repr=False, compare=False)

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


# --- rows: the store as data (JSON text), and back ----------------------------------------------

APPLICATION_ID = 0x77616372  # "wacr": SQLite's header field naming the program a file belongs to
FORMAT = 4  # SQLite's user_version; formats 1-3 were pickles, which this version refuses
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA = {
    "meta": "CREATE TABLE meta (key TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "tenants": "CREATE TABLE tenants (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    "tokens": "CREATE TABLE tokens (value TEXT PRIMARY KEY, tenant_id INTEGER NOT NULL, body TEXT NOT NULL)",
    "records": (
        "CREATE TABLE records (tenant_id INTEGER NOT NULL, collection TEXT NOT NULL, id INTEGER NOT NULL,"
        " body TEXT NOT NULL, PRIMARY KEY (tenant_id, collection, id)) WITHOUT ROWID"
    ),
}


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _meta_row(store: Store) -> dict[str, Any]:
    ids = store.ids
    return {
        "next_tenant_id": store.next_tenant_id,
        "counters": [[owner, collection, value] for (owner, collection), value in ids.counters.items()],
        # The random gaps of an id scheme (D19) go on where they stopped.
        "rng": ids.rng.getstate() if ids.max_gap else None,
        "default_clock": store.default_clock.state(),
    }


def _tenant_row(tenant: Tenant) -> dict[str, Any]:
    return {
        "name": tenant.name,
        "subdomain": tenant.subdomain,
        "created_at": tenant.created_at,
        "limits": tenant.limits,
        "features": tenant.features,
        "settings": tenant.settings,
        "plan": tenant.plan,
        "clock": tenant.clock.state() if tenant.clock else None,
        "otps": [vars(otp) for otp in tenant.otps.values()],
        "limiters": {key: window_state(window) for key, window in tenant.limiters.items()},
        "whatsapp_templates": tenant.whatsapp_templates,
    }


def _token_key(token: Token) -> dict[str, Any]:
    """A token's row without its window: what tells whether a request changed the token."""
    return {"tenant_id": token.tenant_id, "scopes": sorted(token.scopes), "rate": token.rate_limit_per_minute}


def _restore_meta(store: Store, row: dict[str, Any]) -> None:
    store.next_tenant_id = int(row["next_tenant_id"])
    store.ids.counters = {(int(owner), str(name)): int(value) for owner, name, value in row["counters"]}
    if row.get("rng") is not None and store.ids.max_gap:
        version, internal, gauss = row["rng"]
        store.ids.rng.setstate((version, tuple(internal), gauss))
    store.default_clock = Clock.restored(row["default_clock"])


def _restore_tenant(
    store: Store, tenant_id: int, row: dict[str, Any], read_tables: Callable[[], dict[str, dict[int, dict]]]
) -> Tenant:
    tenant = Tenant(
        id=tenant_id,
        name=row["name"],
        subdomain=row["subdomain"],
        created_at=row["created_at"],
        limits=row["limits"],
        features=row["features"],
        settings=row["settings"],
        plan=row["plan"],
        clock=Clock.restored(row["clock"]) if row["clock"] is not None else None,
        ids=store.ids,
        whatsapp_templates=row["whatsapp_templates"],
        tables=None,
        read_tables=read_tables,
    )
    for otp in row["otps"]:
        restored = Otp(**otp)
        tenant.otps[(restored.phone, restored.purpose)] = restored
    tenant.limiters = {key: restored_window(state) for key, state in row["limiters"].items()}
    return tenant


# --- the database ---------------------------------------------------------------------------------


class StoreError(Exception):
    """A commit failed: it was rolled back, and the request that made it is refused."""


class StateFileRefused(Exception):
    """``--state-file`` cannot be used (one line, for the user): the file is left as it was."""


# What a failed commit may raise: SQLite's errors (disk full, read-only, I/O), the OS's, and a
# value JSON cannot write (too deep, not finite).
COMMIT_FAILURES = (sqlite3.Error, OSError, ValueError, TypeError, RecursionError)


class Database:
    """The store's rows in SQLite: ``:memory:`` by default, or a state file (``open_file``)."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None = None, held: int | None = None):
        self.connection = connection
        self.path = path
        self._held = held  # the descriptor whose flock marks the file as this server's
        self._tenants: dict[int, str] = {}  # each row as last committed: a request writes only what differs
        self._tokens: dict[str, str] = {}
        self._meta = ""
        # A seam: called in every write transaction just before COMMIT. A test raises from it (say
        # OSError(ENOSPC)) to play a failing disk; the transaction then rolls back like a real failure.
        self.before_commit: Callable[[], None] | None = None

    @classmethod
    def in_memory(cls) -> Database:
        database = cls(_connect(":memory:"))
        database.create_schema()
        return database

    @classmethod
    def open_file(cls, path: Path) -> Database:
        """The state file at ``path``, locked for this process; StateFileRefused says why not."""
        real = path.resolve()
        flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0)
        created = False
        try:
            try:
                descriptor = os.open(real, flags | os.O_CREAT | os.O_EXCL, 0o600)
                created = True
            except FileExistsError:
                descriptor = os.open(real, flags)
        except OSError as exc:
            raise StateFileRefused(f"--state-file {path} cannot be opened ({exc.strerror})") from None
        try:
            _lock(descriptor, path)
            if not created:
                _check_header(descriptor, path)
            os.fchmod(descriptor, 0o600)
            connection = _connect(str(real))
            database = cls(connection, path, descriptor)
            try:
                if created:
                    database.create_schema()
                else:
                    database.check_schema()
                connection.execute("PRAGMA journal_mode = WAL")
            except (sqlite3.Error, StateFileRefused) as exc:
                connection.close()
                if isinstance(exc, StateFileRefused):
                    raise
                raise StateFileRefused(f"--state-file {path} cannot be used ({_reason(exc)})") from None
            return database
        except BaseException:
            os.close(descriptor)
            if created:
                real.unlink(missing_ok=True)  # this process made it, and it holds nothing yet
            raise

    def has_data(self) -> bool:
        return self.connection.execute("SELECT 1 FROM meta").fetchone() is not None

    def load(self, store: Store) -> Store:
        """Fills a blank ``store`` (its allocator and seed options set) from the rows."""
        try:
            (meta,) = self.connection.execute("SELECT body FROM meta WHERE key = 'store'").fetchone()
            _restore_meta(store, json.loads(meta))
            for tenant_id, body in self.connection.execute("SELECT id, body FROM tenants ORDER BY id"):
                read_tables = functools.partial(self._tables_of, tenant_id)
                store.tenants[tenant_id] = _restore_tenant(store, tenant_id, json.loads(body), read_tables)
            for value, tenant_id, body in self.connection.execute(
                "SELECT value, tenant_id, body FROM tokens"
            ):
                row = json.loads(body)
                token = Token(value, tenant_id, frozenset(row["scopes"]), row["rate"])
                token.window = SlidingWindow(deque(row["window"]))
                store.tokens[value] = token
            # Records are read per tenant when first used; rows no tenant would read are refused now.
            wrong = sorted(
                f"{collection} of tenant {tenant_id}"
                for tenant_id, collection in self._stored_tables()
                if tenant_id not in store.tenants or collection not in COLLECTIONS
            )
            if wrong:
                raise ValueError(f"records of no stored tenant or collection: {', '.join(wrong)}")
        except (sqlite3.Error, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StateFileRefused(
                f"--state-file {self.path} holds rows this version cannot read ({exc!r})"
            ) from None
        self._remember(store)
        return store

    def _stored_tables(self) -> set[tuple[int, str]]:
        """``(tenant_id, collection)`` of every record row, found by seeks in the primary key (no scan)."""
        found = set()
        execute = self.connection.execute
        (tenant_id,) = execute("SELECT min(tenant_id) FROM records").fetchone()
        while tenant_id is not None:
            collection = ""
            while row := execute(
                "SELECT collection FROM records WHERE tenant_id = ? AND collection > ? ORDER BY collection LIMIT 1",
                (tenant_id, collection),
            ).fetchone():
                (collection,) = row
                found.add((tenant_id, collection))
            (tenant_id,) = execute(
                "SELECT min(tenant_id) FROM records WHERE tenant_id > ?", (tenant_id,)
            ).fetchone()
        return found

    def _tables_of(self, tenant_id: int) -> dict[str, dict[int, dict]]:
        """One tenant's records, by collection, each table in id order (checked at ``load``)."""
        rows = self.connection.execute(
            "SELECT collection, body FROM records WHERE tenant_id = ? ORDER BY collection, id", (tenant_id,)
        ).fetchall()
        # One parse of all bodies at once: a third faster than one json.loads per row.
        records = json.loads("[" + ",".join(body for _, body in rows) + "]")
        tables = empty_tables()
        for (collection, _), record in zip(rows, records, strict=True):
            tables[collection][record["id"]] = record
        return tables

    def replace(self, store: Store) -> None:
        """Writes the whole store in place of what the database held (a start, a reset)."""
        try:
            with self._transaction() as cursor:
                for table in SCHEMA:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608  (table names are the schema's own)
                cursor.execute("INSERT INTO meta VALUES ('store', ?)", (_text(_meta_row(store)),))
                cursor.executemany(
                    "INSERT INTO tenants VALUES (?, ?)",
                    ((t.id, _text(_tenant_row(t))) for t in store.tenants.values()),
                )
                cursor.executemany(
                    "INSERT INTO tokens VALUES (?, ?, ?)",
                    (self._token_values(t) for t in store.tokens.values()),
                )
                cursor.executemany(
                    "INSERT INTO records VALUES (?, ?, ?, ?)",
                    (
                        (tenant.id, collection, record_id, _text(record))
                        for tenant in store.tenants.values()
                        for collection, table in tenant.records.items()
                        for record_id, record in table.items()
                    ),
                )
        except COMMIT_FAILURES as exc:
            raise StoreError(_reason(exc)) from None
        self._remember(store)

    def commit(self, store: Store, tenant: Tenant | None = None, token: Token | None = None) -> bool:
        """Writes what the last request changed, in one transaction; True when something was written.

        ``tenant`` and ``token``: the API call's own, whose rows it may have changed; the tenants a
        control call looked up are in ``store.touched``. StoreError when the commit fails.
        """
        try:
            meta = _text(_meta_row(store))
            candidates = {t.id: t for t in ([tenant] if tenant else []) if t.id in store.tenants}
            candidates.update((i, store.tenants[i]) for i in store.touched if i in store.tenants)
            if len(self._tenants) != len(store.tenants):
                candidates.update((i, t) for i, t in store.tenants.items() if i not in self._tenants)
            tenant_rows = {i: _text(_tenant_row(t)) for i, t in candidates.items()}
            tenant_rows = {i: text for i, text in tenant_rows.items() if self._tenants.get(i) != text}
            tokens = [token] if token is not None and token.value in store.tokens else []
            if len(self._tokens) != len(store.tokens):
                tokens += [t for v, t in store.tokens.items() if v not in self._tokens]
            token_keys = {t.value: _text(_token_key(t)) for t in tokens}
            changed_tokens = [t for t in tokens if self._tokens.get(t.value) != token_keys[t.value]]
            records = [t for t in store.tenants.values() if t.changed]
            if meta == self._meta and not tenant_rows and not changed_tokens and not records:
                store.touched.clear()
                return False
            with self._transaction() as cursor:
                if meta != self._meta:
                    cursor.execute("INSERT OR REPLACE INTO meta VALUES ('store', ?)", (meta,))
                cursor.executemany("INSERT OR REPLACE INTO tenants VALUES (?, ?)", tenant_rows.items())
                # The request's token goes with any write: its window moves with every call.
                cursor.executemany(
                    "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", (self._token_values(t) for t in tokens)
                )
                for owner in records:
                    self._write_records(cursor, owner)
        except COMMIT_FAILURES as exc:
            raise StoreError(_reason(exc)) from None
        self._meta = meta
        self._tenants.update(tenant_rows)
        self._tokens.update(token_keys)
        for owner in records:
            owner.changed.clear()
        store.touched.clear()
        return True

    def close(self, store: Store) -> None:
        """The server stops: the tokens' windows moved by reads are written, and the file released."""
        with contextlib.suppress(*COMMIT_FAILURES), self._transaction() as cursor:
            cursor.executemany(
                "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
                (self._token_values(t) for t in store.tokens.values()),
            )
        with contextlib.suppress(sqlite3.Error):
            self.connection.close()
        if self._held is not None:
            os.close(self._held)
            self._held = None

    # --- inside -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
            if self.before_commit is not None:
                self.before_commit()
            cursor.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                cursor.execute("ROLLBACK")
            raise

    @staticmethod
    def _token_values(token: Token) -> tuple[str, int, str]:
        return (token.value, token.tenant_id, _text({**_token_key(token), "window": list(token.window.hits)}))

    @staticmethod
    def _write_records(cursor: sqlite3.Cursor, tenant: Tenant) -> None:
        upserts, deletions = [], []
        for collection, record_id in tenant.changed:
            record = tenant.records[collection].get(record_id)
            if record is None:
                deletions.append((tenant.id, collection, record_id))
            else:
                upserts.append((tenant.id, collection, record_id, _text(record)))
        cursor.executemany("DELETE FROM records WHERE tenant_id = ? AND collection = ? AND id = ?", deletions)
        cursor.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", upserts)

    def _remember(self, store: Store) -> None:
        self._meta = _text(_meta_row(store))
        self._tenants = {t.id: _text(_tenant_row(t)) for t in store.tenants.values()}
        self._tokens = {t.value: _text(_token_key(t)) for t in store.tokens.values()}
        for tenant in store.tenants.values():
            tenant.changed.clear()
        store.touched.clear()

    def create_schema(self) -> None:
        with self._transaction() as cursor:
            cursor.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            cursor.execute(f"PRAGMA user_version = {FORMAT}")
            for statement in SCHEMA.values():
                cursor.execute(statement)

    def check_schema(self) -> None:
        (application,) = self.connection.execute("PRAGMA application_id").fetchone()
        (version,) = self.connection.execute("PRAGMA user_version").fetchone()
        if application != APPLICATION_ID:
            raise StateFileRefused(
                f"--state-file {self.path} is an SQLite file of another program; give another file"
            )
        if version != FORMAT:
            raise StateFileRefused(
                f"--state-file {self.path} is a wacr-mock store of format {version}, not {FORMAT};"
                " move it away to start fresh"
            )
        # SQLite's own indexes of the primary keys aside, exactly the schema: no view, trigger or extra table.
        found = dict(
            self.connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex_%'"
            )
        )
        if found != SCHEMA:
            raise StateFileRefused(
                f"--state-file {self.path} does not hold the tables of a wacr-mock store; move it away to start fresh"
            )


def _connect(target: str) -> sqlite3.Connection:
    # isolation_level=None: transactions are begun and committed by ``Database._transaction`` only.
    connection = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA trusted_schema = OFF")  # a crafted file's views and triggers run no functions
    connection.execute("PRAGMA locking_mode = EXCLUSIVE")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def _lock(descriptor: int, path: Path) -> None:
    if fcntl is None:
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise StateFileRefused(
            f"--state-file {path} is in use by another wacr-mock; stop it, or give this one another file"
        ) from None


def _check_header(descriptor: int, path: Path) -> None:
    start = os.pread(descriptor, len(SQLITE_HEADER), 0)
    if not start:
        raise StateFileRefused(
            f"--state-file {path} is empty, so not a wacr-mock store; delete it to start fresh"
        )
    if start == SQLITE_HEADER:
        return
    if start[:1] == b"\x80":
        raise StateFileRefused(
            f"--state-file {path} is a state file of an older wacr-mock (a pickle), which this version"
            " does not read; move it away or delete it to start fresh"
        )
    raise StateFileRefused(
        f"--state-file {path} cannot be read (not a wacr-mock store); move it away to start fresh"
    )


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
