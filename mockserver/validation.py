"""Request validators compiled once from the spec's schemas and ``x-validation-messages``.

A compiled ``ObjectValidator`` checks a JSON object (a body, or the query
parameters) and reports every failing field at once (D4): once ``required``
fails no other rule of that field runs; otherwise each failing rule adds its
message, in the order the spec lists the messages. Rules that need state
(``unique``, ``exists``) are not judged here: the validator returns them as
``ReferenceCheck`` items for the core to settle against the tenant's records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

SCHEMA_RULES = (
    "type",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "enum",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "items",
)
ALLOWED_KEYWORDS = frozenset(SCHEMA_RULES) | {
    "properties",
    "required",
    "default",
    "description",
    "examples",
    "title",
}
STATEFUL_RULES = ("unique", "exists")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SpecError(Exception):
    """The spec asks for something the compiler cannot honour."""


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart body."""

    filename: str
    content_type: str
    size: int


@dataclass
class ReferenceCheck:
    """A stateful rule (``unique`` or ``exists``) to settle against the tenant's records."""

    path: str
    rule: str  # "unique" or "exists"
    collection: str
    field: str
    value: Any
    message: str
    normalise: str = ""  # "phone": compared by its digits (D9), from the field's ``x-normalise``


@dataclass
class Outcome:
    errors: dict[str, list[str]] = field(default_factory=dict)
    references: list[ReferenceCheck] = field(default_factory=list)

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def stop_listing(self, path: str, unchecked: int) -> None:
        """A list has had ``MAX_FAILING_ITEMS`` failing items: the rest is counted, not checked (D19)."""
        self.fail(f"{path}.*", unchecked_items_message(path, unchecked))


# The mock's choices (D19), so a 6 MB list answers in a few KB and a few ms, not in hundreds of MB:
# a 422 lists the first 100 failing items of a list, then how many items were left unchecked; no
# list is checked past 10,000 items, and one without maxItems may have at most 10,000 items.
MAX_FAILING_ITEMS = 100
MAX_LIST_ITEMS = 10_000


def unchecked_items_message(path: str, unchecked: int) -> str:
    return (
        f"{unchecked} more items of {path} were not checked (the mock stops at {MAX_FAILING_ITEMS} failing"
        " items, or at the list's size limit)"
    )


def _type_ok(value: Any, expected: str, fmt: str | None) -> bool:
    if fmt == "binary":
        return isinstance(value, UploadedFile)
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "array":
        return isinstance(value, list)
    if expected == "object":
        return isinstance(value, dict)
    if expected == "null":
        return value is None
    raise SpecError(f"unknown type {expected!r}")


def _format_ok(value: Any, fmt: str) -> bool:
    if fmt == "email":
        return bool(EMAIL.match(value))
    if fmt == "uri":
        # "A valid URL" (Add Comment): any scheme with `://` and a host, as Laravel's `url` rule reads it (D16);
        # narrowing it to http(s) would refuse URLs the docs allow.
        parsed = urlparse(value)
        return bool(parsed.scheme) and value.lower().startswith(f"{parsed.scheme}://") and bool(parsed.netloc)
    return True


def _rule_check(rule: str, schema: dict) -> Callable[[Any], bool]:
    """A predicate that is True when ``rule`` holds for a value of the right type."""
    if rule == "minLength":
        limit = schema["minLength"]
        return lambda v: not isinstance(v, str) or len(v) >= limit
    if rule == "maxLength":
        limit = schema["maxLength"]
        return lambda v: not isinstance(v, str) or len(v) <= limit
    if rule == "pattern":
        # JSON Schema's "$" is the end of the string; Python's would also match before a final newline.
        regex = re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", schema["pattern"]))
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    if rule == "format":
        fmt = schema["format"]
        return lambda v: not isinstance(v, str) or _format_ok(v, fmt)
    if rule == "enum":
        allowed = schema["enum"]
        return lambda v: v in allowed
    if rule == "minimum":
        limit = schema["minimum"]
        return lambda v: v >= limit
    if rule == "maximum":
        limit = schema["maximum"]
        return lambda v: v <= limit
    if rule == "minItems":
        limit = schema["minItems"]
        return lambda v: len(v) >= limit
    if rule == "maxItems":
        limit = schema["maxItems"]
        return lambda v: len(v) <= limit
    raise SpecError(f"unsupported rule {rule!r}")


def _types_of(schema: dict) -> tuple[str, ...]:
    declared = schema.get("type")
    if declared is None:
        return ()
    return tuple(declared) if isinstance(declared, list) else (declared,)


@dataclass
class FieldValidator:
    name: str
    schema: dict
    messages: dict[str, str]
    required: bool = False
    required_if: tuple[str, tuple] | None = None
    required_without: str | None = None
    normalise: str = ""  # "phone": stored and compared by its digits (D9)
    types: tuple[str, ...] = ()
    checks: list[tuple[str, Callable[[Any], bool]]] = field(default_factory=list)
    obj: ObjectValidator | None = None
    item_types: tuple[str, ...] = ()
    item_format: str | None = None
    item_obj: ObjectValidator | None = None
    stateful: list[tuple[str, str]] = field(default_factory=list)  # (rule, collection)

    def message(self, rule: str) -> str:
        return self.messages[rule]

    def is_required(self, siblings: dict) -> bool:
        if self.required:
            return True
        if self.required_if is not None:
            other, values = self.required_if
            return siblings.get(other) in values
        if self.required_without is not None:
            return siblings.get(self.required_without) is None
        return False

    def validate(self, value: Any, path: str, siblings: dict, outcome: Outcome) -> None:
        if value is None and "null" not in self.types:
            if self.is_required(siblings):
                outcome.fail(path, self.message("required"))
            elif self.types and self.name in siblings:
                outcome.fail(path, self.message("type"))
            return
        if self.types and not any(_type_ok(value, t, self.schema.get("format")) for t in self.types):
            outcome.fail(path, self.message("type"))
            return
        if value is None:
            return
        failed = False
        for rule, holds in self.checks:
            if not holds(value):
                outcome.fail(path, self.message(rule))
                failed = True
        if isinstance(value, dict) and self.obj is not None:
            before = len(outcome.errors)
            self.obj.validate(value, path + ".", outcome)
            failed = failed or len(outcome.errors) > before
        if isinstance(value, list):
            failed = self._validate_items(value, path, outcome) or failed
        if not failed:
            for rule, collection in self.stateful:
                outcome.references.append(
                    ReferenceCheck(
                        path, rule, collection, self.name, value, self.message(rule), self.normalise
                    )
                )

    def checked_items(self) -> int:
        """How many items of a list are looked at: the rest is neither checked nor cleaned (F4)."""
        return max(MAX_LIST_ITEMS, self.schema.get("maxItems", 0))

    def _validate_items(self, items: list, path: str, outcome: Outcome) -> bool:
        """Checks the items, no further than ``MAX_LIST_ITEMS`` (every item of a list a little over its
        maxItems is still reported), listing at most ``MAX_FAILING_ITEMS`` failing ones: the work
        and the answer stay bounded (D19)."""
        limit = self.checked_items()
        failed = len(items) > limit  # past maxItems as well, which has failed already where there is one
        if failed and "maxItems" not in self.schema:
            outcome.fail(path, f"The {self.name} may not have more than {MAX_LIST_ITEMS} items.")
        failures = 0
        for index, item in enumerate(items):
            if failures == MAX_FAILING_ITEMS or index == limit:
                outcome.stop_listing(path, len(items) - index)
                return True
            item_path = f"{path}.{index}"
            if self.item_types and not any(_type_ok(item, t, self.item_format) for t in self.item_types):
                outcome.fail(item_path, self.messages.get("items") or self.message("type"))
                failures += 1
            elif isinstance(item, dict) and self.item_obj is not None:
                before = len(outcome.errors)
                self.item_obj.validate(item, item_path + ".", outcome)
                failures += len(outcome.errors) > before
        return failed or failures > 0


@dataclass
class ObjectValidator:
    fields: list[FieldValidator]

    def validate(self, obj: dict, prefix: str, outcome: Outcome) -> None:
        for validator in self.fields:
            validator.validate(obj.get(validator.name), prefix + validator.name, obj, outcome)

    def check(self, obj: dict) -> Outcome:
        outcome = Outcome()
        self.validate(obj, "", outcome)
        return outcome

    def by_name(self, name: str) -> FieldValidator | None:
        return next((f for f in self.fields if f.name == name), None)


def _check_keywords(schema: dict, where: str) -> None:
    unknown = {k for k in schema if not k.startswith("x-")} - ALLOWED_KEYWORDS
    if unknown:
        raise SpecError(f"{where}: unsupported schema keywords {sorted(unknown)}")


def compile_field(
    name: str, schema: dict, required: bool, where: str, from_text: bool = False
) -> FieldValidator:
    """``from_text``: the value arrives as text (a query parameter), so a string is never of the wrong type."""
    _check_keywords(schema, where)
    messages: dict[str, str] = dict(schema.get("x-validation-messages") or {})
    validator = FieldValidator(
        name=name,
        schema=schema,
        messages=messages,
        required=required,
        types=_types_of(schema),
    )
    if "x-required-if" in schema:
        condition = schema["x-required-if"]
        validator.required_if = (condition["field"], tuple(condition["in"]))
    if "x-required-without" in schema:
        validator.required_without = schema["x-required-without"]
    validator.normalise = schema.get("x-normalise", "")
    if validator.normalise not in ("", "phone"):
        raise SpecError(f"{where}: x-normalise must be 'phone', got {validator.normalise!r}")
    needs = set()
    if validator.is_required({}) or validator.required_if or validator.required_without:
        needs.add("required")
    if validator.types and not (from_text and set(validator.types) <= {"string"}):
        needs.add("type")
    present = [rule for rule in SCHEMA_RULES[1:] if rule in schema and rule != "items"]
    if schema.get("format") == "binary":
        present.remove("format")
    needs.update(present)
    # Messages are listed in the docs' order; rules run in that order.
    ordered = [rule for rule in messages if rule in present]
    ordered += [rule for rule in present if rule not in ordered]
    validator.checks = [(rule, _rule_check(rule, schema)) for rule in ordered]
    if "object" in validator.types and "properties" in schema:
        validator.obj = compile_object(schema, where)
    items = schema.get("items")
    if isinstance(items, dict):
        _check_keywords(items, where + ".items")
        validator.item_types = _types_of(items)
        validator.item_format = items.get("format")
        if validator.item_types:
            needs.add("items" if "items" in messages else "type")
        if "properties" in items:
            validator.item_obj = compile_object(items, where + ".items")
    for rule in STATEFUL_RULES:
        collection = schema.get(f"x-{rule}")
        if collection:
            validator.stateful.append((rule, collection))
            needs.add(rule)
    missing = sorted(needs - set(messages))
    if missing:
        raise SpecError(f"{where}: no x-validation-messages for rules {missing}")
    return validator


def compile_object(schema: dict, where: str) -> ObjectValidator:
    _check_keywords(schema, where)
    required = set(schema.get("required") or ())
    fields = [
        compile_field(name, sub, name in required, f"{where}.{name}")
        for name, sub in (schema.get("properties") or {}).items()
    ]
    return ObjectValidator(fields)


# --- empty values (D16) -------------------------------------------------------------------


def is_empty(value: Any) -> bool:
    """``null``, ``""``, whitespace only, ``[]`` and ``{}`` are empty (D16, docs/decisions.md)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict)):
        return not value
    return False


def without_empty(obj: dict, validator: ObjectValidator, prefix: str = "") -> tuple[dict, list[str]]:
    """``obj`` with its empty fields removed, nested objects and list items too, and their dotted paths.

    An empty field is a field not sent (D16): a required one then fails ``required`` alone,
    an optional one takes its default.
    """
    kept = dict(obj)
    emptied: list[str] = []
    for f in validator.fields:
        if f.name not in kept:
            continue
        value = kept[f.name]
        path = prefix + f.name
        if is_empty(value):
            del kept[f.name]
            emptied.append(path)
        elif isinstance(value, dict) and f.obj is not None:
            kept[f.name], inner = without_empty(value, f.obj, path + ".")
            emptied += inner
        elif isinstance(value, list) and f.item_obj is not None:
            items = []
            limit = f.checked_items()  # the items after it are not checked, so they are kept as sent
            for index, item in enumerate(value[:limit]):
                if isinstance(item, dict):
                    item, inner = without_empty(item, f.item_obj, f"{path}.{index}.")
                    emptied += inner
                items.append(item)
            kept[f.name] = items + value[limit:]
    return kept, emptied


# --- values that arrive as text (query strings, multipart fields) -------------------------


def coerce_text(value: Any, schema: dict) -> Any:
    """Turns a text value into the schema's type where it spells one; leaves it otherwise.

    A value that does not spell the type stays a string, so the type rule fails
    with its message instead of the coercion hiding the problem.
    """
    if not isinstance(value, str):
        return value
    types = _types_of(schema)
    if "integer" in types and re.fullmatch(r"-?\d{1,18}", value):
        return int(value)
    if "number" in types and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if "boolean" in types and value in ("true", "false", "1", "0"):
        return value in ("true", "1")
    if ("object" in types or "array" in types) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
