"""The answer bodies: D2 success, D3 lists, D4 errors, and the flat Comments style of D12.

Each operation's ``x-envelope`` (``op.envelope``) picks the style; nothing here looks at paths.
"""

from __future__ import annotations

from typing import Any

from mockserver.behaviour import Behaviour, ErrorLayout, d4_error_body, success_schema
from mockserver.clock import iso
from mockserver.context import Reply
from mockserver.http import CoreResponse
from mockserver.spec import Operation


def meta(request_id: str, now: float) -> dict:
    return {"request_id": request_id, "timestamp": iso(now)}


def success(
    op: Operation, reply: Reply, request_id: str, now: float, tenant_id: int, behaviour: Behaviour
) -> CoreResponse:
    headers = {"X-Request-Id": request_id}
    message = behaviour.success_text(op, reply.message or op.success_message)
    present = behaviour.present
    if op.envelope == "flat":
        own = reply.fields if reply.fields is not None else {"data": reply.data}
        body: dict[str, Any] = {"success": True, "message": message}
        body.update((key, value) for key, value in own.items() if key not in body)
        if "data" in body:
            body["data"] = present(op, body["data"], "data", tenant_id)
        else:
            body = present(op, body, "body", tenant_id)
        if behaviour.omit_optional_message and not message_required(op):
            body.pop("message", None)
        return CoreResponse(op.success_status, body, headers)
    data = reply.data if reply.listing is not None else present(op, reply.data, "data", tenant_id)
    body = {"success": True, "message": message, "data": data, "meta": meta(request_id, now)}
    if reply.listing is not None:
        page_meta, links = reply.listing
        body["meta"].update(page_meta)
        body["links"] = links
    return CoreResponse(op.success_status, body, headers)


def message_required(op: Operation) -> bool:
    """Whether the operation's success answer must carry ``message`` (all but Get Comments, D12)."""
    return "message" in success_schema(op).get("required", [])


def error(
    style: str,
    status: int,
    code: str,
    message: str,
    details: dict | None,
    request_id: str,
    now: float,
    layout: ErrorLayout = d4_error_body,
) -> CoreResponse:
    """An error answer in ``style`` (an operation's ``envelope``); the flat style lists only field errors,
    the standard style is built by ``layout`` (D4's unless a variant says otherwise)."""
    headers = {"X-Request-Id": request_id}
    if style == "flat":
        body: dict[str, Any] = {"success": False, "message": message}
        if code == "VALIDATION_ERROR" and details:
            body["errors"] = details
        return CoreResponse(status, body, headers)
    return CoreResponse(status, layout(code, message, details, meta(request_id, now)), headers)
