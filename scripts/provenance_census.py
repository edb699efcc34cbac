"""Count the contract's rules and items per provenance tier (docs/spec-conventions.md, docs/decisions.md).

Usage: python scripts/provenance_census.py [--spec PATH]

Tiers: documented, decided (a decision Dn says it), mock (the mock's choice, D19), and unmarked (an item that
needs a provenance string and has none). The script reads the current format (``x-rule-provenance``,
``x-implicit-rules`` with ``type`` and ``items``, ``x-list-provenance``, ``x-filters.<f>.provenance``,
``x-provenance`` on response properties) and the older one (``x-assumed-rules`` lists, ``type`` implicitly D5,
no list provenance), so a spec from before the conversion can be measured too.
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

    def add(self, category: str, provenance: str | None, *, tier: str | None = None) -> None:
        tier = tier or tier_of(provenance)
        self.counts.setdefault(category, Counter())[tier] += 1
        if tier == "decided" and not DECISION.search(str(provenance or "")):
            self.uncited[category] += 1


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
    responses = [
        r for _, op, _ in doc.operations() for r in (op.get("responses") or {}).values() if "$ref" not in r
    ]
    responses += list((doc.raw.get("components") or {}).get("responses", {}).values())
    for response in responses:
        for entry in response.get("x-error-codes") or ():
            census.add("error entries", entry.get("provenance"))


def response_properties(doc: Document, schema: Any, seen: set[int]) -> Iterator[dict]:
    schema = doc.resolve(schema)
    if not isinstance(schema, dict) or id(schema) in seen:
        return
    seen.add(id(schema))
    for prop in (schema.get("properties") or {}).values():
        resolved = doc.resolve(prop)
        yield prop if "x-provenance" in prop or not isinstance(resolved, dict) else {**resolved, **prop}
        yield from response_properties(doc, prop, seen)
    if isinstance(schema.get("items"), dict):
        yield from response_properties(doc, schema["items"], seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, ()):
            yield from response_properties(doc, sub, seen)


def count_response_properties(doc: Document, census: Census) -> None:
    seen: set[int] = set()
    envelope_keys = {"success", "message", "data", "meta", "links", "error"}
    for _, op, _ in doc.operations():
        for response in (op.get("responses") or {}).values():
            response = doc.resolve(response)
            if not isinstance(response, dict):
                continue
            for content in (response.get("content") or {}).values():
                for prop in response_properties(doc, content.get("schema"), seen):
                    provenance = prop.get("x-provenance")
                    if provenance is None and "assumed" in str(prop.get("description", "")).lower():
                        census.add("response properties", None)  # says "assumed" but cites nothing
                    elif provenance is None and set(prop) <= envelope_keys:
                        continue
                    else:
                        census.add(
                            "response properties", provenance, tier=None if provenance else "documented"
                        )


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
    for count in (count_rules, count_error_entries, count_response_properties, count_operations, count_lists):
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
    print(f"Provenance census of {args.spec}")
    print(table(take_census(raw)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
