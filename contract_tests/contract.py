"""What the contract says, read from ``openapi.yaml`` for the checks.

Messages, rules and their provenance are read here, never typed into a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mockserver.routing import Router
from mockserver.spec import Operation, Spec
from mockserver.validation import FieldValidator

SCHEMA_RULES = ("required", "type", "minLength", "maxLength", "pattern", "format", "enum", "minimum", "maximum",
                "minItems", "maxItems", "items")


@lru_cache(maxsize=1)
def spec() -> Spec:
    return Spec.load()


@lru_cache(maxsize=1)
def router() -> Router:
    return Router(list(spec().operations.values()))


def operation_for(method: str, path: str) -> str | None:
    """The operationId a request went to, or None for a path outside the spec."""
    match = router().match(path.split("?")[0])
    if match is None:
        return None
    op = match.operation(method.upper())
    return op.operation_id if op else None


def all_scopes() -> list[str]:
    return sorted({scope for op in spec().operations.values() for scope in op.scopes})


@dataclass(frozen=True)
class RuleCase:
    """One rule of one request field: what to break, and the message the contract promises."""

    operation_id: str
    field: str
    rule: str
    message: str
    rule_documented: bool
    message_documented: bool

    @property
    def documented(self) -> bool:
        return self.rule_documented

    @property
    def id(self) -> str:
        return f"{self.operation_id}.{self.field}.{self.rule}"


def provenance_of(validator: FieldValidator, rule: str) -> tuple[bool, bool]:
    schema = validator.schema
    rule_documented = rule != "type" and rule not in (schema.get("x-assumed-rules") or ())
    message_documented = rule not in (schema.get("x-assumed-messages") or ())
    return rule_documented, message_documented


def rule_cases(kinds: tuple[str, ...] = SCHEMA_RULES) -> Iterator[RuleCase]:
    """Every (operation, top-level body field, schema rule) the spec gives a message for."""
    for op in spec().operations.values():
        for name, validator in op.body_fields.items():
            for rule, message in validator.messages.items():
                if rule in kinds and rule_applies(validator, rule):
                    rule_documented, message_documented = provenance_of(validator, rule)
                    yield RuleCase(op.operation_id, name, rule, message, rule_documented, message_documented)


def rule_applies(validator: FieldValidator, rule: str) -> bool:
    schema = validator.schema
    if rule == "required":
        return validator.required
    if rule == "items":
        return bool(validator.item_types)
    if rule == "format":
        return schema.get("format") in ("email", "uri")
    return rule in schema or rule == "type"


def body_media_type(op: Operation) -> str:
    return "application/json" if "application/json" in op.bodies else next(iter(op.bodies))


def example_body(op: Operation) -> dict[str, Any]:
    """The first request example the spec gives for the operation (JSON bodies only)."""
    content = op.raw["requestBody"]["content"]["application/json"]
    examples = content.get("examples") or {}
    for example in examples.values():
        return dict(example["value"])
    return dict(content.get("example") or {})
