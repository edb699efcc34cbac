"""D16 (docs/decisions.md): null, "", whitespace, [] and {} are empty, in JSON and form bodies.

An empty required field fails ``required`` alone; an empty optional field is a field not sent.
"""

from __future__ import annotations

import httpx
import pytest

from mockserver.spec import Spec

EMPTIES = [None, "", "   ", "\t\n", [], {}]
BOUNDARY = "empty-values-boundary"


def required_message(spec: Spec, operation_id: str, path: str) -> str:
    """The required message of a body field; ``path`` may be dotted (``buttons.title``)."""
    *parents, name = path.split(".")
    fields = spec.operation(operation_id).body_fields
    for parent in parents:
        fields = {f.name: f for f in (fields[parent].item_obj or fields[parent].obj).fields}
    return fields[name].messages["required"]


def details(response: httpx.Response) -> dict:
    assert response.status_code == 422, response.text
    return response.json()["error"]["details"]


def defaults(client: httpx.Client) -> dict:
    return {
        "source_id": client.get("/sources").json()["data"][0]["id"],
        "status_id": client.get("/statuses").json()["data"][0]["id"],
    }


@pytest.mark.parametrize("empty", EMPTIES, ids=repr)
def test_an_empty_required_field_fails_required_alone(client: httpx.Client, spec: Spec, empty) -> None:
    assert details(client.post("/sources", json={"name": empty})) == {
        "name": [required_message(spec, "createSource", "name")]
    }


@pytest.mark.parametrize("empty", ["", " "], ids=repr)
def test_an_empty_phone_breaks_no_length_or_pattern_rule(
    client: httpx.Client, spec: Spec, empty: str
) -> None:
    body = {"phone": empty, "code": "123456", "template_name": "otp_verification"}
    assert details(client.post("/auth/send-otp", json=body)) == {
        "phone": [required_message(spec, "sendOtp", "phone")]
    }


@pytest.mark.parametrize("empty", EMPTIES, ids=repr)
def test_an_empty_optional_field_is_not_sent(client: httpx.Client, empty) -> None:
    body = {
        "firstname": "Ann",
        "lastname": "Lee",
        "phone": "+919000002001",
        "type": "lead",
        **defaults(client),
    }
    created = client.post("/contacts", json={**body, "email": empty, "company": empty, "groups": empty})
    assert created.status_code == 201, created.text
    contact = created.json()["data"]
    assert (contact["email"], contact["company"], contact["group_id"]) == (None, None, [])


def test_an_empty_optional_field_on_update_changes_nothing(client: httpx.Client) -> None:
    body = {
        "firstname": "Ann",
        "lastname": "Lee",
        "phone": "+919000002101",
        "type": "lead",
        "company": "Acme",
        "email": "ann@example.com",
        **defaults(client),
    }
    contact = client.post("/contacts", json=body).json()["data"]
    answer = client.patch(f"/contacts/{contact['id']}", json={"company": "", "email": None, "type": " "})
    assert answer.status_code == 200, answer.text
    after = answer.json()["data"]
    assert (after["company"], after["email"], after["type"]) == ("Acme", "ann@example.com", "lead")


def test_an_empty_status_colour_on_update_keeps_it(client: httpx.Client) -> None:
    status = client.post("/statuses", json={"name": "Hot", "color": "#FF5733"}).json()["data"]
    answer = client.patch(f"/statuses/{status['id']}", json={"name": "Hot", "color": ""})
    assert answer.status_code == 200 and answer.json()["data"]["color"] == "#FF5733"


@pytest.mark.parametrize("empty", ["", None, "  "], ids=repr)
def test_nested_fields_follow_the_same_rule(client: httpx.Client, spec: Spec, empty) -> None:
    body = {
        "phone": "+919000002201",
        "type": "button",
        "body_text": "Pick",
        "buttons": [{"id": "a", "title": empty}],
        "header_text": empty,
    }
    assert details(client.post("/messages/interactive", json=body)) == {
        "buttons.0.title": [required_message(spec, "sendInteractiveMessage", "buttons.title")]
    }


@pytest.mark.parametrize("empty", [[], None, ""], ids=repr)
def test_required_if_counts_an_empty_value_as_missing(client: httpx.Client, spec: Spec, empty) -> None:
    body = {"phone": "+919000002301", "type": "button", "body_text": "Pick", "buttons": empty}
    assert details(client.post("/messages/interactive", json=body)) == {
        "buttons": [required_message(spec, "sendInteractiveMessage", "buttons")]
    }


def test_batch_items_follow_the_same_rule(client: httpx.Client, spec: Spec) -> None:
    item = {"firstname": "Bo", "lastname": "Day", "type": "lead", **defaults(client)}
    items = [{**item, "phone": ""}, {**item, "phone": "+919000002401", "email": "  "}]
    answer = client.post("/contacts/batch", json={"contacts": items})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["errors"] == [
        {"index": 0, "errors": {"phone": [required_message(spec, "batchCreateContacts", "contacts.phone")]}}
    ]
    assert [c["email"] for c in data["created"]] == [None]


def test_an_empty_batch_is_required(client: httpx.Client, spec: Spec) -> None:
    assert details(client.post("/contacts/batch", json={"contacts": []})) == {
        "contacts": [required_message(spec, "batchCreateContacts", "contacts")]
    }


def test_empty_options_take_the_defaults(client: httpx.Client) -> None:
    item = {
        "firstname": "Bo",
        "lastname": "Day",
        "type": "lead",
        "phone": "+919000002501",
        **defaults(client),
    }
    answer = client.post("/contacts/batch", json={"contacts": [item], "options": {}})
    assert answer.status_code == 200 and answer.json()["data"]["summary"]["created"] == 1


def form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    chunks = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"
    }


def test_form_bodies_follow_the_same_rule(client: httpx.Client, spec: Spec) -> None:
    body, headers = form(
        {
            "phone": " ",
            "media_type": "image",
            "media_url": "https://example.com/a.jpg",
            "caption": "",
            "contact_id": "",
        }
    )
    assert details(client.post("/messages/media", content=body, headers=headers)) == {
        "phone": [required_message(spec, "sendMediaMessage", "phone")]
    }
    body, headers = form(
        {
            "phone": "+919000002601",
            "media_type": "image",
            "media_url": "https://example.com/a.jpg",
            "caption": "",
            "filename": " ",
        }
    )
    sent = client.post("/messages/media", content=body, headers=headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["data"]["caption"] is None


def test_required_without_counts_an_empty_value_as_missing(client: httpx.Client) -> None:
    missing = client.post("/messages/media", json={"phone": "+919000002701", "media_type": "image"})
    empty = client.post(
        "/messages/media", json={"phone": "+919000002701", "media_type": "image", "media_url": ""}
    )
    assert details(empty) == details(missing) and "media_url" in details(empty)
