"""Making the records a check needs, through the public API only.

Names carry a random suffix so checks never collide with each other's data on a
shared (live) tenant.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from contract_tests.target import TenantHandle


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(4)}"


def unique_phone() -> str:
    """A 12-digit phone no other check uses."""
    return "91" + "".join(secrets.choice("0123456789") for _ in range(10))


def _created(response, what: str) -> dict:
    assert response.status_code in (200, 201), f"creating a {what} answered {response.status_code}: {response.text}"
    return response.json()["data"]


def source(api) -> dict:
    return _created(api.post("/sources", json={"name": unique("Source")}), "source")


def status(api) -> dict:
    return _created(api.post("/statuses", json={"name": unique("Status"), "color": "#FF5733"}), "status")


def group(api) -> dict:
    return _created(api.post("/groups", json={"name": unique("Group")}), "group")


def contact(api, tenant: TenantHandle | None = None, **fields: Any) -> dict:
    source_id = fields.pop("source_id", None) or (tenant and tenant.default_source_id) or source(api)["id"]
    status_id = fields.pop("status_id", None) or (tenant and tenant.default_status_id) or status(api)["id"]
    body = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": unique_phone(),
        "type": "lead",
        "source_id": source_id,
        "status_id": status_id,
        **fields,
    }
    return _created(api.post("/contacts", json=body), "contact")


def chat_mobile(api) -> str:
    """A mobile with a chat conversation: one text message creates it (D12)."""
    from contract_tests.plugin import CONTROL_AVAILABLE, current_config, send_refusal

    config = current_config()
    refusal = send_refusal(config, config.stash.get(CONTROL_AVAILABLE, False))
    if refusal:
        pytest.skip(f"needs a chat, which only sending a WhatsApp message creates; {refusal}")
    phone = unique_phone()
    response = api.post("/messages/text", json={"phone": phone, "message": "Hello from the contract suite"})
    assert response.status_code == 200, response.text
    return response.json()["data"]["phone"]


def path_for(api, tenant: TenantHandle, template: str) -> str:
    """Fills the path template of an operation with a record that exists."""
    if "{mobile}" in template:
        return template.replace("{mobile}", chat_mobile(api))
    if "{id}" not in template:
        return template
    collection = template.strip("/").split("/")[0]
    if collection == "templates":
        listed = api.get("/templates", params={"per_page": 1}).json()["data"]
        return template.replace("{id}", str(listed[0]["template_id"]))
    if collection == "messages":
        chat_mobile(api)
        listed = api.get("/messages", params={"per_page": 1}).json()["data"]
        return template.replace("{id}", str(listed[0]["id"]))
    makers = {"contacts": lambda: contact(api, tenant), "groups": lambda: group(api),
              "sources": lambda: source(api), "statuses": lambda: status(api)}
    return template.replace("{id}", str(makers[collection]()["id"]))
