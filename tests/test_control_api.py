"""The control API under ``/__mock__`` (D14 and the mock's own calls), in process.

Every call: its happy path, then its 400 (malformed call) and 404 (unknown tenant, contact, OTP) answers.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import yaml

from mockserver.core import ControlSettings, MockCore
from mockserver.transport import MockTransport
from tests.helpers import PROJECT, api_client, new_tenant

MOMENT = "2030-01-02T03:04:05+00:00"


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def seconds_from_wall(stamp: str) -> float:
    return abs(parse(stamp).timestamp() - time.time())


def assert_refused(response: httpx.Response, status: int, says: str) -> None:
    """Control errors are plain JSON ``{"error": "..."}`` with the status D14 gives."""
    assert response.status_code == status, response.text
    assert says in response.json()["error"]


# --- health, reset, routing ------------------------------------------------------------------


def test_health(core: MockCore, control: httpx.Client) -> None:
    assert control.get("/health").json() == {
        "status": "ok",
        "operations": len(core.spec.operations),
        "variants": [],
    }


def test_reset_returns_to_the_seed(core: MockCore, control: httpx.Client, client: httpx.Client) -> None:
    source_id = client.post("/sources", json={"name": "Temporary"}).json()["data"]["id"]
    tenant = new_tenant(control)
    control.post("/faults", json={"operation_id": "getAccount", "status": 500})
    assert control.post("/reset").json() == {"status": "reset"}
    assert control.get("/requests").json() == {"requests": []}
    assert control.get("/faults").json() == {"faults": {}}
    assert client.get(f"/sources/{source_id}").status_code == 404
    assert control.get(f"/tenants/{tenant['tenant_id']}").status_code == 404
    with api_client(core, tenant["token"]) as gone:
        assert gone.get("/account").status_code == 401
    assert client.get("/account").status_code == 200


def test_unknown_call_is_404_and_wrong_method_405(control: httpx.Client) -> None:
    assert_refused(control.get("/nothing-here"), 404, "no control call GET")
    wrong = control.delete("/clock")
    assert_refused(wrong, 405, "use")
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "POST"}


def control_client(core: MockCore) -> httpx.Client:
    return httpx.Client(transport=MockTransport(core), base_url="http://mock.test/__mock__")


def test_admin_secret_and_no_control() -> None:
    guarded = control_client(MockCore(control=ControlSettings(admin_secret="s3cret")))
    assert_refused(guarded.get("/health"), 403, "X-Mock-Admin-Secret")
    assert guarded.get("/health", headers={"X-Mock-Admin-Secret": "s3cret"}).status_code == 200
    assert_refused(
        guarded.get("/health", headers={"X-Mock-Admin-Secret": "wrong"}), 403, "X-Mock-Admin-Secret"
    )
    off = control_client(MockCore(control=ControlSettings(enabled=False, admin_secret="s3cret")))
    assert_refused(off.get("/health", headers={"X-Mock-Admin-Secret": "s3cret"}), 404, "turned off")


def test_control_answers_browsers_only_from_loopback_or_listed_origins() -> None:
    """A page from elsewhere must not change the mock behind its user's back (CSRF); curl sends no Origin."""
    settings = ControlSettings(origins=frozenset({"https://app.example"}))
    http = control_client(MockCore(control=settings))
    assert http.post("/reset").status_code == 200
    for allowed in (
        "http://localhost:5173",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
        "https://app.example",
    ):
        assert http.post("/reset", headers={"Origin": allowed}).status_code == 200, allowed
    for refused in ("https://evil.example", "http://localhost.evil.example", "null"):
        assert_refused(http.post("/reset", headers={"Origin": refused}), 403, "does not answer pages from")


def test_control_answers_only_listed_host_names() -> None:
    """Bound to loopback, the control API refuses a Host a rebinding DNS name would send."""
    settings = ControlSettings(hosts=frozenset({"127.0.0.1", "localhost"}))
    local = httpx.Client(
        transport=MockTransport(MockCore(control=settings)), base_url="http://127.0.0.1:4010/__mock__"
    )
    assert local.get("/health").status_code == 200
    assert local.get("/health", headers={"Host": "localhost:4010"}).status_code == 200
    assert_refused(
        local.get("/health", headers={"Host": "rebound.example:4010"}), 403, "answers only to Host"
    )


# --- tenants and tokens ------------------------------------------------------------------------


def test_new_tenant_with_defaults(core: MockCore, control: httpx.Client) -> None:
    """A new tenant: full-scope token, 60/min, one default source and status, the D14 templates."""
    tenant = new_tenant(control)
    assert set(tenant) == {"tenant_id", "token", "default_source_id", "default_status_id"}
    with api_client(core, tenant["token"]) as http:
        account = http.get("/account")
        assert account.json()["data"]["id"] == tenant["tenant_id"]
        assert account.headers["X-RateLimit-Limit"] == "60"
        assert [s["id"] for s in http.get("/sources").json()["data"]] == [tenant["default_source_id"]]
        assert [s["id"] for s in http.get("/statuses").json()["data"]] == [tenant["default_status_id"]]
        templates = {
            (t["template_name"], t["category"], t["status"]) for t in http.get("/templates").json()["data"]
        }
    assert ("otp_verification", "AUTHENTICATION", "APPROVED") in templates
    assert {("APPROVED", "MARKETING"), ("PENDING", "AUTHENTICATION")} <= {(s, c) for _, c, s in templates}
    assert "REJECTED" in {s for _, _, s in templates}


def test_new_tenant_with_options(core: MockCore, control: httpx.Client) -> None:
    tenant = new_tenant(
        control,
        name="Options Ltd",
        scopes=["account:read"],
        rate_limit_per_minute=7,
        limits={"contacts": 3},
        features={"chatbot": True},
        settings={"staff": 4},
    )
    with api_client(core, tenant["token"]) as http:
        account = http.get("/account")
        assert account.json()["data"]["name"] == "Options Ltd"
        assert account.headers["X-RateLimit-Limit"] == "7"
        limits = http.get("/account/limits").json()["data"]
        assert limits["limits"]["contacts"]["limit"] == 3 and limits["features"]["chatbot"] is True
        assert http.get("/account/usage").json()["data"]["staff"]["current"] == 4
        assert http.get("/sources").status_code == 403  # only the scopes given


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"scopes": "contacts:read"}', "scopes must be a list of strings"),
        (b'{"scopes": [1]}', "scopes must be a list of strings"),
        (b'{"rate_limit_per_minute": 0}', "rate_limit_per_minute must be at least 1"),
        (b'{"rate_limit_per_minute": "fast"}', "rate_limit_per_minute must be an integer"),
        (b'{"rate_limit_per_minute": true}', "rate_limit_per_minute must be an integer"),
        (b'{"limits": [1]}', "limits must be an object"),
        (b'{"limits": {"contacts": "many"}}', "limits.contacts must be an integer"),
        (b'{"limits": {"contacts": -2}}', "limits.contacts must be at least -1"),
        (b'{"limits": {"contacts": 1e400}}', "the body holds a number too large to read: 1e400"),
        (b'{"limits": {"contacts": NaN}}', "NaN is not a number"),
        (b'{"limits": {"contacts": 2.5}}', "limits.contacts must be an integer"),
        (
            b'{"limits": {"contacts": 1000000000000000000000}}',
            "limits.contacts must be at most 999999999999999999",
        ),
        (b'{"features": {"chatbot": "yes"}}', "features.chatbot must be true or false"),
        (b'{"name": ""}', "name must be a non-empty string"),
        (b'{"name": 7}', "name must be a non-empty string"),
        (b'{"rate_limit_per_minute": "99999999999999999999999"}', "rate_limit_per_minute must be an integer"),
    ],
)
def test_new_tenant_refuses_malformed_calls(control: httpx.Client, body: bytes, says: str) -> None:
    assert_refused(
        control.post("/tenants", content=body, headers={"Content-Type": "application/json"}), 400, says
    )


def test_describe_and_change_a_tenant(control: httpx.Client) -> None:
    tenant_id = new_tenant(control)["tenant_id"]
    described = control.get(f"/tenants/{tenant_id}").json()
    assert described["tenant_id"] == tenant_id and described["counts"]["sources"] == 1
    changed = control.patch(
        f"/tenants/{tenant_id}", json={"settings": {"staff": 3}, "limits": {"contacts": 9}}
    )
    assert changed.status_code == 200
    assert changed.json()["settings"]["staff"] == 3 and changed.json()["limits"]["contacts"] == 9


def test_replacing_whatsapp_templates_drives_sync(core: MockCore, control: httpx.Client) -> None:
    """PATCH ``whatsapp_templates`` changes the simulated WhatsApp account; Sync Templates mirrors it."""
    tenant = new_tenant(control)
    only = {
        "template_id": "42",
        "template_name": "hello",
        "category": "UTILITY",
        "status": "APPROVED",
        "body": "Hi {{1}}",
    }
    assert (
        control.patch(f"/tenants/{tenant['tenant_id']}", json={"whatsapp_templates": [only]}).status_code
        == 200
    )
    with api_client(core, tenant["token"]) as http:
        summary = http.post("/templates/sync").json()["data"]
        assert summary == {"total": 1, "created": 1, "updated": 0, "deleted": 5}
        assert [t["template_name"] for t in http.get("/templates").json()["data"]] == ["hello"]


@pytest.mark.parametrize(
    "templates",
    [
        {"template_id": "1"},
        [{"template_id": "1"}],
        [{"template_id": "1", "template_name": "x", "category": "UTILITY", "status": "APPROVED", "body": 5}],
    ],
    ids=["not-a-list", "missing-keys", "body-not-text"],
)
def test_change_tenant_refuses_malformed_templates(control: httpx.Client, templates) -> None:
    tenant_id = new_tenant(control)["tenant_id"]
    response = control.patch(f"/tenants/{tenant_id}", json={"whatsapp_templates": templates})
    assert response.status_code == 400 and response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/tenants/999"), ("PATCH", "/tenants/999"), ("POST", "/tenants/999/tokens")],
)
def test_unknown_tenant_is_404(control: httpx.Client, method: str, path: str) -> None:
    assert_refused(control.request(method, path, json={}), 404, "no tenant 999")


def test_non_numeric_tenant_id_is_400(control: httpx.Client) -> None:
    assert_refused(control.get("/tenants/abc"), 400, "tenant_id must be an integer")


def test_new_token_belongs_to_the_tenant(core: MockCore, control: httpx.Client) -> None:
    tenant = new_tenant(control)
    answer = control.post(
        f"/tenants/{tenant['tenant_id']}/tokens",
        json={"scopes": ["sources:read"], "rate_limit_per_minute": 5},
    )
    assert answer.status_code == 200
    extra = answer.json()
    assert extra["tenant_id"] == tenant["tenant_id"] and extra["scopes"] == ["sources:read"]
    assert extra["token"] != tenant["token"]
    with api_client(core, extra["token"]) as http:
        listed = http.get("/sources")
        assert [s["id"] for s in listed.json()["data"]] == [tenant["default_source_id"]]
        assert listed.headers["X-RateLimit-Limit"] == "5"
        assert http.post("/sources", json={"name": "x"}).status_code == 403
    assert_refused(
        control.post(f"/tenants/{tenant['tenant_id']}/tokens", json={"scopes": "*"}), 400, "scopes"
    )


# --- clocks ---------------------------------------------------------------------------------------


def clock(control: httpx.Client, tenant_id: int | None = None) -> dict:
    params = {"tenant_id": tenant_id} if tenant_id is not None else {}
    response = control.get("/clock", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def move(control: httpx.Client, **body) -> dict:
    response = control.post("/clock", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_clocks_start_at_wall_time_running(control: httpx.Client) -> None:
    tenant_id = new_tenant(control)["tenant_id"]
    for reading in (clock(control), clock(control, tenant_id)):
        assert reading["frozen"] is False and seconds_from_wall(reading["now"]) < 5


def test_freeze_set_advance_and_unfreeze(control: httpx.Client) -> None:
    """Frozen clocks stand still; set and advance move them exactly; unfreezing runs on from there."""
    tenant_id = new_tenant(control)["tenant_id"]
    assert move(control, tenant_id=tenant_id, now=MOMENT, freeze=True) == {"now": MOMENT, "frozen": True}
    assert clock(control, tenant_id) == {"now": MOMENT, "frozen": True}
    advanced = move(control, tenant_id=tenant_id, advance_seconds=3600)
    assert advanced == {"now": "2030-01-02T04:04:05+00:00", "frozen": True}
    running = move(control, tenant_id=tenant_id, freeze=False)
    assert running["frozen"] is False
    assert abs(parse(running["now"]) - parse("2030-01-02T04:04:05+00:00")) < timedelta(seconds=5)


def test_moving_a_running_clock_does_not_freeze_it(control: httpx.Client) -> None:
    tenant_id = new_tenant(control)["tenant_id"]
    moved = move(control, tenant_id=tenant_id, advance_seconds=86_400)
    assert moved["frozen"] is False
    assert abs(parse(moved["now"]) - datetime.now(timezone.utc) - timedelta(days=1)) < timedelta(seconds=5)
    assert move(control, tenant_id=tenant_id, now="2031-05-05T00:00:00Z")["frozen"] is False


def test_tenant_clock_drives_its_timestamps(core: MockCore, control: httpx.Client) -> None:
    tenant = new_tenant(control)
    move(control, tenant_id=tenant["tenant_id"], now=MOMENT, freeze=True)
    with api_client(core, tenant["token"]) as http:
        created = http.post("/sources", json={"name": "Stamped"}).json()
    assert created["data"]["created_at"] == MOMENT and created["meta"]["timestamp"] == MOMENT


def test_tenant_clocks_are_independent(control: httpx.Client) -> None:
    """Moving one tenant's clock leaves other tenants and the default clock alone."""
    moved, other = new_tenant(control)["tenant_id"], new_tenant(control)["tenant_id"]
    move(control, tenant_id=moved, now=MOMENT, freeze=True)
    assert clock(control, other)["frozen"] is False and seconds_from_wall(clock(control, other)["now"]) < 5
    assert seconds_from_wall(clock(control)["now"]) < 5


def test_default_clock_moves_tenants_without_their_own(control: httpx.Client) -> None:
    """Tenants follow the default clock until their own is set; reading does not give a tenant its own."""
    follower, independent = new_tenant(control)["tenant_id"], new_tenant(control)["tenant_id"]
    move(control, tenant_id=independent, freeze=True)
    clock(control, follower)  # a read must not detach the follower
    move(control, now=MOMENT, freeze=True)
    assert clock(control) == {"now": MOMENT, "frozen": True}
    assert clock(control, follower) == {"now": MOMENT, "frozen": True}
    assert clock(control, independent)["now"] != MOMENT


def test_reset_returns_every_clock_to_wall_time(control: httpx.Client) -> None:
    tenant_id = new_tenant(control)["tenant_id"]
    move(control, now=MOMENT, freeze=True)
    move(control, tenant_id=tenant_id, advance_seconds=-86_400)
    control.post("/reset")
    reading = clock(control)
    assert reading["frozen"] is False and seconds_from_wall(reading["now"]) < 5
    assert clock(control, 1)["frozen"] is False


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"advance_seconds": 5, "now": MOMENT}, "exclude each other"),
        ({}, "give one of"),
        ({"tenant_id": None}, "give one of"),
        ({"advance_seconds": "5"}, "advance_seconds must be a number"),
        ({"advance_seconds": True}, "advance_seconds must be a number"),
        ({"now": "next tuesday"}, "now must be an ISO 8601 timestamp"),
        ({"freeze": "yes"}, "freeze must be true or false"),
        ({"tenant_id": "x", "freeze": True}, "tenant_id must be an integer"),
        ({"now": "99999-01-01T00:00:00Z"}, "now must be an ISO 8601 timestamp"),
        ({"now": "1969-12-31T23:59:59Z"}, "outside 1970-01-01 .. 9998-12-31"),
        ({"now": "9999-12-31T23:59:59Z"}, "outside 1970-01-01 .. 9998-12-31"),
        ({"advance_seconds": 1e300}, "advance_seconds must be at most 253370764799"),
        ({"advance_seconds": -1e12}, "advance_seconds must be at least -253370764799"),
        ({"advance_seconds": -86_400 * 365 * 100}, "outside 1970-01-01 .. 9998-12-31"),
    ],
)
def test_move_clock_refuses_malformed_calls(control: httpx.Client, body: dict, says: str) -> None:
    assert_refused(control.post("/clock", json=body), 400, says)


def test_clock_calls_refuse_unknown_tenants_and_bad_json(control: httpx.Client) -> None:
    assert_refused(control.get("/clock", params={"tenant_id": 999}), 404, "no tenant")
    assert_refused(control.post("/clock", json={"tenant_id": 999, "freeze": True}), 404, "no tenant")
    assert_refused(
        control.post("/clock", content=b"{", headers={"Content-Type": "application/json"}), 400, "JSON"
    )


# --- contacts and OTPs -----------------------------------------------------------------------------


def test_opt_a_contact_out_and_back_in(core: MockCore, control: httpx.Client) -> None:
    tenant = new_tenant(control)
    with api_client(core, tenant["token"]) as http:
        contact = http.post(
            "/contacts",
            json={
                "firstname": "O",
                "lastname": "Out",
                "phone": "15550009999",
                "type": "lead",
                "source_id": tenant["default_source_id"],
                "status_id": tenant["default_status_id"],
            },
        ).json()["data"]
        flagged = control.patch(f"/contacts/{contact['id']}", json={"is_opted_out": True})
        assert flagged.status_code == 200
        contact.pop(
            "groups"
        )  # Create answers with its groups; the control call with the bare Contact resource
        assert flagged.json() == {**contact, "is_opted_out": True}
        refused = http.post("/messages/text", json={"phone": "15550009999", "message": "Hi"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "CONTACT_OPTED_OUT"
        assert (
            control.patch(f"/contacts/{contact['id']}", json={"is_opted_out": False}).json()["is_opted_out"]
            is False
        )
        assert http.post("/messages/text", json={"phone": "15550009999", "message": "Hi"}).status_code == 200


def test_opt_out_refuses_malformed_calls(control: httpx.Client, client: httpx.Client) -> None:
    assert_refused(control.patch("/contacts/99999", json={"is_opted_out": True}), 404, "no contact 99999")
    assert_refused(control.patch("/contacts/abc", json={"is_opted_out": True}), 400, "id must be an integer")
    contact_id = client.post(
        "/contacts",
        json={
            "firstname": "A",
            "lastname": "B",
            "phone": "15550008888",
            "type": "lead",
            "source_id": 1,
            "status_id": 1,
        },
    ).json()["data"]["id"]
    assert_refused(
        control.patch(f"/contacts/{contact_id}", json={"is_opted_out": "yes"}), 400, "is_opted_out"
    )
    assert_refused(control.patch(f"/contacts/{contact_id}", json={}), 400, "is_opted_out")


def test_peek_at_a_stored_otp(core: MockCore, control: httpx.Client) -> None:
    """The stored OTP, code included, found under any spelling of the phone (D9)."""
    tenant = new_tenant(control)
    with api_client(core, tenant["token"]) as http:
        sent = http.post(
            "/auth/send-otp",
            json={
                "phone": "+1 555 000 7777",
                "template_name": "otp_verification",
                "code": "246810",
                "purpose": "login",
            },
        )
        assert sent.status_code == 200, sent.text
    otp = control.get(
        "/otps", params={"tenant_id": tenant["tenant_id"], "phone": "15550007777", "purpose": "login"}
    )
    assert otp.status_code == 200
    assert otp.json() | {"created_at": None, "expires_at": None} == {
        "phone": "15550007777",
        "purpose": "login",
        "code": "246810",
        "verification_attempts": 0,
        "max_attempts": 5,
        "created_at": None,
        "expires_at": None,
    }
    assert_refused(
        control.get("/otps", params={"tenant_id": tenant["tenant_id"], "phone": "15550007777"}), 404, "no OTP"
    )


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"phone": "15550007777"}, 400, "tenant_id and phone are required"),
        ({"tenant_id": 1}, 400, "tenant_id and phone are required"),
        ({"tenant_id": 999, "phone": "15550007777"}, 404, "no tenant"),
        ({"tenant_id": "one", "phone": "15550007777"}, 400, "tenant_id must be an integer"),
    ],
)
def test_peek_otp_refuses_malformed_calls(
    control: httpx.Client, params: dict, status: int, says: str
) -> None:
    assert_refused(control.get("/otps", params=params), status, says)


# --- journal ----------------------------------------------------------------------------------


def test_journal_lists_requests_newest_last(
    core: MockCore, control: httpx.Client, client: httpx.Client
) -> None:
    tenant = new_tenant(control)
    client.get("/account")
    client.get("/sources", params={"per_page": 2})
    with api_client(core, tenant["token"]) as other:
        other.post("/sources", json={})
    client.get("/nowhere")
    entries = control.get("/requests").json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/api/v2/account", 200),
        ("GET", "/api/v2/sources", 200),
        ("POST", "/api/v2/sources", 422),
        ("GET", "/api/v2/nowhere", 404),
    ]
    assert entries[1]["query"] == "per_page=2" and entries[1]["operation_id"] == "listSources"
    assert entries[2]["tenant_id"] == tenant["tenant_id"] and entries[3]["operation_id"] is None
    assert all(e["request_id"] for e in entries)
    only = control.get("/requests", params={"tenant_id": tenant["tenant_id"]}).json()["requests"]
    assert [e["operation_id"] for e in only] == ["createSource"]
    assert_refused(control.get("/requests", params={"tenant_id": "x"}), 400, "tenant_id must be an integer")


# --- faults ----------------------------------------------------------------------------------------


def test_status_fault_for_a_number_of_calls(control: httpx.Client, client: httpx.Client) -> None:
    """A fault with ``times`` answers its status that many times, then the operation works again."""
    added = control.post("/faults", json={"operation_id": "listSources", "status": 503, "times": 2})
    assert added.json() == {"operation_id": "listSources", "status": 503, "times": 2}
    assert control.get("/faults").json()["faults"]["listSources"]["status"] == 503
    for _ in range(2):
        failed = client.get("/sources")
        assert failed.status_code == 503
        assert failed.json()["error"] == {"code": "INTERNAL_ERROR", "message": "Injected fault"}
        assert failed.headers["X-Mock-Fault"] == "injected"  # and --validate-responses lets it through
    assert client.get("/sources").status_code == 200
    assert control.get("/faults").json() == {"faults": {}}


def test_fault_with_its_own_code_and_message_until_cleared(
    control: httpx.Client, client: httpx.Client
) -> None:
    control.post(
        "/faults", json={"operation_id": "getAccount", "status": 429, "code": "SLOW_DOWN", "message": "Busy"}
    )
    for _ in range(3):
        answer = client.get("/account")
        assert answer.status_code == 429 and answer.json()["error"]["code"] == "SLOW_DOWN"
    assert client.get("/sources").status_code == 200  # other operations are untouched
    assert control.delete("/faults").json() == {"faults": {}}
    assert client.get("/account").status_code == 200


def test_delay_fault_slows_the_answer(control: httpx.Client, client: httpx.Client) -> None:
    control.post("/faults", json={"operation_id": "getAccount", "delay_ms": 150, "times": 1})
    started = time.perf_counter()
    assert client.get("/account").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_faults_apply_after_authentication(control: httpx.Client, core: MockCore) -> None:
    control.post("/faults", json={"operation_id": "getAccount", "status": 500})
    with api_client(core, token=None) as anonymous:
        assert anonymous.get("/account").status_code == 401


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"status": 500}, "operation_id is required"),
        ({"operation_id": "noSuchThing", "status": 500}, "operation_id must be one of"),
        ({"operation_id": "getAccount"}, "needs status or delay_ms"),
        ({"operation_id": "getAccount", "status": 200}, "status must be at least 400"),
        ({"operation_id": "getAccount", "status": 600}, "status must be at most 599"),
        ({"operation_id": "getAccount", "delay_ms": 60_001}, "delay_ms must be at most 60000"),
        ({"operation_id": "getAccount", "status": "500"}, "status must be an integer"),
        ({"operation_id": "getAccount", "delay_ms": -1}, "delay_ms must be at least 0"),
        ({"operation_id": "getAccount", "status": 500, "times": 0}, "times must be at least 1"),
    ],
)
def test_add_fault_refuses_malformed_calls(control: httpx.Client, body: dict, says: str) -> None:
    assert_refused(control.post("/faults", json=body), 400, says)
    assert control.get("/faults").json() == {"faults": {}}


# --- every body as docs/control-api.yaml describes it -------------------------------------------------

# The least body each call accepts, so one wrong field is the only thing wrong with it.
LEAST_BODY = {
    "moveClock": {"freeze": False},
    "setOptOut": {"is_opted_out": False},
    "addFault": {"operation_id": "getAccount", "delay_ms": 0},
}
# A value of another JSON type than the field's (the first one its schema does not allow).
OTHER_VALUES = ("text", 12, 1.5, True, ["x"], {"a": 1}, None)
TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def documented_fields() -> list[tuple[str, str, str, str, object]]:
    """(operationId, method, path, field, a value of the wrong type) for every typed body field."""
    document = yaml.safe_load((PROJECT / "docs" / "control-api.yaml").read_text())
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            for name, field in body["properties"].items():
                field = schemas[field["$ref"].rsplit("/", 1)[-1]] if "$ref" in field else field
                kinds = field.get("type")
                if kinds is None:
                    continue
                kinds = [kinds] if isinstance(kinds, str) else kinds
                wrong = next(v for v in OTHER_VALUES if not any(TYPE_CHECKS[k](v) for k in kinds))
                url = path.removeprefix("/__mock__").replace("{id}", "1")
                found.append((operation["operationId"], method.upper(), url, name, wrong))
    return found


@pytest.mark.parametrize(
    ("operation_id", "method", "path", "field", "wrong"),
    documented_fields(),
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_every_documented_body_field_is_checked_before_the_call(
    control: httpx.Client, operation_id: str, method: str, path: str, field: str, wrong: object
) -> None:
    """docs/control-api.yaml is the check: a field of the wrong type is a 400 naming it, in one line,
    and the call does not run (no tenant, fault or clock change)."""
    before = (control.get("/tenants").json(), control.get("/faults").json(), control.get("/clock").json())
    body = {**LEAST_BODY.get(operation_id, {}), field: wrong}
    response = control.request(method, path, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith(f"{field} must be ") and "\n" not in error
    after = (control.get("/tenants").json(), control.get("/faults").json(), control.get("/clock").json())
    assert after[:2] == before[:2] and after[2]["frozen"] == before[2]["frozen"]


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/tenants", {"name": "   "}, "name must be a non-empty string of at most 255 characters"),
        ("/tenants", {"name": "x" * 256}, "name must be a non-empty string of at most 255 characters"),
        ("/tenants", {"settings": {f"k{n}": n for n in range(101)}}, "settings may have at most 100 keys"),
        ("/tenants", {"settings": {"k" * 1001: 1}}, "settings keys may have at most 1000 characters"),
        ("/tenants", {"settings": {"note": "x" * 1001}}, "settings.note must have at most 1000 characters"),
        ("/tenants", {"settings": {"nested": {"a": 1}}}, "settings.nested must be a string or a number"),
        ("/tenants", {"settings": {"sender_id": 5}}, "settings.sender_id must be a string"),
        ("/tenants", {"settings": {"campaigns": -1}}, "settings.campaigns must be at least 0"),
        ("/tenants/1/tokens", {"scopes": ["a", 2]}, "scopes must be a list of strings"),
        ("/tenants/1/tokens", {"rate_limit_per_minute": 1.5}, "rate_limit_per_minute must be an integer"),
    ],
)
def test_malformed_bodies_get_one_line_naming_the_field(
    control: httpx.Client, path: str, body: dict, says: str
) -> None:
    assert_refused(control.post(path, json=body), 400, says)


@pytest.mark.parametrize(
    ("template", "says"),
    [
        (
            {"category": "PROMO"},
            "whatsapp_templates.0.category must be one of MARKETING, UTILITY, AUTHENTICATION",
        ),
        ({"status": "LIVE"}, "whatsapp_templates.0.status must be one of APPROVED, PENDING, REJECTED"),
        ({"header_format": "AUDIO"}, "whatsapp_templates.0.header_format must be one of"),
        ({"header_text": 3}, "whatsapp_templates.0.header_text must be a string or null"),
        ({"buttons": "none"}, "whatsapp_templates.0.buttons must be a list"),
    ],
)
def test_whatsapp_templates_are_checked_by_their_schema(
    control: httpx.Client, template: dict, says: str
) -> None:
    tenant_id = new_tenant(control)["tenant_id"]
    good = {
        "template_id": "1",
        "template_name": "x",
        "category": "UTILITY",
        "status": "APPROVED",
        "body": "Hi",
    }
    response = control.patch(f"/tenants/{tenant_id}", json={"whatsapp_templates": [{**good, **template}]})
    assert_refused(response, 400, says)
    assert control.get(f"/tenants/{tenant_id}").json()["whatsapp_templates"] != [{**good, **template}]
