"""What the contract says, read from ``openapi.yaml`` for the checks.

Messages, rules and their provenance are read here, never typed into a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pytest

from contract_tests.reader import (
    RULE_KEYWORDS,
    ContractField,
    ContractOperation,
    ContractSpec,
    Router,
    Tier,
    tier_of,
    weakest,
)

# Every rule a field of the spec can carry, as the suite reads them (reader.RULE_KEYWORDS and the rest).
SCHEMA_RULES = ("required", "type", *RULE_KEYWORDS, "items")


@lru_cache(maxsize=1)
def spec() -> ContractSpec:
    return ContractSpec.load()


@lru_cache(maxsize=1)
def router() -> Router:
    return Router(spec().operations.values())


def operation_for(method: str, path: str) -> str | None:
    """The operationId a request went to, or None for a path outside the spec."""
    match = router().match(path.split("?")[0])
    if match is None:
        return None
    op = match.operation(method.upper())
    return op.operation_id if op else None


# --- provenance tiers (reader.Tier: documented, decided, mock; one default, in reader.tier_of) ---------------

__all__ = ["Tier", "tier_of", "weakest"]


def rule_tier(schema: dict, rule: str) -> Tier:
    """The tier of one rule of a request field or query parameter schema.

    ``x-rule-provenance`` names the rules that are not documented; ``type`` and
    ``items`` fall back to the spec's ``x-implicit-rules`` (D5).
    """
    named = schema.get("x-rule-provenance") or {}
    if rule in named:
        return tier_of(named[rule])
    if rule in (schema.get("x-assumed-rules") or ()):
        return "decided"
    implicit = spec().document.get("x-implicit-rules") or {}
    if rule in implicit:
        return tier_of(implicit[rule])
    return "decided" if rule in ("type", "items") else "documented"


def entry_tier(entry: dict) -> Tier:
    """The tier of an ``x-error-codes`` entry."""
    return tier_of(entry.get("provenance"))


def tier_marks(tier: Tier) -> list:
    """The pytest provenance marker of a check resting on ``tier`` (a mock's choice is never a check)."""
    if tier == "mock":
        raise ValueError("a check never rests on a mock's choice (D19)")
    return [pytest.mark.documented if tier == "documented" else pytest.mark.assumed]


def rests_on(*tiers: Tier) -> Callable[[Any], Any]:
    """Marks a check with the provenance of the weakest of ``tiers``: those of the facts it asserts."""

    def mark(check: Any) -> Any:
        for provenance in tier_marks(weakest(*tiers)):
            check = provenance(check)
        return check

    return mark


def all_scopes() -> list[str]:
    return sorted({scope for op in spec().operations.values() for scope in op.scopes})


@dataclass(frozen=True)
class RuleCase:
    """One rule of one request field: what to break, and the message the contract promises."""

    operation_id: str
    field: str
    rule: str
    message: str
    tier: Tier
    message_documented: bool

    @property
    def documented(self) -> bool:
        return self.tier == "documented"

    @property
    def id(self) -> str:
        return f"{self.operation_id}.{self.field}.{self.rule}"


def message_documented(schema: dict, rule: str) -> bool:
    """Whether the docs give the wording of a rule's message (else D15: only its presence is checked)."""
    return rule not in (schema.get("x-assumed-messages") or ())


def rule_cases(kinds: tuple[str, ...] = SCHEMA_RULES) -> Iterator[RuleCase]:
    """Every (operation, top-level body field, schema rule) the spec gives a message for.

    Rules that are the mock's choice (D19) are left out: no implementation is judged by them.
    """
    for op in spec().operations.values():
        for name, validator in op.body_fields.items():
            for rule, message in validator.messages.items():
                if rule in kinds and rule_applies(validator, rule):
                    tier = rule_tier(validator.schema, rule)
                    if tier != "mock":
                        yield RuleCase(
                            op.operation_id,
                            name,
                            rule,
                            message,
                            tier,
                            message_documented(validator.schema, rule),
                        )


def rule_applies(validator: ContractField, rule: str) -> bool:
    schema = validator.schema
    if rule == "required":
        return validator.required
    if rule == "items":
        return bool(validator.item_types)
    if rule == "format":
        return schema.get("format") in ("email", "uri")
    return rule in schema or rule == "type"


def example_body(op: ContractOperation) -> dict[str, Any]:
    """The first request example the spec gives for the operation (JSON bodies only)."""
    content = op.raw["requestBody"]["content"]["application/json"]
    examples = content.get("examples") or {}
    for example in examples.values():
        return dict(example["value"])
    return dict(content.get("example") or {})
