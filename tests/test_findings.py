"""The control-API and security findings of the 2026-12-05 reliability review (ranks 9-12)."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from mockserver.asgi import MockApp, log_request
from mockserver.core import MockCore
from mockserver.http import CoreRequest
from tests.helpers import api_client, new_tenant

HUGE = int("9" * 401)  # 1e400 written as an integer: no float holds it


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/faults", {"operation_id": []}),
        ("/faults", {"operation_id": {}}),
        ("/clock", {"advance_seconds": HUGE}),
        ("/clock", {"advance_seconds": -HUGE}),
        ("/tenants", {"settings": {"x": json.loads("[" * 600 + "]" * 600)}}),
        ("/tenants", {"settings": {"campaigns": "abc"}}),
        ("/tenants", {"settings": {"default_source_id": "zzz"}}),
        ("/tenants", {"settings": {"whatsapp_configured": 1}}),
        ("/tenants", {"settings": {"staff": -1}}),
    ],
    ids=[
        "fault-list",
        "fault-object",
        "clock-huge",
        "clock-huge-negative",
        "settings-600-deep",
        "settings-campaigns-text",
        "settings-source-text",
        "settings-flag-number",
        "settings-negative-count",
    ],
)
def test_bad_control_inputs_get_a_400_in_json(control: httpx.Client, path: str, body: dict) -> None:
    answer = control.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/json" and answer.json()["error"]


def test_a_deep_settings_patch_is_refused_and_writes_keep_working(
    core: MockCore, control: httpx.Client, client: httpx.Client
) -> None:
    deep = json.dumps({"settings": {"x": json.loads("[" * 600 + "]" * 600)}})
    refused = control.patch("/tenants/1", content=deep, headers={"Content-Type": "application/json"})
    assert refused.status_code == 400
    assert client.post("/sources", json={"name": "Still saved"}).status_code == 201


def test_valid_settings_are_kept_and_used(control: httpx.Client, core: MockCore) -> None:
    tenant = new_tenant(control, settings={"campaigns": 3, "note": "any scalar", "ratio": 0.5})
    with api_client(core, tenant["token"]) as http:
        usage = http.get("/account/usage")
    assert usage.status_code == 200, usage.text
    assert control.get(f"/tenants/{tenant['tenant_id']}").json()["settings"]["note"] == "any scalar"


def test_a_clock_moved_back_never_asks_to_wait_a_day(control: httpx.Client, core: MockCore) -> None:
    tenant = new_tenant(control, rate_limit_per_minute=3)
    with api_client(core, tenant["token"]) as http:
        for _ in range(3):
            assert http.get("/account").status_code == 200
        assert http.get("/account").status_code == 429
        moved = control.post("/clock", json={"tenant_id": tenant["tenant_id"], "advance_seconds": -86400})
        assert moved.status_code == 200
        answer = http.get("/account")
    assert answer.status_code == 200 or int(answer.headers["Retry-After"]) <= 60, answer.headers


def test_a_401_names_the_bearer_scheme(core: MockCore) -> None:
    with api_client(core, "wrong") as http:
        answer = http.get("/account")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def asgi_get(app: MockApp, path: str, headers: dict[str, str], server=("127.0.0.1", 18080)) -> dict:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "scheme": "http",
        "server": server,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    asyncio.run(app(scope, receive, send))
    return json.loads(sent[1]["body"])


def test_links_come_from_the_bound_address_not_the_host_header() -> None:
    headers = {"host": "evil.example", "authorization": "Bearer wacr_test_full"}
    links = asgi_get(MockApp(MockCore()), "/api/v2/contacts", headers)["links"]
    assert links["first"].startswith("http://127.0.0.1:18080/api/v2/contacts?")
    public = MockApp(MockCore(), public_url="https://mock.example:8443/")
    assert asgi_get(public, "/api/v2/contacts", headers)["links"]["first"].startswith(
        "https://mock.example:8443/api/v2/contacts?"
    )


def test_debug_logs_hold_no_tokens_or_otp_codes(caplog) -> None:
    """The adapter's request log, at debug, as ``wacr-mock --log-level debug`` writes it."""
    core = MockCore()
    loopback = {"host": "127.0.0.1", "content-type": "application/json"}

    def call(method: str, path: str, body: dict | None = None, query: str = "", **headers: str) -> dict:
        request = CoreRequest(method, path, query, {**loopback, **headers}, json.dumps(body or {}).encode())
        response = core.handle(request)
        log_request(core, request, response, 0.001)
        return response.body

    with caplog.at_level(logging.DEBUG, logger="wacr-mock"):
        token = call("POST", "/__mock__/tenants")["token"]
        bearer = {"authorization": f"Bearer {token}"}
        otp = {"phone": "15550007777", "template_name": "otp_verification", "code": "246810"}
        assert call("POST", "/api/v2/auth/send-otp", otp, **bearer)["success"] is True
        call("GET", "/api/v2/account", query=f"access_token={token}")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "response body" in text and "request body" in text and "access_token=***" in text
    assert token not in text and "246810" not in text
