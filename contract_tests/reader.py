"""The suite's own reading of ``openapi.yaml``: plain dicts, with ``$ref`` resolved by ``referencing``.

The judge must not share a misreading of the mock's compiler (issue 7, part 6), so
nothing here is imported from the mock. Unlike that compiler, the reader refuses no
schema keyword: a keyword it does not know (``uniqueItems``, say) stays in the
field's schema and is simply not a rule the suite breaks.
"""

from __future__ import annotations

import importlib.resources
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:
    from referencing._core import Resolver  # the type Registry.resolver() returns; not re-exported

# Keywords that are rules with a message of their own (x-validation-messages); ``type``,
# ``items`` and ``required`` are read apart, and ``x-unique``/``x-exists`` need the tenant's records.
RULE_KEYWORDS = (
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "enum",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
)
STATEFUL_RULES = ("unique", "exists")
METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
BASE_URI = "urn:wacr:openapi"


# --- provenance tiers ------------------------------------------------------------------------
#
# Every rule, field, error entry and fact of the spec has one provenance (docs/spec-conventions.md):
#   documented (<docs page>)   the published docs say it          -> checked at every level
#   assumed (Dn)               a decision in docs/decisions.md    -> checked at --contract-level all
#   mock (<why>)               the mock's own choice (D19)        -> never checked
# One default, here only: an item the spec leaves unmarked is documented.
Tier = Literal["documented", "decided", "mock"]
TIER_STRENGTH: dict[Tier, int] = {"documented": 0, "decided": 1, "mock": 2}


def tier_of(provenance: object) -> Tier:
    """The tier of a provenance string; an unmarked item is documented."""
    text = str(provenance or "documented").strip().lower()
    if text.startswith("documented"):
        return "documented"
    if text.startswith("mock"):
        return "mock"
    return "decided"


def weakest(*tiers: Tier) -> Tier:
    """The tier of a check that rests on all of ``tiers``: the least certain of them."""
    return max(tiers, key=TIER_STRENGTH.__getitem__, default="documented")


@dataclass(frozen=True)
class ErrorEntry:
    """One documented answer of an operation: a status with a code (an ``x-error-codes`` entry), or a status with
    no code (a response with only ``x-provenance``, such as Comments' 401, D12)."""

    status: int
    code: str | None
    when: str
    tier: Tier


@dataclass(frozen=True)
class PathRecord:
    """The record a path parameter names (``x-path-record``, else the ``{id}`` of ``x-collection``): its collection,
    the field the parameter is compared with, whether it is a phone (D9), and whether only a sent message brings
    such a record into being (``x-made-by-sending``: chats, messages)."""

    param: str
    collection: str
    field: str
    is_phone: bool
    made_by_sending: bool
    listed_by: str  # the operation listing every record of the collection, where more than one lists it


class ContractError(Exception):
    """The spec cannot be read: no file, a ``$ref`` cycle, or a ``$ref`` to nowhere."""


def spec_path() -> Path:
    """``WACR_SPEC``, else the repository's ``openapi.yaml``, else a copy installed with the package."""
    override = os.environ.get("WACR_SPEC")
    if override:
        return Path(override)
    beside = Path(__file__).resolve().parent.parent / "openapi.yaml"
    if beside.is_file():
        return beside
    installed = importlib.resources.files("contract_tests") / "openapi.yaml"
    if installed.is_file():
        return Path(str(installed))
    raise ContractError(f"no openapi.yaml at {beside} nor in the installed package; set WACR_SPEC")


def resolve_refs(document: dict, base_uri: str = BASE_URI) -> dict:
    """The document with every ``$ref`` inlined; siblings of a ``$ref`` override its target's keys."""
    registry = Registry().with_resource(base_uri, DRAFT202012.create_resource(document))
    return _inline(document, registry.resolver(base_uri), (), "#")


def _pointer(where: str, key: object) -> str:
    return f"{where}/" + str(key).replace("~", "~0").replace("/", "~1")


def _inline(node: Any, resolver: Resolver, chain: tuple[tuple[int, str], ...], where: str) -> Any:
    """``chain``: the targets being inlined (by identity) and their refs, to name a cycle."""
    if isinstance(node, list):
        return [_inline(item, resolver, chain, _pointer(where, index)) for index, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    rest = {
        key: _inline(value, resolver, chain, _pointer(where, key))
        for key, value in node.items()
        if key != "$ref" or not isinstance(ref, str)
    }
    if not isinstance(ref, str):
        return rest
    try:
        found = resolver.lookup(ref)
    except Unresolvable as error:
        raise ContractError(f"$ref {ref!r} at {where} points to nothing") from error
    if id(found.contents) in {seen for seen, _ in chain}:
        raise ContractError("$ref cycle: " + " -> ".join([name for _, name in chain] + [ref]))
    target = _inline(found.contents, found.resolver, (*chain, (id(found.contents), ref)), ref)
    return {**target, **rest} if isinstance(target, dict) else target


def merge_all_of(schema: dict) -> dict:
    """One object schema from ``allOf`` parts: properties and ``required`` are united, a part's
    property schema is laid over an earlier one of the same name, other keys keep their first value."""
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    for part in map(merge_all_of, schema.get("allOf", ())):
        properties = dict(merged.get("properties", {}))
        for name, sub in part.get("properties", {}).items():
            properties[name] = {**properties.get(name, {}), **sub}
        merged["properties"] = properties
        merged["required"] = list(dict.fromkeys([*merged.get("required", []), *part.get("required", [])]))
        for key, value in part.items():
            merged.setdefault(key, value)
    return merged


def types_of(schema: dict) -> tuple[str, ...]:
    declared = schema.get("type")
    if declared is None:
        return ()
    return tuple(declared) if isinstance(declared, list) else (declared,)


@dataclass(frozen=True, eq=False)
class ContractField:
    """One top-level request body field: its schema, messages and when it is required."""

    name: str
    schema: dict
    required: bool  # listed in the body's ``required``; the conditions below come on top

    @property
    def messages(self) -> dict[str, str]:
        return dict(self.schema.get("x-validation-messages") or {})

    @property
    def required_if(self) -> tuple[str, tuple] | None:
        condition = self.schema.get("x-required-if")
        return (condition["field"], tuple(condition["in"])) if condition else None

    @property
    def required_without(self) -> str | None:
        return self.schema.get("x-required-without")

    @property
    def types(self) -> tuple[str, ...]:
        return types_of(self.schema)

    @property
    def item_types(self) -> tuple[str, ...]:
        return types_of(self._items)

    @property
    def item_format(self) -> str | None:
        return self._items.get("format")

    @property
    def _items(self) -> dict:
        items = self.schema.get("items")
        return items if isinstance(items, dict) else {}

    @property
    def rules(self) -> frozenset[str]:
        """The rule keys the schema states for this field (a file's ``format: binary`` is its type)."""
        found = {rule for rule in RULE_KEYWORDS if rule in self.schema}
        if self.schema.get("format") == "binary":
            found.discard("format")
        if self.required or self.required_if or self.required_without:
            found.add("required")
        found |= {"type"} if self.types else set()
        found |= {"items"} if self.item_types else set()
        return frozenset(found | {rule for rule in STATEFUL_RULES if self.schema.get(f"x-{rule}")})

    def is_required(self, siblings: dict) -> bool:
        if self.required:
            return True
        if self.required_if is not None:
            other, values = self.required_if
            return siblings.get(other) in values
        return self.required_without is not None and siblings.get(self.required_without) is None


@dataclass(frozen=True, eq=False)
class ContractOperation:
    """One operation as the suite reads it: what to send, what it answers, and the WA.cr facts the spec states
    about it (its envelope, the record its path names, its collection, whether it sends a message, its tier)."""

    operation_id: str
    method: str
    path: str
    tag: str
    raw: dict  # the operation object with every $ref inlined
    scopes: tuple[str, ...]
    success_status: int
    bodies: dict[str, dict]  # media type -> body schema (allOf merged)
    body_fields: dict[str, ContractField]  # the first media type's fields
    query_schemas: dict[str, dict]  # name -> schema plus the parameter's own x- keys
    errors: tuple[ErrorEntry, ...]  # every documented, decided or mock answer of x-error-codes
    record: PathRecord | None  # the record the path names, for a path with a parameter

    @property
    def error_codes(self) -> dict[int, frozenset[str]]:
        codes: dict[int, set[str]] = {}
        for entry in self.errors:
            if entry.code is not None:
                codes.setdefault(entry.status, set()).add(entry.code)
        return {status: frozenset(found) for status, found in codes.items()}

    @property
    def tier(self) -> Tier:
        """Whether the docs give the operation itself (some are only named in the docs' sidebar, D1)."""
        return tier_of(self.raw.get("x-provenance"))

    @property
    def scope_tier(self) -> Tier:
        return weakest(self.tier, tier_of(self.raw.get("x-scope-provenance")))

    @property
    def envelope(self) -> str:
        """``standard`` (D2/D4) or ``flat`` (Comments' own style, D12)."""
        return str(self.raw.get("x-envelope", "standard"))

    @property
    def flat(self) -> bool:
        return self.envelope == "flat"

    @property
    def sends_message(self) -> bool:
        """Whether a call sends a WhatsApp message (``x-sends-message``): a live check of it needs --allow-send."""
        return bool(self.raw.get("x-sends-message", False))

    @property
    def collection(self) -> str | None:
        return self.raw.get("x-collection")

    @property
    def success_message(self) -> str:
        return self.raw.get("x-success-message", "OK")

    @property
    def sort_fields(self) -> tuple[str, ...]:
        return tuple(self.raw.get("x-sort-fields", ()))

    def ext(self, name: str, default: Any = None) -> Any:
        return self.raw.get(f"x-{name}", default)

    @property
    def success_required(self) -> frozenset[str]:
        """The top-level keys the success answer must carry (its schema's ``required``, ``allOf`` merged)."""
        response = self.raw.get("responses", {}).get(str(self.success_status), {})
        schema = (response.get("content") or {}).get("application/json", {}).get("schema") or {}
        return frozenset(merge_all_of(schema).get("required") or ())

    def body_tier(self, media_type: str) -> Tier:
        """The tier of sending a body in ``media_type``: the content entry's ``x-provenance`` (Send Media's JSON
        body is the mock's choice, the docs give multipart only); a type the operation does not take: mock."""
        content = (self.raw.get("requestBody") or {}).get("content") or {}
        if media_type not in content:
            return "mock"
        return weakest(self.tier, tier_of(content[media_type].get("x-provenance")))

    @property
    def takes_json(self) -> bool:
        """Whether a check may send this operation a JSON body (one the contract, not only the mock, takes)."""
        return self.body_tier("application/json") != "mock"

    def field_message(self, field_name: str, rule: str) -> str:
        return self.body_fields[field_name].messages[rule]

    def error_entry(self, status: int, code: str | None = None) -> ErrorEntry | None:
        """The answer the spec gives for ``status`` with ``code``; for a status whose response names no code,
        its status-only entry whatever ``code`` is asked (the code is then not part of the contract)."""
        at_status = [entry for entry in self.errors if entry.status == status]
        return next((e for e in at_status if e.code == code), None) or next(
            (e for e in at_status if e.code is None), None
        )

    def error_tier(self, status: int, code: str | None = None) -> Tier:
        """The tier of a check asserting this answer: the weakest of the operation's and the entry's; a check of an
        answer the spec does not give rests on the mock's choice (it is never made)."""
        entry = self.error_entry(status, code)
        return "mock" if entry is None else weakest(self.tier, entry.tier)


def _fields(schema: dict) -> dict[str, ContractField]:
    required = set(schema.get("required") or ())
    return {
        name: ContractField(name, sub, name in required)
        for name, sub in (schema.get("properties") or {}).items()
    }


def _query_schemas(parameters: list[dict]) -> dict[str, dict]:
    return {
        p["name"]: {**p.get("schema", {}), **{k: v for k, v in p.items() if k.startswith("x-")}}
        for p in parameters
        if p.get("in") == "query"
    }


def _error_entries(responses: dict) -> tuple[ErrorEntry, ...]:
    entries = []
    for status, response in responses.items():
        if not str(status).isdigit():
            continue
        listed = response.get("x-error-codes") or ()
        for item in listed:
            entries.append(
                ErrorEntry(int(status), item["code"], item.get("when", ""), tier_of(item.get("provenance")))
            )
        if not listed and "x-provenance" in response:
            entries.append(
                ErrorEntry(
                    int(status), None, response.get("description", ""), tier_of(response["x-provenance"])
                )
            )
    return tuple(entries)


def _path_record(path: str, raw: dict, made_by_sending: frozenset[str]) -> PathRecord | None:
    params = [segment[1:-1] for segment in path.strip("/").split("/") if segment.startswith("{")]
    if not params:
        return None
    block = raw.get("x-path-record") or {}
    collection = block.get("collection") or raw.get("x-collection") or ""
    return PathRecord(
        param=block.get("param", params[0]),
        collection=collection,
        field=block.get("field", "id"),
        is_phone=block.get("normalise") == "phone",
        made_by_sending=collection in made_by_sending,
        listed_by=block.get("listed_by", ""),
    )


def _operation(
    path: str,
    method: str,
    raw: dict,
    shared: list[dict],
    security: list[dict],
    made_by_sending: frozenset[str],
) -> ContractOperation:
    own = {(p["name"], p.get("in")) for p in raw.get("parameters", [])}
    parameters = [p for p in shared if (p["name"], p.get("in")) not in own] + raw.get("parameters", [])
    content = (raw.get("requestBody") or {}).get("content", {})
    bodies = {media: merge_all_of(entry.get("schema", {})) for media, entry in content.items()}
    responses = raw.get("responses", {})
    return ContractOperation(
        operation_id=raw["operationId"],
        method=method.upper(),
        path=path,
        tag=(raw.get("tags") or [""])[0],
        raw=raw,
        scopes=tuple(s for need in raw.get("security", security) for scopes in need.values() for s in scopes),
        success_status=min((int(s) for s in responses if str(s).startswith("2")), default=200),
        bodies=bodies,
        body_fields=_fields(next(iter(bodies.values()), {})),
        query_schemas=_query_schemas(parameters),
        errors=_error_entries(responses),
        record=_path_record(path, raw, made_by_sending),
    )


class ContractSpec:
    """The contract as the suite reads it: operations by id, and the resolved document."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.resolved = resolve_refs(document)
        security = self.resolved.get("security", [])
        made_by_sending = frozenset((self.resolved.get("x-made-by-sending") or {}).get("collections", ()))
        self.made_by_sending = made_by_sending
        self.operations: dict[str, ContractOperation] = {}
        for path, item in (self.resolved.get("paths") or {}).items():
            for method in METHODS:
                if method in item:
                    shared = item.get("parameters", [])
                    op = _operation(path, method, item[method], shared, security, made_by_sending)
                    self.operations[op.operation_id] = op

    @classmethod
    def load(cls, path: Path | str | None = None) -> ContractSpec:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with open(path or spec_path(), encoding="utf-8") as handle:
            return cls(yaml.load(handle, Loader=loader))

    def operation(self, operation_id: str) -> ContractOperation:
        return self.operations[operation_id]

    def collection_operation(self, collection: str, method: str) -> ContractOperation:
        """The one operation of ``collection`` with ``method``: a POST that makes a record (no record in its path),
        a PATCH or DELETE of the record its path names."""
        found = [
            op
            for op in self.operations.values()
            if op.collection == collection
            and op.method == method
            and (op.record is None) == (method == "POST")
        ]
        if len(found) != 1:
            raise ContractError(
                f"{len(found)} {method} operations of {collection}: {[o.operation_id for o in found]}"
            )
        return found[0]

    def list_operation(self, record: PathRecord) -> ContractOperation | None:
        """The operation that lists every record of ``record``'s collection: ``listed_by``, else the one GET of the
        collection whose path names no record; None where no operation lists it (chats)."""
        if record.listed_by:
            return self.operations[record.listed_by]
        listing = [
            op
            for op in self.operations.values()
            if op.collection == record.collection and op.method == "GET" and op.record is None
        ]
        if len(listing) > 1:
            names = sorted(op.operation_id for op in listing)
            raise ContractError(
                f"{record.collection} is listed by {names}: name one in x-path-record.listed_by"
            )
        return listing[0] if listing else None

    def schema(self, name: str) -> dict:
        return self.resolved["components"]["schemas"][name]


# --- routing (D6: a literal segment beats a parameter) ---------------------------------------


@dataclass(frozen=True, eq=False)
class Route:
    template: str
    pattern: re.Pattern[str]
    methods: dict[str, ContractOperation]

    def operation(self, method: str) -> ContractOperation | None:
        return self.methods.get(method.upper())


def template_pattern(template: str) -> re.Pattern[str]:
    segments = [r"[^/]+" if s.startswith("{") else re.escape(s) for s in template.strip("/").split("/")]
    return re.compile("/" + "/".join(segments))


def specificity(template: str) -> tuple[bool, ...]:
    """Sort key: read left to right, the first literal segment where another has a parameter wins."""
    return tuple(segment.startswith("{") for segment in template.strip("/").split("/"))


class Router:
    def __init__(self, operations: Iterable[ContractOperation]) -> None:
        grouped: dict[str, dict[str, ContractOperation]] = {}
        for op in operations:
            grouped.setdefault(op.path, {})[op.method] = op
        routes = [Route(path, template_pattern(path), methods) for path, methods in grouped.items()]
        self.routes = sorted(routes, key=lambda route: specificity(route.template))

    def match(self, path: str) -> Route | None:
        """The path item a request path goes to (query string and trailing slash ignored), or None."""
        path = path.split("?")[0].rstrip("/") or "/"
        return next((route for route in self.routes if route.pattern.fullmatch(path)), None)

    def operation_for(self, method: str, path: str) -> ContractOperation | None:
        route = self.match(path)
        return route.operation(method) if route else None
