"""One successful call of each operation, in an order where every call finds what it needs.

Shared by the in-process conformance tests and the ``--validate-responses`` server test,
so both drive the same requests. ``client`` is any httpx client whose base URL ends in
``/api/v2`` and which sends a full-scope token of a fresh tenant.
"""

from __future__ import annotations

import httpx

PHONE = "15550001111"
OTHER_PHONE = "15550002222"


class Walk:
    """Calls operations and remembers each one's last response by operationId."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.responses: dict[str, httpx.Response] = {}

    def call(self, operation_id: str, method: str, path: str, **kwargs) -> dict:
        response = self.client.request(method, path, **kwargs)
        self.responses[operation_id] = response
        assert response.status_code < 300, f"{operation_id}: {response.status_code} {response.text}"
        return response.json()

    def crud(self, plural: str, singular: str, path: str, create: dict, update: dict) -> int:
        """List, create, get, update and delete one named record; returns the id of a second, kept one."""
        self.call(f"list{plural}", "GET", path, params={"per_page": 5, "sort": "-created_at"})
        record_id = self.call(f"create{singular}", "POST", path, json=create)["data"]["id"]
        self.call(f"get{singular}", "GET", f"{path}/{record_id}")
        self.call(f"update{singular}", "PATCH", f"{path}/{record_id}", json=update)
        self.call(f"delete{singular}", "DELETE", f"{path}/{record_id}")
        return self.call(f"create{singular}", "POST", path, json={**create, "name": create["name"] + " 2"})[
            "data"
        ]["id"]


def otp_template(client: httpx.Client) -> str:
    response = client.get("/auth/templates")
    assert response.status_code == 200, response.text
    return response.json()["data"][0]["template_name"]


def walk_every_operation(client: httpx.Client) -> dict[str, httpx.Response]:
    """Runs one success of every operation; returns the responses by operationId."""
    walk = Walk(client)
    call = walk.call
    call("getAccount", "GET", "/account")
    call("getUsage", "GET", "/account/usage")
    call("getLimits", "GET", "/account/limits")
    call("listAuthTemplates", "GET", "/auth/templates")
    template = otp_template(client)
    call(
        "sendOtp",
        "POST",
        "/auth/send-otp",
        json={"phone": PHONE, "template_name": template, "code": "123456"},
    )
    call("checkOtpStatus", "POST", "/auth/status", json={"phone": PHONE})
    call("verifyOtp", "POST", "/auth/verify", json={"phone": PHONE, "code": "123456"})
    call("resendOtp", "POST", "/auth/resend", json={"phone": PHONE, "template_name": template})

    source_id = walk.crud("Sources", "Source", "/sources", {"name": "Fair"}, {"name": "Trade fair"})
    status_id = walk.crud(
        "Statuses", "Status", "/statuses", {"name": "Hot", "color": "#FF0000"}, {"name": "Warm"}
    )
    group_id = walk.crud("Groups", "Group", "/groups", {"name": "VIP"}, {"name": "VIP customers"})

    person = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "type": "lead",
        "source_id": source_id,
        "status_id": status_id,
    }
    contact_id = call("createContact", "POST", "/contacts", json={**person, "phone": OTHER_PHONE})["data"][
        "id"
    ]
    call("listContacts", "GET", "/contacts", params={"include": "groups,source,status"})
    call("getContact", "GET", f"/contacts/{contact_id}")
    call("updateContact", "PATCH", f"/contacts/{contact_id}", json={"city": "London"})
    call("addGroupContacts", "POST", f"/groups/{group_id}/contacts", json={"contact_ids": [contact_id]})
    call("removeGroupContacts", "DELETE", f"/groups/{group_id}/contacts", json={"contact_ids": [contact_id]})
    batch = [{**person, "phone": f"1555000300{n}"} for n in range(3)]
    created = call("batchCreateContacts", "POST", "/contacts/batch", json={"contacts": batch})["data"][
        "created"
    ]
    call("batchDeleteContacts", "DELETE", "/contacts/batch", json={"ids": [c["id"] for c in created]})

    call(
        "sendTextMessage",
        "POST",
        "/messages/text",
        json={"phone": PHONE, "message": "Hi @{contact_first_name}"},
    )
    call(
        "sendTemplateMessage",
        "POST",
        "/messages/template",
        json={
            "phone": PHONE,
            "template_name": "order_shipped",
            "language": "en",
            "header_image_url": "https://example.com/box.jpg",
            "field_1": "A-1",
        },
    )
    call(
        "sendMediaMessage",
        "POST",
        "/messages/media",
        json={
            "phone": PHONE,
            "media_type": "image",
            "media_url": "https://example.com/a.jpg",
            "caption": "Look",
        },
    )
    call(
        "sendInteractiveMessage",
        "POST",
        "/messages/interactive",
        json={
            "phone": PHONE,
            "type": "button",
            "body_text": "Pick one",
            "buttons": [{"id": "y", "title": "Yes"}],
        },
    )
    message_id = call("listMessages", "GET", "/messages")["data"][0]["id"]
    call("getMessage", "GET", f"/messages/{message_id}")
    call("addComment", "POST", f"/comments/{PHONE}", json={"comment": "Called back"})
    call("getComments", "GET", f"/comments/{PHONE}")

    template_id = call("listTemplates", "GET", "/templates")["data"][0]["template_id"]
    call("getTemplate", "GET", f"/templates/{template_id}")
    call("syncTemplates", "POST", "/templates/sync")
    call("deleteContact", "DELETE", f"/contacts/{contact_id}")
    return walk.responses
