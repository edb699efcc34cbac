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
from contract_tests.reader import Tier
from contract_tests.target import Api, TenantHandle

OPS: list[Operation] = list(contract.spec().operations.values())
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROUTES: dict[str, dict[str, Operation]] = {}
for _op in OPS:
    ROUTES.setdefault(_op.path, {})[_op.method] = _op
JSON_HEADERS = {"Content-Type": "application/json"}


def sends(op: Operation, makes_path_record: bool = True) -> bool:
    """Whether a check of ``op`` may send a WhatsApp message: a send operation (``x-sends-message``), or (when the
    check makes the record its path names) one whose record only a sent message brings into being
    (``x-made-by-sending``: a chat, a message)."""
    made_by_sending = op.record is not None and op.record.made_by_sending
    return op.sends_message or (makes_path_record and made_by_sending)


def json_body(api: Api, tenant: TenantHandle, op: Operation) -> dict | None:
    """A JSON body that keeps every rule on this tenant (its own ids and template names), or None."""
    return records.valid_body(api, tenant, op.operation_id) if op.takes_json else None


def example_text(op: Operation) -> str:
    """The spec's example body as text: only a shape to cut into malformed JSON (its values never matter)."""
    return json.dumps(contract.example_body(op) if "application/json" in op.bodies else {"a": 1})


def has_required_body_field(op: Operation) -> bool:
    return any(field.required for field in op.body_fields.values())


def cases(
    ops: list[Operation], tier: Callable[[Operation], Tier] | Tier, makes_path_record: bool = True
) -> list:
    """One param per operation, marked with the tier of what the check asserts of it (``tier``: the tier, or how to
    read it from the operation); an operation where that rests on the mock's choice gets no check (D19)."""
    params = []
    for op in ops:
        level = tier(op) if callable(tier) else tier
        if level == "mock":
            continue
        marks = [*contract.tier_marks(level), pytest.mark.operation(op.operation_id)]
        if sends(op, makes_path_record):
            marks.append(pytest.mark.sends)
        params.append(pytest.param(op, id=op.operation_id, marks=marks))
    return params


SCOPED = [op for op in OPS if op.scopes]
WITH_PATH_RECORD = [op for op in OPS if op.record is not None]
WITH_ID = [op for op in WITH_PATH_RECORD if op.record is not None and not op.record.is_phone]
JSON_OPS = [op for op in OPS if op.takes_json]
PLAIN_GETS = [op for op in OPS if op.method == "GET" and op.record is None and op.scopes]
ID_GETS = [op for op in WITH_ID if op.method == "GET" and op.scopes]


def existing_request(api: Api, tenant: TenantHandle, op: Operation) -> tuple[str, dict | None]:
    """A path naming records that exist, and a valid body of the tenant: a request only the token can spoil."""
    return records.path_for(api, tenant, op, reuse=op.method != "DELETE"), json_body(api, tenant, op)


def own_keys(api: Api, op: Operation) -> set[str]:
    """Every key the tenant's own list shows for the record in the path (its ``x-path-record`` field: the WhatsApp
    id of a template, D8); none where no operation lists such records (chats)."""
    listing = None if op.record is None else contract.spec().list_operation(op.record)
    if listing is None or op.record is None:
        return set()
    return {str(item[op.record.field]) for item in api.list_all(listing.path)}


def unknown_key(api: Api, op: Operation) -> str:
    """A value of the path parameter that names no record of this tenant: a mobile nobody was sent to, or the id
    right after the tenant's highest."""
    if op.record is not None and op.record.is_phone:
        return unknown_mobile()
    return next_unknown_id(own_keys(api, op))


def path_value(op: Operation, path: str) -> str:
    """The value a filled path gives the operation's record parameter."""
    template = op.path.strip("/").split("/")
    return path.strip("/").split("/")[template.index("{" + op.record.param + "}")] if op.record else ""


def record_read(op: Operation) -> bool:
    """Whether ``op`` reads the record its path names itself: a GET of its list's path plus the record parameter
    (not an added read of the record, such as a count)."""
    if op.record is None or op.method != "GET":
        return False
    listing = contract.spec().list_operation(op.record)
    return listing is not None and op.path == f"{listing.path}/{{{op.record.param}}}"


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
