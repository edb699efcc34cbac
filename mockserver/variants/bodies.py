"""Variant hooks on how a request body is read: form fields, PHP arrays, conditional fields,
a content type the operation does not take, trimmed strings, multipart parts left as text."""

from __future__ import annotations

import re
from typing import Any

from mockserver.errors import ApiError
from mockserver.spec import Operation
from mockserver.validation import ObjectValidator, coerce_text

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
