"""Count the contract's rules and items per provenance tier (docs/spec-conventions.md, docs/decisions.md).

Usage: python scripts/provenance_census.py [--spec PATH]

Tiers: documented, decided (a decision Dn says it), mock (the mock's choice, D19), and unmarked (an item that
needs a provenance string and has none). The script reads the current format (``x-rule-provenance``,
``x-implicit-rules`` with ``type`` and ``items``, ``x-list-provenance``, ``x-filters.<f>.provenance``,
``x-provenance`` on response properties, list items, responses and request media types, ``x-type-provenance``,
the operation blocks ``x-otp``, ``x-path-record``, ``x-rate-limit``, ``x-in-use``, ``x-file-limits`` with their
``provenance``, the companions ``x-<key>-provenance`` of ``x-merge-fields``, ``x-partial-items``, ``x-envelope``,
``x-alternate-success-messages``, ``x-media-rules``, ``x-media-messages``, ``x-template-parameter-messages``,
``x-normalise``, the map ``x-behaviour-provenance`` and the root blocks) and the older one (``x-assumed-rules``
lists, ``type`` implicitly D5, no list provenance), so a spec from before the conversion can be measured too.
It lists every unmarked item and exits 1 when there is one (docs/spec-conventions.md: 0 is the contract).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TIERS = ("documented", "decided", "mock", "unmarked")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
LIST_KEYS = (
    "sort_fields",
    "default_sort",
    "search_fields",
    "search_alias_q",
    "includes",
    "unknown_include",
    "unknown_filter",
    "operators",
)
DECISION = re.compile(r"\bD\d+\b")
DEFAULT_SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


def tier_of(provenance: str | None) -> str:
    """The tier of a provenance string (None: unmarked)."""
    if provenance is None:
        return "unmarked"
    text = str(provenance).strip().lower()
    if text.startswith("documented"):
        return "documented"
    if text.startswith("mock"):
        return "mock"
    return "decided"


@dataclass
class Census:
    """Counts per category and tier, and decided items that cite no decision number."""

    counts: dict[str, Counter] = field(default_factory=dict)
    uncited: Counter = field(default_factory=Counter)
    unmarked: list[str] = field(default_factory=list)  # where each item without a tier sits

    def add(self, category: str, provenance: str | None, *, tier: str | None = None, where: str = "") -> None:
        tier = tier or tier_of(provenance)
        self.counts.setdefault(category, Counter())[tier] += 1
        if tier == "decided" and not DECISION.search(str(provenance or "")):
            self.uncited[category] += 1
        if tier == "unmarked":
            self.unmarked.append(f"{category}: {where or '?'}")


class Document:
    """The spec as plain dicts, with local ``$ref`` resolution."""

    def __init__(self, raw: dict) -> None:
        self.raw = raw
        implicit = raw.get("x-implicit-rules") or {}
        # Old format: only `type` was implicit (D5); element types counted as documented.
        self.implicit: dict[str, str | None] = {
            "type": implicit.get("type", "assumed (D5)"),
            "items": implicit.get("items"),
        }

    def resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            target: Any = self.raw
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
        return node

    def operations(self) -> Iterator[tuple[str, dict, list[dict]]]:
        for path, item in self.raw.get("paths", {}).items():
            shared = [self.resolve(p) for p in item.get("parameters", [])]
            for method in HTTP_METHODS:
                if method in item:
                    op = item[method]
                    params = shared + [self.resolve(p) for p in op.get("parameters", [])]
                    yield f"{method.upper()} {path}", op, params

    def rule_tier(self, holder: dict, schema: dict, rule: str) -> tuple[str, str | None]:
        """(tier, provenance string) of one rule; ``holder`` carries the messages, ``schema`` the rule."""
        for where in (holder, schema):
            named = where.get("x-rule-provenance") or {}
            if rule in named:
                return tier_of(named[rule]), named[rule]
        for where in (holder, schema):
            if rule in (where.get("x-assumed-rules") or ()):
                return "decided", "assumed"
        if rule in self.implicit and self.implicit[rule] is not None:
            return tier_of(self.implicit[rule]), self.implicit[rule]
        return "documented", None


def request_fields(doc: Document, schema: Any, seen: set[int]) -> Iterator[dict]:
    """Every schema node of a request body that may carry rules (nested properties and items included)."""
    schema = doc.resolve(schema)
    if not isinstance(schema, dict) or id(schema) in seen:
        return
    seen.add(id(schema))
    if "x-validation-messages" in schema:
        yield schema
    for sub in (schema.get("properties") or {}).values():
        yield from request_fields(doc, sub, seen)
    if "items" in schema:
        yield from request_fields(doc, schema["items"], seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, ()):
            yield from request_fields(doc, sub, seen)


def count_rules(doc: Document, census: Census) -> None:
    seen_fields: set[int] = set()
    seen_params: set[int] = set()
    for _, op, params in doc.operations():
        for param in params:
            if id(param) in seen_params or "x-validation-messages" not in param:
                continue
            seen_params.add(id(param))
            schema = doc.resolve(param.get("schema") or {})
            for rule in param["x-validation-messages"]:
                tier, text = doc.rule_tier(param, schema, rule)
                census.add("parameter rules", text, tier=tier)
        for content in ((op.get("requestBody") or {}).get("content") or {}).values():
            for node in request_fields(doc, content.get("schema"), seen_fields):
                for rule in node["x-validation-messages"]:
                    tier, text = doc.rule_tier(node, node, rule)
                    census.add("body field rules", text, tier=tier)


def count_error_entries(doc: Document, census: Census) -> None:
    """Each ``x-error-codes`` entry once where it is written; a response without entries is a status-only entry
    (``x-provenance``, e.g. Comments' 401); an error status of an operation with neither is unmarked."""
    shared = (doc.raw.get("components") or {}).get("responses", {})
    written = [(f"components/responses/{name}", r) for name, r in shared.items()]
    for where, op, _ in doc.operations():
        for status, r in (op.get("responses") or {}).items():
            if "$ref" not in r:
                written.append((f"{where} {status}", r))
            elif str(status)[:1] in "45" and not _tiered_response(doc.resolve(r)):
                census.add("error responses", None, where=f"{where} {status}")
    for where, response in written:
        for entry in response.get("x-error-codes") or ():
            census.add("error entries", entry.get("provenance"), where=f"{where} {entry.get('code')}")
        if not response.get("x-error-codes") and "x-provenance" in response:
            census.add("error responses", response["x-provenance"], where=where)


def _tiered_response(response: dict) -> bool:
    return bool(response.get("x-error-codes")) or "x-provenance" in response


def response_properties(
    doc: Document, schema: Any, seen: set[int], inherited: str | None = None
) -> Iterator[dict]:
    """Every property of a response schema; under a schema marked ``x-provenance`` (a list's items whose page was
    not captured) each property takes that tier unless it has its own."""
    inherited = schema.get("x-provenance", inherited) if isinstance(schema, dict) else inherited
    schema = doc.resolve(schema)
    if not isinstance(schema, dict) or (id(schema), inherited) in seen:
        return
    seen.add((id(schema), inherited))
    for prop in (schema.get("properties") or {}).values():
        resolved = doc.resolve(prop)
        merged = prop if "x-provenance" in prop or not isinstance(resolved, dict) else {**resolved, **prop}
        yield {**merged, "x-provenance": inherited} if inherited and "x-provenance" not in merged else merged
        yield from response_properties(doc, prop, seen, merged.get("x-provenance", inherited))
    if isinstance(schema.get("items"), dict):
        yield from response_properties(doc, schema["items"], seen, inherited)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, ()):
            yield from response_properties(doc, sub, seen, inherited)


def count_response_properties(doc: Document, census: Census) -> None:
    seen: set = set()
    envelope_keys = {"success", "message", "data", "meta", "links", "error"}
    for _, op, _ in doc.operations():
        for response in (op.get("responses") or {}).values():
            response = doc.resolve(response)
            if not isinstance(response, dict):
                continue
            for content in (response.get("content") or {}).values():
                for prop in response_properties(doc, content.get("schema"), seen):
                    if "x-type-provenance" in prop:
                        census.add("response property types", prop["x-type-provenance"])
                    provenance = prop.get("x-provenance")
                    if provenance is None and "assumed" in str(prop.get("description", "")).lower():
                        census.add("response properties", None)  # says "assumed" but cites nothing
                    elif provenance is None and set(prop) <= envelope_keys:
                        continue
                    else:
                        census.add(
                            "response properties", provenance, tier=None if provenance else "documented"
                        )


# Operation blocks whose tier is a ``provenance`` key inside them (a mapping of such blocks for x-file-limits).
BLOCKS_WITH_PROVENANCE = ("x-otp", "x-path-record", "x-rate-limit", "x-in-use")
# Operation keys whose tier is the companion ``<key>-provenance`` (a string, or a map per entry).
KEYS_WITH_COMPANION = (
    "x-merge-fields",
    "x-partial-items",
    "x-media-rules",
    "x-media-messages",
    "x-template-parameter-messages",
    "x-alternate-success-messages",
)


def count_blocks(doc: Document, census: Census) -> None:
    for where, op, _ in doc.operations():
        for key in BLOCKS_WITH_PROVENANCE:
            if key in op:
                census.add("operation blocks", op[key].get("provenance"), where=f"{where} {key}")
        for name, limit in (op.get("x-file-limits") or {}).items():
            census.add("operation blocks", limit.get("provenance"), where=f"{where} x-file-limits.{name}")
        for key in KEYS_WITH_COMPANION:
            if key not in op:
                continue
            companion = op.get(f"{key}-provenance")
            if isinstance(companion, dict):
                for entry in op[key]:
                    census.add("operation blocks", companion.get(entry), where=f"{where} {key}.{entry}")
            else:
                census.add("operation blocks", companion, where=f"{where} {key}")
        if op.get("x-envelope", "standard") != "standard":
            census.add("operation blocks", op.get("x-envelope-provenance"), where=f"{where} x-envelope")
        for behaviour, provenance in (op.get("x-behaviour-provenance") or {}).items():
            census.add("behaviours", provenance, where=f"{where} {behaviour}")
        for media, content in ((op.get("requestBody") or {}).get("content") or {}).items():
            own = content.get("x-provenance")
            census.add("request media types", own, tier=None if own else "documented")
            for node in request_fields(doc, content.get("schema"), set()):
                if "x-normalise" in node:
                    census.add("normalisers", node.get("x-normalise-provenance"), where=f"{where} {media}")


def count_root(doc: Document, census: Census) -> None:
    for key in ("x-send-messages", "x-list-messages", "x-filter-operator-aliases"):
        if key in doc.raw:
            census.add("root blocks", doc.raw[key].get("provenance"), where=key)
    for rule, provenance in (doc.raw.get("x-implicit-rules") or {}).items():
        census.add("root blocks", provenance, where=f"x-implicit-rules.{rule}")


def count_operations(doc: Document, census: Census) -> None:
    for _, op, _ in doc.operations():
        census.add("operation path/method", op.get("x-provenance"))
        scopes = [s for req in op.get("security") or () for s in req.get("bearerAuth", [])]
        if scopes:
            census.add("operation scope", op.get("x-scope-provenance"))
        if "x-success-message" in op:
            census.add("success message", op.get("x-success-message-provenance"))


def list_keys_of(op: dict, params: list[dict]) -> list[str]:
    """The list behaviours an operation has, hence the keys its ``x-list-provenance`` must give."""
    keys = ["sort_fields"]
    if "x-default-sort" in op:
        keys.append("default_sort")
    if op.get("x-search-fields"):
        keys.append("search_fields")
        if any(p.get("name") == "q" for p in params):
            keys.append("search_alias_q")
    if op.get("x-includes"):
        keys += ["includes", "unknown_include"]
    if op.get("x-filters"):
        keys += ["unknown_filter", "operators"]
    return keys


def count_lists(doc: Document, census: Census) -> None:
    for _, op, params in doc.operations():
        if "x-sort-fields" not in op and not op.get("x-includes"):
            continue
        given = op.get("x-list-provenance") or {}
        keys = list_keys_of(op, params) if "x-sort-fields" in op else ["includes", "unknown_include"]
        for key in keys:
            census.add("list behaviours", given.get(key))
        for spec in (op.get("x-filters") or {}).values():
            census.add("list filters", spec.get("provenance"))


def take_census(raw: dict) -> Census:
    doc = Document(raw)
    census = Census()
    for count in (
        count_rules,
        count_error_entries,
        count_response_properties,
        count_operations,
        count_lists,
        count_blocks,
        count_root,
    ):
        count(doc, census)
    return census


def table(census: Census) -> str:
    header = ("item", *TIERS, "total", "decided w/o Dn")
    rows = []
    totals: Counter = Counter()
    for category, counts in census.counts.items():
        totals.update(counts)
        rows.append((category, *(counts[t] for t in TIERS), sum(counts.values()), census.uncited[category]))
    rows.append(("ALL", *(totals[t] for t in TIERS), sum(totals.values()), sum(census.uncited.values())))
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        " | ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in (header, *rows)
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI document (default: openapi.yaml)"
    )
    args = parser.parse_args(argv)
    raw = yaml.safe_load(args.spec.read_text(encoding="utf-8"))
    census = take_census(raw)
    print(f"Provenance census of {args.spec}")
    print(table(census))
    print(f"untiered items: {len(census.unmarked)}")
    for where in census.unmarked:
        print(f"  {where}")
    return 1 if census.unmarked else 0


if __name__ == "__main__":
    sys.exit(main())
