"""The control API's own contract, ``docs/control-api.yaml`` (shipped as ``mockserver/control-api.yaml``),
compiled once: one route per operation, and a validator for each request body.

A body is read as strict JSON (no NaN, no number too large for a float) and checked against its
operation's schema before the call runs. The first rule it breaks becomes the one-line ``error``
of the 400: the field and the rule (``limits.contacts must be at least -1``), or the subschema's
own ``x-message`` where the document gives one.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError, best_match

DOCUMENT = "control-api.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}
# Schema keys that lead into another field's schema: an x-message above them is not that field's.
INTO_FIELDS = ("properties", "patternProperties", "additionalProperties")
NAMED_SCHEMAS = ("properties", "patternProperties", "$defs")


class MalformedBody(ValueError):
    """The body is not a JSON object the control API can read; the message is the 400's ``error``."""


@dataclass(frozen=True)
class ControlOperation:
    operation_id: str
    method: str
    pattern: re.Pattern[str]  # the path, ``{name}`` as a named group
    body: jsonschema.Draft202012Validator | None  # None: the operation takes no body

    def read_body(self, raw: bytes) -> dict[str, Any]:
        """The body as the schema allows it, or MalformedBody saying why not (one line)."""
        if self.body is None:
            return {}
        body = strict_json_object(raw)
        error = best_match(self.body.iter_errors(body))
        if error is not None:
            raise MalformedBody(one_line(error, self.body.schema))
        return body


def strict_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object (an empty body is an empty one); NaN, Infinity and 1e400 are refused, not read as
    floats no field could hold."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=refuse_constant, parse_float=finite_float)
    except MalformedBody:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedBody("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise MalformedBody("the body must be a JSON object")
    return body


def refuse_constant(name: str) -> Any:
    raise MalformedBody(f"the body is not valid JSON: {name} is not a number")


def finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedBody(f"the body holds a number too large to read: {text[:40]}")
    return value


def one_line(error: ValidationError, schema: dict) -> str:
    """The first broken rule as one line naming the field."""
    own = own_message(schema, error.absolute_schema_path)
    if own is not None:
        return own
    where = ".".join(str(part) for part in error.absolute_path)
    field = where or "the body"
    keyword, value = error.validator, error.validator_value
    if keyword == "type":
        kinds = [value] if isinstance(value, str) else list(value)
        return f"{field} must be {' or '.join(TYPE_NAMES.get(kind, kind) for kind in kinds)}"
    if keyword == "required" and isinstance(error.instance, dict):
        missing = next(name for name in value if name not in error.instance)
        return f"{where + '.' if where else ''}{missing} is required"
    wording = {
        "minimum": f"must be at least {value}",
        "maximum": f"must be at most {value}",
        "minLength": f"must have at least {value} characters",
        "maxLength": f"must have at most {value} characters",
        "maxProperties": f"may have at most {value} keys",
        "enum": f"must be one of {', '.join(map(str, value)) if isinstance(value, list) else value}",
    }
    if keyword in wording:
        return f"{field} {wording[keyword]}"
    return f"{field}: {error.message}"[:300]


def own_message(schema: dict, path: Sequence[Any]) -> str | None:
    """The deepest ``x-message`` on ``path`` (a failing keyword's place in ``schema``) that still belongs
    to the failing field: one above a ``properties`` step speaks of the enclosing object."""
    node: Any = schema
    message = schema.get("x-message")
    naming = False  # the next step is a field's name, not a keyword
    for key in path:
        if not naming and key in INTO_FIELDS:
            message = None
        naming = not naming and key in NAMED_SCHEMAS
        node = node[key]
        if not naming and isinstance(node, dict) and "x-message" in node:
            message = node["x-message"]
    return message


def inlined(node: Any, root: dict) -> Any:
    """``node`` with every local ``$ref`` replaced by its target (no schema of the document refers to itself)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return inlined({**target, **{k: v for k, v in node.items() if k != "$ref"}}, root)
        return {key: inlined(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [inlined(item, root) for item in node]
    return node


def compile_operations(document: dict) -> tuple[ControlOperation, ...]:
    found = []
    for path, item in document["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            validator = None
            if schema is not None:
                schema = inlined(schema, document)
                jsonschema.Draft202012Validator.check_schema(schema)
                validator = jsonschema.Draft202012Validator(schema)
            found.append(ControlOperation(operation["operationId"], method.upper(), pattern, validator))
    return tuple(found)


@functools.cache
def control_operations() -> tuple[ControlOperation, ...]:
    """The document's operations, compiled on the first control call (start-up does not wait for it)."""
    text = (importlib.resources.files("mockserver") / DOCUMENT).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return compile_operations(yaml.load(text, Loader=loader))
