"""Every contact's source and status exist, so ``include=source`` / ``include=status`` always give the object.

schemathesis once found ``GET /contacts/{id}?include=source,groups,source`` answering ``"source": null``:
a send auto-created the contact with the tenant's default source after that source had been deleted (no
contact used it, so D13 let it go). Auto-creation now needs a default that still exists.
"""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import api_client, new_tenant

NEW_PHONE = "+919000007001"
COLLECTIONS = [("sources", "source", "default_source_id"), ("statuses", "status", "default_status_id")]


def contacts_of(api: httpx.Client) -> list[dict]:
    return api.get("/contacts", params={"include": "source,status"}).json()["data"]


@pytest.mark.parametrize(("collection", "relation", "default"), COLLECTIONS)
def test_a_send_after_its_default_was_deleted_creates_no_dangling_contact(
    core, control: httpx.Client, collection: str, relation: str, default: str
) -> None:
    tenant = new_tenant(control)
    api = api_client(core, tenant["token"])
    assert api.delete(f"/{collection}/{tenant[default]}").status_code == 200

    sent = api.post("/messages/text", json={"phone": NEW_PHONE, "message": "hi"})

    assert sent.status_code == 422, sent.text
    assert list(sent.json()["error"]["details"]) == ["phone"]
    assert contacts_of(api) == [], "a refused send leaves no contact behind"


@pytest.mark.parametrize(("collection", "relation", "default"), COLLECTIONS)
def test_a_source_or_status_in_use_stays_and_is_included(
    core, control: httpx.Client, collection: str, relation: str, default: str
) -> None:
    tenant = new_tenant(control)
    api = api_client(core, tenant["token"])
    sent = api.post("/messages/text", json={"phone": NEW_PHONE, "message": "hi"})
    assert sent.status_code == 200, sent.text
    contact_id = sent.json()["data"]["contact_id"]

    refused = api.delete(f"/{collection}/{tenant[default]}")
    answer = api.get(f"/contacts/{contact_id}", params={"include": f"{relation},groups,{relation}"})

    assert refused.status_code == 422 and list(refused.json()["error"]["details"]) == ["id"]
    assert answer.status_code == 200
    assert answer.json()["data"][relation]["id"] == tenant[default]


def test_a_send_with_the_defaults_in_place_still_auto_creates(core, control: httpx.Client) -> None:
    tenant = new_tenant(control)
    api = api_client(core, tenant["token"])
    other = api.post("/sources", json={"name": "Walk-in"}).json()["data"]
    assert api.delete(f"/sources/{other['id']}").status_code == 200  # not the default: no effect on sends

    sent = api.post("/messages/text", json={"phone": NEW_PHONE, "message": "hi"})

    assert sent.status_code == 200, sent.text
    [contact] = contacts_of(api)
    assert (contact["source"]["id"], contact["status"]["id"]) == (
        tenant["default_source_id"],
        tenant["default_status_id"],
    )
