"""The spec's operations as the cross-cutting checks see them, and requests built for them.

Requests that must be refused are sent against records that exist and with a body
built from the tenant's own records (``records.valid_body``), so that only the
property under test is wrong (the order of checks is D6 and has checks of its own).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from contract_tests import contract, records
from contract_tests.reader import ContractOperation as Operation
from contract_tests.target import Api, TenantHandle

OPS: list[Operation] = list(contract.spec().operations.values())
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROUTES: dict[str, dict[str, Operation]] = {}
for _op in OPS:
    ROUTES.setdefault(_op.path, {})[_op.method] = _op
JSON_HEADERS = {"Content-Type": "application/json"}


def is_comments(op: Operation) -> bool:
    return op.path.startswith("/comments")


def sends(op: Operation, makes_path_record: bool = True) -> bool:
    """Whether a check of ``op`` may send a WhatsApp message: a send operation, or (when the check makes the
    record its path names) a chat or message, which only sending creates."""
    sending = op.method == "POST" and (
        op.path.startswith("/messages/") or op.path in ("/auth/send-otp", "/auth/resend")
    )
    return sending or (makes_path_record and ("{mobile}" in op.path or op.path == "/messages/{id}"))


def json_body(api: Api, tenant: TenantHandle, op: Operation) -> dict | None:
    """A JSON body that keeps every rule on this tenant (its own ids and template names), or None."""
    return records.valid_body(api, tenant, op.operation_id) if "application/json" in op.bodies else None


def example_text(op: Operation) -> str:
    """The spec's example body as text: only a shape to cut into malformed JSON (its values never matter)."""
    return json.dumps(contract.example_body(op) if "application/json" in op.bodies else {"a": 1})


def has_required_body_field(op: Operation) -> bool:
    return any(field.required for field in op.body_fields.values())


def op_documented(op: Operation) -> bool:
    """Whether the docs give the operation itself (some are only named in the docs' sidebar, D1)."""
    return str(op.raw.get("x-provenance", "")).startswith("documented")


def scope_documented(op: Operation) -> bool:
    return op_documented(op) and str(op.raw.get("x-scope-provenance", "")).startswith("documented")


def cases(
    ops: list[Operation], documented: Callable[[Operation], bool] | bool, makes_path_record: bool = True
) -> list:
    params = []
    for op in ops:
        is_documented = documented(op) if callable(documented) else documented
        marks = [
            pytest.mark.documented if is_documented else pytest.mark.assumed,
            pytest.mark.operation(op.operation_id),
        ]
        if sends(op, makes_path_record):
            marks.append(pytest.mark.sends)
        params.append(pytest.param(op, id=op.operation_id, marks=marks))
    return params


SCOPED = [op for op in OPS if op.scopes]
WITH_ID = [op for op in OPS if "{id}" in op.path]
WITH_PATH_RECORD = [op for op in OPS if "{" in op.path]
JSON_OPS = [op for op in OPS if "application/json" in op.bodies]
PLAIN_GETS = [op for op in OPS if op.method == "GET" and "{" not in op.path and op.scopes]
ID_GETS = [op for op in WITH_ID if op.method == "GET" and op.scopes]


def existing_request(api: Api, tenant: TenantHandle, op: Operation) -> tuple[str, dict | None]:
    """A path naming records that exist, and a valid body of the tenant: a request only the token can spoil."""
    return records.path_for(api, tenant, op.path, reuse=op.method != "DELETE"), json_body(api, tenant, op)


def collection_of(op: Operation) -> str:
    return "/" + op.path.strip("/").split("/")[0]


def own_keys(api: Api, op: Operation) -> set[str]:
    """Every id the tenant's own list shows for the record in the path (templates: the WhatsApp id, D8)."""
    if "{mobile}" in op.path:
        return set()  # no operation lists chats
    collection = collection_of(op)
    key = "template_id" if collection == "/templates" else "id"
    return {str(item[key]) for item in api.list_all(collection)}


def unknown_mobile() -> str:
    """A 15-digit mobile no check sends to (they use 12 digits), so no chat has it."""
    return str(10**14 + secrets.randbelow(9 * 10**14))


def next_unknown_id(own: set[str]) -> str:
    """The id right after the tenant's highest: no record of this tenant, maybe one of another (still 404, D8)."""
    return str(max((int(key) for key in own if key.isdigit()), default=0) + 1)


def fill(template: str, value: str) -> str:
    """The path with its one parameter ({id} or {mobile}) set to ``value``, percent-encoded."""
    return re.sub(r"\{\w+\}", quote(value, safe=""), template)


def literal_siblings(template: str) -> set[str]:
    """Literal segments that take the place of this template's parameter in another path (``batch``, ``sync``)."""
    if "{" not in template:
        return set()
    head, tail = template.split("{")[0], template.split("}")[-1]
    middles = {p[len(head) : len(p) - len(tail)] for p in ROUTES if p.startswith(head) and p.endswith(tail)}
    return {m for m in middles if m and not set(m) & set("/{}")}


def authorization_headers(value: str | None) -> dict[str, str]:
    return {} if value is None else {"Authorization": value}


def body_kwargs(content: bytes | None) -> dict[str, Any]:
    return {} if content is None else {"content": content, "headers": JSON_HEADERS}
