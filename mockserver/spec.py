"""Loads ``openapi.yaml`` once and compiles everything the mock needs from it.

Routes, request validators, success messages, sort fields, filters, error
messages and limits are all read here; handlers never repeat them.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from mockserver.extensions import Extensions, RootMessages, compile_extensions, compile_root_messages
from mockserver.validation import FieldValidator, ObjectValidator, SpecError, compile_field, compile_object

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
BASE_PATH = "/api/v2"


def default_spec_path() -> Path:
    """``WACR_SPEC``, else the contract shipped inside the package (a link to the repository's file)."""
    override = os.environ.get("WACR_SPEC")
    if override:
        return Path(override)
    return Path(str(importlib.resources.files("mockserver") / "openapi.yaml"))


def _resolve(node: Any, root: dict, seen: tuple[str, ...] = ()) -> Any:
    """Inlines every local ``$ref`` (the spec has no recursive schemas)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                raise SpecError(f"recursive $ref {ref}")
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            merged = _resolve(target, root, seen + (ref,))
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**merged, **_resolve(extra, root, seen)} if extra else merged
        return {key: _resolve(value, root, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, root, seen) for item in node]
    return node


def merge_all_of(schema: dict) -> dict:
    """Flattens ``allOf`` of object schemas (used by response envelopes)."""
    if "allOf" not in schema:
        return schema
    merged: dict = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = merge_all_of(part)
        merged.setdefault("properties", {}).update(part.get("properties", {}))
        merged["required"] = list(dict.fromkeys(merged.get("required", []) + part.get("required", [])))
        for key, value in part.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    return merged


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    tag: str
    raw: dict
    scopes: tuple[str, ...]
    success_status: int
    query: ObjectValidator
    query_schemas: dict[str, dict]
    bodies: dict[str, ObjectValidator] = field(default_factory=dict)
    extensions: Extensions = field(default_factory=Extensions)

    @property
    def envelope(self) -> str:
        """``standard`` (D2-D4) or ``flat`` (the Comments answers of D12), from ``x-envelope``."""
        return self.extensions.envelope

    @property
    def collection(self) -> str | None:
        return self.raw.get("x-collection")

    @property
    def success_message(self) -> str:
        return self.raw.get("x-success-message", "OK")

    def alternate_message(self, outcome: str) -> str:
        return self.raw["x-alternate-success-messages"][outcome]

    def ext(self, name: str, default: Any = None) -> Any:
        return self.raw.get(f"x-{name}", default)

    @cached_property
    def error_messages(self) -> dict[tuple[int, str], str]:
        """(status, code) -> error.message, from the responses' ``x-error-codes``."""
        table: dict[tuple[int, str], str] = {}
        for status, response in self.raw.get("responses", {}).items():
            for entry in response.get("x-error-codes", ()):
                table.setdefault((int(status), entry["code"]), entry.get("message") or entry["when"])
        return table

    def error_message(self, status: int, code: str) -> str:
        return self.error_messages.get((status, code), code.replace("_", " ").capitalize())

    @cached_property
    def error_codes(self) -> dict[int, set[str]]:
        codes: dict[int, set[str]] = {}
        for status, response in self.raw.get("responses", {}).items():
            for entry in response.get("x-error-codes", ()):
                codes.setdefault(int(status), set()).add(entry["code"])
        return codes

    @cached_property
    def body_fields(self) -> dict[str, FieldValidator]:
        validator = next(iter(self.bodies.values()), None)
        return {f.name: f for f in validator.fields} if validator else {}

    def field_message(self, field_name: str, rule: str) -> str:
        """A body field's message for ``rule`` (also business rules such as ``template_category``)."""
        return self.body_fields[field_name].messages[rule]

    @cached_property
    def sort_fields(self) -> tuple[str, ...]:
        return tuple(self.raw.get("x-sort-fields", ()))

    @cached_property
    def response_schemas(self) -> dict[int, dict]:
        schemas = {}
        for status, response in self.raw.get("responses", {}).items():
            content = response.get("content", {}).get("application/json", {})
            if "schema" in content:
                schemas[int(status)] = content["schema"]
        return schemas


def _query_validator(parameters: list[dict], where: str) -> tuple[ObjectValidator, dict[str, dict]]:
    fields = []
    schemas = {}
    for param in parameters:
        if param.get("in") != "query":
            continue
        schema = dict(param.get("schema", {}))
        for key in ("x-validation-messages", "x-assumed-rules", "x-assumed-messages", "x-rule-provenance"):
            if key in param:
                schema[key] = param[key]
        schemas[param["name"]] = schema
        fields.append(
            compile_field(
                param["name"], schema, bool(param.get("required")), f"{where}?{param['name']}", from_text=True
            )
        )
    return ObjectValidator(fields), schemas


class Spec:
    """The compiled contract: operations by id, and a router over their paths."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.resolved = _resolve(document, document)
        self.messages: RootMessages = compile_root_messages(document)
        self.operations: dict[str, Operation] = {}
        for path, item in self.resolved["paths"].items():
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method in item:
                    op = self._compile(path, method, item[method], shared)
                    self.operations[op.operation_id] = op

    @classmethod
    def load(cls, path: Path | str | None = None) -> Spec:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with open(path or default_spec_path(), encoding="utf-8") as handle:
            return cls(yaml.load(handle, Loader=loader))

    def _compile(self, path: str, method: str, raw: dict, shared: list[dict]) -> Operation:
        where = f"{method.upper()} {path}"
        names = {p["name"] for p in raw.get("parameters", [])}
        parameters = [p for p in shared if p["name"] not in names] + raw.get("parameters", [])
        query, query_schemas = _query_validator(parameters, where)
        scopes: tuple[str, ...] = ()
        for requirement in raw.get("security", self.resolved.get("security", [])):
            scopes += tuple(requirement.get("bearerAuth", ()))
        success = min(int(code) for code in raw["responses"] if code.startswith("2"))
        bodies = {
            media_type: compile_object(merge_all_of(content["schema"]), f"{where} body")
            for media_type, content in (raw.get("requestBody") or {}).get("content", {}).items()
        }
        return Operation(
            operation_id=raw["operationId"],
            method=method.upper(),
            path=path,
            tag=raw["tags"][0],
            raw=raw,
            scopes=scopes,
            success_status=success,
            query=query,
            query_schemas=query_schemas,
            bodies=bodies,
            extensions=compile_extensions(raw, path, where),
        )

    def operation(self, operation_id: str) -> Operation:
        return self.operations[operation_id]

    def schema(self, name: str) -> dict:
        return self.resolved["components"]["schemas"][name]
