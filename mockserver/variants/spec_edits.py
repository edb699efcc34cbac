"""Variant edits of openapi.yaml before it is compiled: the rules the spec marks as the mock's own choice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# --- rules the spec marks as the mock's choice ------------------------------------------------------------

# Rule key (as x-rule-provenance names it) -> the schema keyword that carries it.
DROPPABLE_RULES = {
    **{
        rule: rule
        for rule in (
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "minimum",
            "maximum",
            "pattern",
            "format",
            "enum",
        )
    },
    "exists": "x-exists",
    "unique": "x-unique",
}
BATCH_CAPS = (
    ("ContactBatchCreateInput", "contacts", "maxItems"),
    ("ContactBatchDeleteInput", "ids", "maxItems"),
)
# The mock's own limits (docs/decisions.md D18, D19), for a spec that does not carry `x-rule-provenance` yet.
MOCK_LIMITS = BATCH_CAPS + (
    ("SendOtpInput", "purpose", "maxLength"),  # the other OTP pages document max:50
    ("SendInteractiveInput", "buttons", "minItems"),
    ("SendInteractiveInput", "buttons.items.id", "maxLength"),
    ("SendInteractiveInput", "sections", "minItems"),
    ("SendInteractiveInput", "sections.items.title", "maxLength"),
    ("SendInteractiveInput", "sections.items.rows", "minItems"),
    ("SendInteractiveInput", "sections.items.rows", "maxItems"),
    ("SendInteractiveInput", "sections.items.rows.items.id", "maxLength"),
)


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _drop_rule(schema: dict, rule: str) -> None:
    key = DROPPABLE_RULES.get(rule)
    if key is not None:
        schema.pop(key, None)


def _located(document: dict, schema_name: str, path: str) -> dict:
    node = document["components"]["schemas"].get(schema_name, {})
    for part in path.split("."):
        node = node.get(part, {}) if part == "items" else node.get("properties", {}).get(part, {})
    return node


def drop_located(
    document: dict, located: tuple[tuple[str, str, str], ...], defer_to_spec: bool = True
) -> None:
    """Drops the listed rules; with ``defer_to_spec``, not where the spec gives the rule a tier (it decides then)."""
    for schema_name, path, rule in located:
        node = _located(document, schema_name, path)
        if not (defer_to_spec and rule in (node.get("x-rule-provenance") or {})):
            _drop_rule(node, rule)


def drop_mock_rules(document: dict) -> None:
    """Every rule an ``x-rule-provenance`` map gives as ``mock (...)`` is dropped, and the fallback list."""
    for node in list(_walk(document)):
        tiers = node.get("x-rule-provenance")
        if not isinstance(tiers, dict):
            continue
        target = node["schema"] if "in" in node and isinstance(node.get("schema"), dict) else node
        for rule, tier in tiers.items():
            if str(tier).startswith("mock"):
                _drop_rule(target, rule)
    drop_located(document, MOCK_LIMITS)


def drop_batch_caps(document: dict) -> None:
    """D18: the contract has no maximum batch size, whatever tier the spec gives the mock's cap."""
    drop_located(document, BATCH_CAPS, defer_to_spec=False)
