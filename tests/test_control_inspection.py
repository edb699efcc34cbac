"""The control calls the dashboard is built on, as a script would use them: the journal with
bodies (secrets masked) and refusals explained, the OTP inbox, tenants with tokens, the
operations, the state exported as a seed file, and a broken seed file on reset."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from mockserver.core import MockCore
from mockserver.transport import MockTransport
from tests.helpers import FULL_TOKEN, api_client

OTP = {"phone": "+1 555 000 7777", "code": "246810", "template_name": "otp_verification"}


def test_journal_with_bodies_masks_secrets_and_explains_refusals(
    client: httpx.Client, control: httpx.Client
) -> None:
    assert client.post("/auth/send-otp", json=OTP).status_code == 200
    refused = client.post("/contacts", json={"firstname": "Ada"})
    assert refused.status_code == 422
    plain = control.get("/requests").json()["requests"]
    assert "detail" not in plain[-1]  # the summary alone unless bodies are asked for
    entries = control.get("/requests", params={"bodies": "true"}).json()["requests"]
    sent, created = entries[-2], entries[-1]
    assert sent["detail"]["request"]["headers"]["authorization"] == "Bearer ••••"
    assert FULL_TOKEN not in json.dumps(entries)
    assert OTP["code"] not in sent["detail"]["request"]["body"]
    assert json.loads(sent["detail"]["request"]["body"])["phone"] == OTP["phone"]
    assert json.loads(created["detail"]["response"]["body"]) == refused.json()
    refusal = created["detail"]["refusal"]
    assert refusal["code"] == "VALIDATION_ERROR" and refusal["status"] == 422
    phone = next(f for f in refusal["fields"] if f["field"] == "phone")
    assert phone == {
        "field": "phone",
        "rule": "required",
        "message": "Phone number is required",
        "provenance": "documented (Create Contact)",
        "docs": "https://docs.app.wa.cr/create-contact-28559784e0",
    }
    assert sent["detail"]["refusal"] is None


def test_journal_filters(client: httpx.Client, control: httpx.Client) -> None:
    client.get("/account")
    client.get("/contacts")
    client.get("/nowhere")
    by_operation = control.get("/requests", params={"operation_id": "listContacts"}).json()["requests"]
    assert [e["operation_id"] for e in by_operation] == ["listContacts"]
    by_status = control.get("/requests", params={"status": 404}).json()["requests"]
    assert [e["path"] for e in by_status] == ["/api/v2/nowhere"]
    assert "detail" not in by_status[0]
    newest = control.get("/requests", params={"limit": 1}).json()["requests"]
    assert [e["path"] for e in newest] == ["/api/v2/nowhere"]
    one = control.get("/requests", params={"request_id": by_operation[0]["request_id"], "bodies": "1"})
    assert [e["operation_id"] for e in one.json()["requests"]] == ["listContacts"]
    assert one.json()["requests"][0]["detail"]["refusal"] is None
    assert control.get("/requests", params={"limit": 0}).status_code == 400


def test_otp_inbox_lists_every_otp_with_seconds_to_expiry(
    client: httpx.Client, control: httpx.Client
) -> None:
    assert control.get("/inbox").json() == {"otps": []}
    client.post("/auth/send-otp", json=OTP)
    [otp] = control.get("/inbox").json()["otps"]
    assert otp["tenant_id"] == 1 and otp["phone"] == "15550007777" and otp["code"] == OTP["code"]
    assert 595 <= otp["expires_in_seconds"] <= 600
    control.post("/clock", json={"tenant_id": 1, "advance_seconds": otp["expires_in_seconds"] + 1})
    assert control.get("/inbox", params={"tenant_id": 1}).json()["otps"][0]["expires_in_seconds"] == 0
    verify = client.post("/auth/verify", json={"phone": OTP["phone"], "code": OTP["code"]})
    assert verify.json()["error"]["code"] == "OTP_EXPIRED"
    assert control.get("/inbox", params={"tenant_id": 99}).status_code == 404


def test_tenants_list_their_tokens_and_the_operations_are_listed(control: httpx.Client) -> None:
    made = control.post("/tenants", json={"name": "Shop", "rate_limit_per_minute": 900}).json()
    tenants = control.get("/tenants").json()["tenants"]
    assert [t["name"] for t in tenants] == ["Demo Company", "Shop"]
    assert {"token": made["token"], "scopes": ["*"], "rate_limit_per_minute": 900} in tenants[1]["tokens"]
    operations = control.get("/operations").json()["operations"]
    assert {"operation_id": "createContact", "method": "POST", "path": "/contacts"} in operations


def test_export_is_a_seed_file_that_loads_back(
    core: MockCore, client: httpx.Client, control: httpx.Client, tmp_path: Path
) -> None:
    made = control.post("/tenants", json={"name": "Shop", "rate_limit_per_minute": 900}).json()
    with api_client(core, made["token"]) as shop:
        source = shop.post("/sources", json={"name": "Instagram"}).json()["data"]
        group = shop.post("/groups", json={"name": "VIP"}).json()["data"]
        contact = shop.post(
            "/contacts",
            json={
                "firstname": "Ada",
                "lastname": "Lovelace",
                "phone": "+44 20 7946 0000",
                "type": "customer",
                "source_id": source["id"],
                "status_id": made["default_status_id"],
            },
        ).json()["data"]
        shop.post(f"/groups/{group['id']}/contacts", json={"contact_ids": [contact["id"]]})
        before = shop.get(f"/contacts/{contact['id']}", params={"include": "source,status"}).json()["data"]
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(control.get("/export").json()))

    again = MockCore(fixtures=[str(seed)])
    with api_client(again, made["token"]) as shop:
        [after] = shop.get("/contacts").json()["data"]
        after = shop.get(f"/contacts/{after['id']}", params={"include": "source,status"}).json()["data"]
        groups = shop.get("/groups").json()["data"]
    assert after["firstname"] == "Ada" and after["phone"] == before["phone"]
    assert after["source"]["name"] == "Instagram" and after["status"]["name"] == before["status"]["name"]
    assert [g["name"] for g in groups] == ["VIP"] and after["group_id"] == [groups[0]["id"]]


def test_a_broken_seed_on_reset_is_a_one_line_json_error_and_keeps_the_state(tmp_path: Path) -> None:
    seed = tmp_path / "fixtures.yaml"
    seed.write_text("tenants:\n  - id: 1\n    contacts:\n      - {phone: '1555', type: customer}\n")
    core = MockCore(fixtures=[str(seed)])
    seed.write_text("tenants:\n  - id: 1\n    contacts:\n      - {phone: '1555', type: bogus}\n")
    with httpx.Client(transport=MockTransport(core), base_url="http://mock.test/__mock__") as control:
        answer = control.post("/reset")
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error.startswith("reset refused, the state is unchanged: a --seed file is not valid:")
    assert "tenants[0].contacts[0].type: 'bogus' is not one of" in error and "\n" not in error
    with api_client(core) as http:
        assert http.get("/contacts").json()["meta"]["total"] == 1
