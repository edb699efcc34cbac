"""Variant hooks on the answers: which fields (documented only, extra, null for no value), which
words (error and success texts) and which error layout."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from mockserver.behaviour import (
    Presenter,
    data_schema,
    item_schema,
    success_schema,
)
from mockserver.spec import Operation, Spec, merge_all_of

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
