"""Variant hooks on records: chat message ids, the default order, what an emptied field does on update."""

from __future__ import annotations

from typing import Any

from mockserver.resources import contact_defaults
from mockserver.spec import Operation
from mockserver.store import Tenant

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
