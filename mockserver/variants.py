"""Legitimate variants of the mock: other answers where the contract leaves the choice free.

Each variant is a way a correct server written from the same docs (in Laravel, Django or
Express) could differ from the mock, under the decision named in ``decision`` (see
docs/decisions.md, D16-D19). Profiles bundle variants a single real server could show at once.

``resolve(names)`` expands profile names and refuses unknown names and two answers to one
freedom; ``behaviour_for(variants, spec)`` turns the result into the ``Behaviour`` hooks that
``MockCore(variants=...)`` is built with. Nothing here patches the mock: every variant only
chooses a hook or an option of ``mockserver/behaviour.py``.
"""

from __future__ import annotations

import copy
import functools
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mockserver.behaviour import (
    Behaviour,
    Presenter,
    coerce_form,
    data_schema,
    item_schema,
    success_schema,
)
from mockserver.errors import ApiError
from mockserver.handlers.auth import verify_otp
from mockserver.handlers.contacts import batch_create_contacts
from mockserver.limits import FixedWindow
from mockserver.resources import contact_defaults
from mockserver.seed import SeedOptions
from mockserver.spec import Spec, merge_all_of
from mockserver.store import IdAllocator
from mockserver.validation import ObjectValidator, coerce_text

if TYPE_CHECKING:
    from mockserver.spec import Operation
    from mockserver.store import Tenant


LEVELS = ("all", "documented")  # the suite's --contract-level values


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    freedom: str  # variants answering the same freedom exclude each other
    decision: str  # the decision that leaves this free
    # The suite's levels at which the variant is correct: a variant that breaks a decided rule (D4's layout,
    # D10's boundary) still meets the docs, so only level documented must pass it.
    levels: tuple[str, ...] = LEVELS


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class VariantSet:
    """A resolved, consistent set of variant names (what ``MockCore(variants=...)`` takes)."""

    names: frozenset[str] = frozenset()

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.names))

    def __len__(self) -> int:
        return len(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        Variant(
            "form-coercion",
            "forms are read as PHP does: contact[firstname] fields build objects, "
            "integers may carry a sign or spaces",
            "form-reading",
            "D5: types are strict for JSON bodies only",
        ),
        Variant(
            "objects-as-arrays",
            'a JSON object is taken where an array is expected ({"0": 5, "1": 6} is '
            "[5, 6]) and an array where an object is",
            "array-objects",
            "D19: PHP cannot tell {} from []",
        ),
        Variant(
            "documented-fields-only",
            "resources and send answers carry only the fields the docs list",
            "response-fields",
            "D19: resource fields the docs do not list are free",
        ),
        Variant(
            "extra-fields",
            "every resource also carries undocumented fields (uuid, tenant_id, deleted_at)",
            "response-fields",
            "D19: extra fields beyond the listed ones are free",
        ),
        Variant(
            "large-ids",
            "record ids start near 10**12 (still JSON-safe)",
            "id-start",
            "D8, D19: ids are any positive integers",
        ),
        Variant("sparse-ids", "record ids leave random gaps", "id-gaps", "D8, D19: ids may have gaps"),
        Variant(
            "per-tenant-ids",
            "every tenant's ids start at 1, so two tenants hold records with the same ids",
            "id-scope",
            "D8, D19: ids may be shared across tenants",
        ),
        Variant(
            "rich-seed",
            "new tenants also start with other sources, statuses, groups, contacts and templates "
            "(a second AUTHENTICATION template listed first, other languages)",
            "seed-extra",
            "D14, D19: beyond D14's minimum the starting records are free",
        ),
        Variant(
            "other-seed-names",
            "the default source and status and the non-fixed templates have other names",
            "seed-names",
            "D14, D19: only otp_verification is named",
        ),
        Variant(
            "unknown-query-400",
            "an unknown filter, filter operator or include is refused with 400 "
            "INVALID_QUERY (as Spatie's query builder does)",
            "unknown-query",
            "D19: refused (400 or 422) or ignored",
        ),
        Variant(
            "unknown-query-ignored",
            "an unknown filter, filter operator or include is ignored",
            "unknown-query",
            "D19: refused (400 or 422) or ignored",
        ),
        Variant(
            "all-operators",
            "every filter field takes every operator the docs list for filter[field][operator]",
            "filter-operators",
            "D19: operators beyond the documented ones are free",
        ),
        Variant(
            "content-type-422",
            "a body in a content type the operation does not take is read as an empty "
            "form (422 with the required messages, as Laravel does)",
            "content-type",
            "D19: 400, 415 or 422",
        ),
        Variant(
            "content-type-400",
            "a body in a content type the operation does not take is a 400 INVALID_JSON",
            "content-type",
            "D19: 400, 415 or 422",
        ),
        Variant(
            "no-batch-cap",
            "batch create and batch delete take any number of items",
            "batch-cap",
            "D18: the contract has no maximum batch size",
        ),
        Variant(
            "batch-keep-before",
            "with continue_on_error false the items before the first failing one stay "
            "created (the answer is still the 422)",
            "batch-stop",
            "D18: keeping them or not is free",
        ),
        Variant(
            "batch-item-format-422",
            "a batch item breaking a format rule refuses the whole request with a 422 keyed contacts.N.field",
            "batch-item-format",
            "D18: data.errors or a 422 are both correct",
        ),
        Variant(
            "conditional-fields-refused",
            "fields of another interactive type (list fields on a button "
            "message and the reverse) are refused with 422",
            "conditional-fields",
            "D19: ignored or refused",
        ),
        Variant(
            "conditional-fields-unchecked",
            "fields of another interactive type are dropped unread, even when malformed",
            "conditional-fields",
            "D19: ignored or refused",
        ),
        Variant(
            "other-error-messages",
            "every error message and every success message the docs do not give is other free text",
            "wording",
            "D15, D17: that wording is free",
        ),
        Variant(
            "message-ids-differ",
            "a send answer's chat_message_id is not the record id List Messages and Get Message use",
            "message-ids",
            "D19: whether a send's answer carries that id is not fixed",
        ),
        Variant(
            "other-default-order",
            "lists whose default order is undocumented come newest first",
            "default-order",
            "D19: the default order of a list is free",
        ),
        Variant(
            "no-mock-limits",
            "rules openapi.yaml marks as the mock's choice are not enforced",
            "mock-limits",
            "D19: limits the docs do not state are free",
        ),
        Variant(
            "empty-optional-clears",
            "an empty optional field on update clears the stored value instead of keeping it",
            "empty-update",
            "D16: what an empty optional field means is free",
        ),
        Variant(
            "other-error-layout",
            'every error outside Comments is {"success": false, "message", "error_code", "errors"}: '
            "the code at the top, details (field messages and the rest) under errors, no meta",
            "error-layout",
            "D4: the docs show no error body, so only level all asserts D4's layout",
            levels=("documented",),
        ),
        Variant(
            "max-attempts-on-fifth",
            "the 5th wrong OTP code already answers MAX_ATTEMPTS_EXCEEDED (not INVALID_CODE with 0 left)",
            "attempt-boundary",
            'D10: the boundary is decided; the docs say only "too many failed attempts (default: 5)"',
            levels=("documented",),
        ),
        Variant(
            "fixed-window-otp-limits",
            "the OTP limiters count in fixed windows opened by their first counted call (Laravel's RateLimiter)",
            "otp-window",
            "D10: the window shape of the OTP limiters is free",
        ),
        Variant(
            "trimmed-strings",
            "leading and trailing whitespace of every string input is trimmed before validation "
            "(Laravel's TrimStrings middleware)",
            "trimming",
            "D16: trimming string inputs or keeping them is free",
        ),
        Variant(
            "phone-as-sent",
            "the Contact resource's phone is the number as sent, not cleaned to digits",
            "contact-phone",
            "D9: the Contact resource's phone is as stored, sent or cleaned",
        ),
        Variant(
            "no-comments-message",
            "Get Comments answers only success and data, without a message",
            "comments-message",
            "D12: Get Comments documents only success and data",
        ),
        Variant(
            "null-for-no-value",
            "a listed response field with no value for the record (a template without a header text) "
            "is null instead of an empty string",
            "no-value",
            "D19: null for a listed field without a value",
        ),
        Variant(
            "multipart-parts-as-text",
            "a nested object in a multipart body (Send Media's contact part) is taken as text and ignored, "
            "not decoded and validated",
            "multipart-objects",
            "D19: a multipart part may be decoded or taken as text",
        ),
    ]
}

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        Profile(
            "laravel",
            "as a default Laravel app with Spatie's query builder would answer",
            (
                "form-coercion",
                "objects-as-arrays",
                "unknown-query-400",
                "content-type-422",
                "other-error-messages",
                "extra-fields",
                "batch-item-format-422",
                "empty-optional-clears",
                "no-batch-cap",
                "trimmed-strings",
                "fixed-window-otp-limits",
                "null-for-no-value",
            ),
        ),
        Profile(
            "minimal",
            "documented fields only, other ids, other seed data, lenient queries",
            (
                "documented-fields-only",
                "large-ids",
                "sparse-ids",
                "other-seed-names",
                "unknown-query-ignored",
                "conditional-fields-refused",
                "message-ids-differ",
                "no-mock-limits",
                "other-default-order",
                "no-comments-message",
                "phone-as-sent",
            ),
        ),
        Profile(
            "express",
            "as a hand-written Express app with per-tenant tables might answer",
            (
                "per-tenant-ids",
                "rich-seed",
                "content-type-400",
                "batch-keep-before",
                "all-operators",
                "other-error-messages",
                "message-ids-differ",
                "other-default-order",
                "multipart-parts-as-text",
            ),
        ),
        Profile(
            "docs-letter",
            "follows the docs to the letter but none of the decided layouts: another error layout, "
            "MAX_ATTEMPTS_EXCEEDED on the 5th wrong code (correct at level documented only)",
            ("other-error-layout", "max-attempts-on-fifth", "fixed-window-otp-limits", "trimmed-strings"),
        ),
    ]
}


def levels_of(names: Iterable[str]) -> tuple[str, ...]:
    """The levels at which every named variant (or every variant of a named profile) is correct."""
    chosen = resolve(names)
    return tuple(level for level in LEVELS if all(level in VARIANTS[name].levels for name in chosen))


def resolve(names: Iterable[str]) -> VariantSet:
    """Variant and profile names -> one consistent ``VariantSet``; ValueError for unknown or contradictory names."""
    chosen: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in PROFILES:
            chosen.update(PROFILES[name].variants)
        elif name in VARIANTS:
            chosen.add(name)
        else:
            raise ValueError(
                f"unknown variant {name!r}; variants: {', '.join(sorted(VARIANTS))}; profiles: {', '.join(sorted(PROFILES))}"
            )
    by_freedom: dict[str, list[str]] = {}
    for name in sorted(chosen):
        by_freedom.setdefault(VARIANTS[name].freedom, []).append(name)
    clashes = [names_ for names_ in by_freedom.values() if len(names_) > 1]
    if clashes:
        raise ValueError(
            "contradictory variants (two answers to one freedom): "
            + "; ".join(" vs ".join(c) for c in clashes)
        )
    return VariantSet(frozenset(chosen))


def listing() -> list[str]:
    """The lines ``wacr-mock --list-variants`` prints."""
    lines = ["variants:"]
    lines += [f"  {v.name:28} {v.description} [{v.decision}]" for v in VARIANTS.values()]
    lines.append("profiles:")
    lines += [f"  {p.name:28} {p.description}: {', '.join(p.variants)}" for p in PROFILES.values()]
    return lines


# --- form bodies (form-coercion) ----------------------------------------------------------------------

BRACKETS = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


def assemble_brackets(body: dict, validator: ObjectValidator) -> dict:
    """PHP's reading of form names: ``contact[firstname]``, ``ids[]`` and ``ids[0]`` build objects and lists."""
    result: dict[str, Any] = {}
    for name, value in body.items():
        match = BRACKETS.match(name)
        if match is None:
            result[name] = value
            continue
        *path, last = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = result
        for key in path:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[last or str(len(node))] = value
    return {name: _listify(value) for name, value in result.items()}


def _listify(value: Any) -> Any:
    """A PHP array with keys 0..n is a list."""
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def coerce_form_leniently(body: dict, validator: ObjectValidator) -> dict:
    """As ``coerce_form``, and nested objects too; integers may carry a sign and spaces (PHP's FILTER_VALIDATE_INT)."""
    result = {}
    for name, value in body.items():
        f = validator.by_name(name)
        if f is None:
            result[name] = value
        elif isinstance(value, dict) and f.obj is not None:
            result[name] = coerce_form_leniently(value, f.obj)
        elif isinstance(value, str) and "integer" in f.types and re.fullmatch(r"\s*\+?-?\d{1,18}\s*", value):
            result[name] = int(value.strip().lstrip("+"))
        else:
            result[name] = coerce_text(value, f.schema)
    return result


# --- PHP arrays (objects-as-arrays) -------------------------------------------------------------------


def php_arrays(body: dict, validator: ObjectValidator) -> dict:
    """An object where an array is expected is its values; an array where an object is, its indexed entries."""
    result = dict(body)
    for f in validator.fields:
        value = result.get(f.name)
        if isinstance(value, dict) and "array" in f.types and "object" not in f.types:
            value = list(value.values())
        elif isinstance(value, list) and "object" in f.types and "array" not in f.types:
            value = {str(index): item for index, item in enumerate(value)}
        if isinstance(value, dict) and f.obj is not None:
            value = php_arrays(value, f.obj)
        elif isinstance(value, list) and f.item_obj is not None:
            value = [php_arrays(item, f.item_obj) if isinstance(item, dict) else item for item in value]
        if f.name in result:
            result[f.name] = value
    return result


# --- conditional fields -----------------------------------------------------------------------------


def _inapplicable(body: dict, validator: ObjectValidator) -> list:
    """Fields required only for another value of a sibling (``x-required-if``) that are sent anyway."""
    return [f for f in validator.fields if f.required_if and f.name in body and not f.is_required(body)]


def refuse_inapplicable(body: dict, validator: ObjectValidator) -> dict[str, list[str]]:
    return {
        f.name: [
            f"The {f.name} field is prohibited unless {f.required_if[0]} is {' or '.join(f.required_if[1])}."
        ]
        for f in _inapplicable(body, validator)
    }


def drop_inapplicable(body: dict, validator: ObjectValidator) -> dict:
    dropped = {f.name for f in _inapplicable(body, validator)}
    return {k: v for k, v in body.items() if k not in dropped}


# --- a content type the operation does not take ----------------------------------------------------------


def read_foreign_as_empty_form(op: Operation, media_type: str) -> dict:
    return {}


def foreign_body_is_bad_request(op: Operation, media_type: str) -> dict:
    raise ApiError(400, "INVALID_JSON", "The request body must be JSON")


# --- answers: which fields, which words -----------------------------------------------------------------

# Response fields the docs do not list, for a spec that does not mark them yet (common.md: `x-provenance: mock`).
UNDOCUMENTED_FIELDS: dict[str, tuple[str, ...]] = {
    "listMessages": ("created_at", "updated_at", "direction"),
    "getMessage": ("created_at", "updated_at", "direction"),
    "sendTemplateMessage": ("language", "status", "sent_at", "chat_id", "chat_message_id"),
    "getComments": ("status_message", "url", "message_id", "ref_message_id", "created_at"),
}
MOCK_MARK = {"x-provenance": "mock (not in the docs)"}


def _is_mock(schema: Any) -> bool:
    return isinstance(schema, dict) and str(schema.get("x-provenance", "")).startswith("mock")


def strip_mock_fields(value: Any, schema: dict) -> Any:
    """``value`` without the properties its schema marks as the mock's own, at every depth."""
    schema = merge_all_of(schema) if isinstance(schema, dict) else {}
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        return {
            k: strip_mock_fields(v, props.get(k, {})) for k, v in value.items() if not _is_mock(props.get(k))
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [strip_mock_fields(item, schema["items"]) for item in value]
    return value


def _marked(schema: dict, names: tuple[str, ...]) -> dict:
    schema = copy.deepcopy(merge_all_of(schema))
    props = schema.setdefault("properties", {})
    for name in names:
        props[name] = {**props.get(name, {}), **MOCK_MARK}
    return schema


def documented_schemas(spec: Spec) -> dict[str, dict]:
    """Per operation, the schema of what its presenter gets, with the fallback fields marked too."""
    schemas = {}
    for op in spec.operations.values():
        body = success_schema(op)
        flat = "data" not in body.get("properties", {})
        schema = body if flat else data_schema(op)
        extra = UNDOCUMENTED_FIELDS.get(op.operation_id, ())
        if extra and schema.get("type") == "array":
            schema = {**schema, "items": _marked(item_schema(op), extra)}
        elif extra:
            schema = _marked(schema, extra)
        schemas[op.operation_id] = schema
    return schemas


def documented_only(schemas: dict[str, dict]) -> Callable:
    def present(op: Operation, value: Any, part: str, tenant_id: int) -> Any:
        schema = schemas.get(op.operation_id, {})
        if part == "item":
            schema = schema.get("items", {})
        return strip_mock_fields(value, schema)

    return present


EXTRA_NAMESPACE = uuid.UUID("6f1b7a52-7c1e-4f0e-9d55-3a7f0d2c9b10")


def with_extra_fields(op: Operation, value: Any, part: str, tenant_id: int, kind: str | None = None) -> Any:
    """Every record (a dict with an integer ``id``) also gets ``uuid``, ``tenant_id`` and ``deleted_at``."""
    kind = kind or op.collection or op.tag
    if isinstance(value, list):
        return [with_extra_fields(op, item, part, tenant_id, kind) for item in value]
    if not isinstance(value, dict):
        return value
    result = {
        k: with_extra_fields(op, v, part, tenant_id, k) if isinstance(v, (dict, list)) else v
        for k, v in value.items()
    }
    if isinstance(value.get("id"), int) and not isinstance(value.get("id"), bool):
        result.setdefault("uuid", str(uuid.uuid5(EXTRA_NAMESPACE, f"{tenant_id}/{kind}/{value['id']}")))
        result.setdefault("tenant_id", tenant_id)
        result.setdefault("deleted_at", None)
    return result


FRAMEWORK_ERRORS = {
    "VALIDATION_ERROR": "The given data was invalid.",
    "UNAUTHORIZED": "Unauthenticated.",
    "NOT_FOUND": "No query results for the requested resource.",
    "METHOD_NOT_ALLOWED": "The method is not supported for this route.",
    "RATE_LIMIT_EXCEEDED": "Too Many Attempts.",
}


def other_error_text(status: int, code: str, message: str) -> str:
    return FRAMEWORK_ERRORS.get(code, f"Request could not be completed ({code.lower().replace('_', ' ')}).")


def other_success_text(op: Operation, message: str) -> str:
    documented = str(op.ext("success-message-provenance", "")).startswith("documented")
    return message if documented or message != op.success_message else "Request completed."


def laravel_error_body(code: str, message: str, details: dict | None, meta: dict) -> dict:
    """Another error layout a server may use (D4 binds only level all): the code at the top level as
    ``error_code``, every detail (field messages, attempts_remaining, retry_after, ...) under ``errors``."""
    return {"success": False, "message": message, "error_code": code, "errors": details or {}}


def _allows_null(schema: dict) -> bool:
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    return any(_allows_null(option) for option in schema.get("anyOf", []) + schema.get("oneOf", []))


def null_for_empty(value: Any, schema: dict) -> Any:
    """``value`` with every ``""`` of a field whose schema allows null turned into null, at every depth."""
    schema = merge_all_of(schema) if isinstance(schema, dict) else {}
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        return {
            k: None if v == "" and _allows_null(props.get(k, {})) else null_for_empty(v, props.get(k, {}))
            for k, v in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [null_for_empty(item, schema["items"]) for item in value]
    return value


def nulls_for_no_value(spec: Spec) -> Presenter:
    schemas = {op.operation_id: (data_schema(op), success_schema(op)) for op in spec.operations.values()}

    def present(op: Operation, value: Any, part: str, tenant_id: int) -> Any:
        data, body = schemas.get(op.operation_id, ({}, {}))
        schema = {"item": data.get("items", {}), "data": data, "body": body}.get(part, {})
        return null_for_empty(value, schema)

    return present


def trim_strings(body: Any, validator: ObjectValidator | None = None) -> Any:
    """Every string, at every depth, without leading and trailing whitespace (Laravel's TrimStrings)."""
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, dict):
        return {name: trim_strings(value) for name, value in body.items()}
    if isinstance(body, list):
        return [trim_strings(item) for item in body]
    return body


def leave_object_parts_as_text(body: dict, validator: ObjectValidator) -> dict:
    """A multipart part for an object field (Send Media's ``contact``) stays text, which the server ignores."""
    return {
        name: value
        for name, value in body.items()
        if not (isinstance(value, str) and (f := validator.by_name(name)) is not None and f.obj is not None)
    }


# --- ids, order, updates ------------------------------------------------------------------------------

CHAT_MESSAGE_OFFSET = 500_000_000


def separate_chat_message_id(tenant: Tenant, message: dict) -> int:
    """A send answer's chat message id from its own sequence, never the history record's id."""
    chat_id = tenant.ids.next(tenant.id, "chat_messages") + CHAT_MESSAGE_OFFSET
    message["_chat_message_id"] = chat_id
    return chat_id


def newest_first_unless_documented(op: Operation) -> str:
    provenance = (op.ext("list-provenance") or {}).get("default_sort")
    if provenance is None:
        documented = op.operation_id == "listMessages"  # the docs' example sorts by -created_at
    else:
        documented = str(provenance).startswith("documented")
    return op.ext("default-sort", "id") if documented else "-id"


UPDATE_METHODS = ("PUT", "PATCH")


def clear_emptied(op: Operation, tenant: Tenant, record: dict | None, emptied: list[str]) -> dict[str, Any]:
    """On update, an empty optional field goes back to what a create without it stores (null for most)."""
    if op.method not in UPDATE_METHODS or record is None:
        return {}
    defaults: dict[str, Any] = {"color": None}
    if op.collection == "contacts":
        defaults = {**contact_defaults(tenant, {}), "groups": []}
        # A default source or status that was deleted is no default: the contact keeps its own.
        for name, collection in (("source_id", "sources"), ("status_id", "statuses")):
            if tenant.get(collection, defaults[name]) is None:
                del defaults[name]
    return {path: defaults[path] for path in emptied if "." not in path and path in defaults}


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


# --- the variants' hooks -------------------------------------------------------------------------------


def _batch_keep_before() -> dict[str, Callable]:
    return {"batchCreateContacts": functools.partial(batch_create_contacts, keep_before=True)}


def _max_attempts_on_fifth() -> dict[str, Callable]:
    return {"verifyOtp": functools.partial(verify_otp, refuse_at_max=True)}


@dataclass
class _Builder:
    """Collects the variants' choices; ``freeze`` gives the ``Behaviour``."""

    options: dict[str, Any] = field(default_factory=dict)
    form_readers: list = field(default_factory=lambda: [coerce_form])
    body_readers: list = field(default_factory=list)
    presenters: list = field(default_factory=list)  # applied in turn: variants of several freedoms compose
    body_checks: list = field(default_factory=list)
    handlers: dict[str, Callable] = field(default_factory=dict)
    spec_edits: list = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)
    seed: dict[str, bool] = field(default_factory=dict)

    def freeze(self) -> Behaviour:
        allocator = functools.partial(IdAllocator, **self.ids) if self.ids else IdAllocator
        options = dict(self.options)
        if self.presenters:
            options["present"] = chain(self.presenters)
        return replace(
            Behaviour(),
            form_readers=tuple(self.form_readers),
            body_readers=tuple(self.body_readers),
            body_checks=tuple(self.body_checks),
            handlers=dict(self.handlers),
            spec_edits=tuple(self.spec_edits),
            ids=allocator,
            seed=SeedOptions(**self.seed),
            **options,
        )


def chain(presenters: list[Presenter]) -> Presenter:
    def present(op: Operation, value: Any, part: str, tenant_id: int) -> Any:
        for presenter in presenters:
            value = presenter(op, value, part, tenant_id)
        return value

    return present


def _option(key: str, value: Any) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.options.__setitem__(key, value)


def _id_scheme(key: str, value: Any) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.ids.__setitem__(key, value)


def _seed(key: str) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.seed.__setitem__(key, True)


def _form_coercion(b: _Builder, spec: Spec) -> None:
    b.form_readers = [assemble_brackets, coerce_form_leniently]


def _trimmed_strings(b: _Builder, spec: Spec) -> None:
    """Before every other reader (forms and JSON alike), as the middleware runs before the app reads."""
    b.form_readers.insert(0, trim_strings)
    b.body_readers.insert(0, trim_strings)


def _presenter(make: Callable[[Spec], Presenter]) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.presenters.append(make(spec))


def _other_wording(b: _Builder, spec: Spec) -> None:
    b.options.update(error_text=other_error_text, success_text=other_success_text)


# How each variant sets its seam; a registered variant without an entry fails at import (below).
APPLY: dict[str, Callable[[_Builder, Spec], None]] = {
    "form-coercion": _form_coercion,
    "objects-as-arrays": lambda b, spec: b.body_readers.insert(0, php_arrays),
    "documented-fields-only": _presenter(lambda spec: documented_only(documented_schemas(spec))),
    "extra-fields": _presenter(lambda spec: with_extra_fields),
    "large-ids": _id_scheme("start", 10**12),
    "sparse-ids": _id_scheme("max_gap", 97),
    "per-tenant-ids": _id_scheme("per_tenant", True),
    "rich-seed": _seed("rich"),
    "other-seed-names": _seed("other_names"),
    "unknown-query-400": _option("unknown_query", "bad-request"),
    "unknown-query-ignored": _option("unknown_query", "ignore"),
    "all-operators": _option("all_operators", True),
    "content-type-422": _option("foreign_body", read_foreign_as_empty_form),
    "content-type-400": _option("foreign_body", foreign_body_is_bad_request),
    "no-batch-cap": lambda b, spec: b.spec_edits.append(drop_batch_caps),
    "batch-keep-before": lambda b, spec: b.handlers.update(_batch_keep_before()),
    "batch-item-format-422": _option("batch_format_refuses", True),
    "conditional-fields-refused": lambda b, spec: b.body_checks.append(refuse_inapplicable),
    "conditional-fields-unchecked": lambda b, spec: b.body_readers.append(drop_inapplicable),
    "other-error-messages": _other_wording,
    "message-ids-differ": _option("chat_message_id", separate_chat_message_id),
    "other-default-order": _option("default_sort", newest_first_unless_documented),
    "no-mock-limits": lambda b, spec: b.spec_edits.append(drop_mock_rules),
    "empty-optional-clears": _option("emptied", clear_emptied),
    "other-error-layout": _option("error_layout", laravel_error_body),
    "max-attempts-on-fifth": lambda b, spec: b.handlers.update(_max_attempts_on_fifth()),
    "fixed-window-otp-limits": _option("otp_window", FixedWindow),
    "trimmed-strings": _trimmed_strings,
    "phone-as-sent": _option("phone_as_sent", True),
    "no-comments-message": _option("omit_optional_message", True),
    "null-for-no-value": _presenter(nulls_for_no_value),
    "multipart-parts-as-text": lambda b, spec: b.form_readers.insert(0, leave_object_parts_as_text),
}
if set(APPLY) != set(VARIANTS):
    raise RuntimeError(
        f"variants without a seam or seams without a variant: {sorted(set(APPLY) ^ set(VARIANTS))}"
    )


def behaviour_for(variants: VariantSet, spec: Spec) -> Behaviour:
    """The hooks of ``variants`` (the default ``Behaviour()`` when there are none)."""
    builder = _Builder()
    for name in variants:
        APPLY[name](builder, spec)
    return builder.freeze()


def edited_spec(spec: Spec, behaviour: Behaviour) -> Spec:
    """The spec the validators are compiled from: ``spec`` itself unless a variant edits its rules."""
    if not behaviour.spec_edits:
        return spec
    document = copy.deepcopy(spec.document)
    for edit in behaviour.spec_edits:
        edit(document)
    return Spec(document)
