"""Every answer the mock gives matches ``openapi.yaml``: one success and the typical errors of each operation.

The core runs with ``validate_responses=True`` (mockserver/response_check.py), which records every
mismatch in ``core.response_validator.violations``; each test asserts it stays empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import httpx
import pytest

from mockserver.core import MockCore
from mockserver.http import JSON_LIMIT, CoreResponse
from mockserver.spec import Operation, Spec
from mockserver.transport import MockTransport
from tests.helpers import api_client, new_tenant
from tests.walkthrough import PHONE, otp_template, walk_every_operation

UNKNOWN_ID = "999999"
TOO_LARGE = b" " * (JSON_LIMIT + 1)


@cache
def spec() -> Spec:
    return Spec.load()


@dataclass
class World:
    """One core, one tenant with a record of each kind, and a token per purpose."""

    core: MockCore
    control: httpx.Client
    api: httpx.Client
    tenant: dict
    ids: dict[str, str]

    def path(self, op: Operation, unknown: bool = False) -> str:
        """The operation's path with the world's records (or unknown ones) filled in."""
        collection = op.path.strip("/").split("/")[0]
        value = UNKNOWN_ID if unknown else self.ids.get(collection, "")
        return op.path.replace("{id}", value).replace("{mobile}", UNKNOWN_ID if unknown else PHONE)

    def token(self, **options) -> str:
        answer = self.control.post(f"/tenants/{self.tenant['tenant_id']}/tokens", json=options)
        return answer.json()["token"]

    def call(
        self, op: Operation, token: str | None = None, unknown: bool = False, **kwargs
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.api.request(op.method, self.path(op, unknown), headers=headers, **kwargs)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    core = MockCore(spec(), validate_responses=True)
    control = httpx.Client(transport=MockTransport(core), base_url="http://mock.test/__mock__")
    tenant = new_tenant(control, rate_limit_per_minute=1_000_000)
    api = api_client(core, tenant["token"])
    person = {
        "firstname": "W",
        "lastname": "Orld",
        "type": "lead",
        "source_id": tenant["default_source_id"],
        "status_id": tenant["default_status_id"],
    }
    contact = api.post("/contacts", json={**person, "phone": "15550005555"}).json()["data"]
    group = api.post("/groups", json={"name": "World"}).json()["data"]
    message = api.post("/messages/text", json={"phone": PHONE, "message": "Hello"}).json()["data"]
    template = api.get("/templates").json()["data"][0]
    ids = {
        "contacts": str(contact["id"]),
        "groups": str(group["id"]),
        "sources": str(tenant["default_source_id"]),  # used by the contact: deleting it is a 422 (D13)
        "statuses": str(tenant["default_status_id"]),
        "messages": str(message["chat_message_id"]),
        "templates": template["template_id"],
    }
    yield World(core, control, api, tenant, ids)
    api.close()
    control.close()


@pytest.fixture
def violations(world: World) -> Iterator[list[str]]:
    """The violations recorded during one test (the core is shared by the module)."""
    seen = len(world.core.response_validator.violations)
    found: list[str] = []
    yield found
    found.extend(world.core.response_validator.violations[seen:])
    assert found == [], found


# --- successes -------------------------------------------------------------------------------------


def test_one_success_of_every_operation_conforms(core: MockCore, control: httpx.Client) -> None:
    tenant = new_tenant(control, rate_limit_per_minute=1_000)
    with api_client(core, tenant["token"]) as http:
        responses = walk_every_operation(http)
    assert set(responses) == set(core.spec.operations)
    assert core.response_validator.checked >= len(core.spec.operations)
    assert core.response_validator.violations == []


# --- the errors every operation can give ------------------------------------------------------------


def as_json(body: bytes) -> dict:
    return {"content": body, "headers": {"Content-Type": "application/json"}}


def invalid_request(world: World, op: Operation) -> httpx.Response:
    """A request that fails validation (422) for this operation."""
    if op.operation_id == "syncTemplates":
        unconfigured = new_tenant(world.control, settings={"whatsapp_configured": False})
        return world.call(op, unconfigured["token"])
    if op.operation_id in ("deleteSource", "deleteStatus"):
        return world.call(op)  # still used by the world's contact
    if op.operation_id == "updateContact":
        return world.call(op, json={"type": "alien"})
    if op.operation_id == "getContact":
        return world.call(op, params={"include": "everything"})
    if op.bodies:
        return world.call(op, json={})
    return world.call(op, params={"per_page": 0})


def rate_limited(world: World, op: Operation) -> httpx.Response:
    token = world.token(rate_limit_per_minute=1)
    world.api.get(
        "/account", headers={"Authorization": f"Bearer {token}"}
    )  # spends the one call (harmlessly)
    return world.call(op, token)


ERROR_KINDS: dict[
    str, tuple[int, Callable[[Operation], bool], Callable[[World, Operation], httpx.Response]]
] = {
    "no_token": (401, lambda op: True, lambda w, op: w.call(op, "wacr_nobody")),
    "no_scope": (403, lambda op: bool(op.scopes), lambda w, op: w.call(op, w.token(scopes=[]))),
    "unknown_record": (404, lambda op: "{" in op.path, lambda w, op: w.call(op, unknown=True)),
    "malformed_json": (
        400,
        lambda op: "application/json" in op.bodies,
        lambda w, op: w.call(op, **as_json(b"{oops")),
    ),
    "too_large": (413, lambda op: bool(op.bodies), lambda w, op: w.call(op, **as_json(TOO_LARGE))),
    "wrong_media_type": (
        415,
        lambda op: bool(op.bodies),
        lambda w, op: w.call(op, content=b"x", headers={"Content-Type": "text/plain"}),
    ),
    "invalid": (
        422,
        lambda op: "422" in op.raw["responses"] and op.operation_id != "getComments",
        invalid_request,
    ),
    "rate_limited": (429, lambda op: True, rate_limited),
}

ERROR_CASES = [
    pytest.param(op_id, kind, id=f"{op_id}-{kind}")
    for op_id, op in spec().operations.items()
    for kind, (_, applies, _) in ERROR_KINDS.items()
    if applies(op)
]


@pytest.mark.parametrize(("operation_id", "kind"), ERROR_CASES)
def test_typical_errors_conform(world: World, violations: list[str], operation_id: str, kind: str) -> None:
    op = world.core.spec.operation(operation_id)
    status, _, send = ERROR_KINDS[kind]
    response = send(world, op)
    assert response.status_code == status, response.text
    assert response.json()["success"] is False


@pytest.mark.parametrize("operation_id", sorted(spec().operations))
def test_injected_server_error_matches_the_documented_500(world: World, operation_id: str) -> None:
    """An injected 500 skips the run-time check, so it is checked here against the documented 500."""
    op = world.core.spec.operation(operation_id)
    world.control.post("/faults", json={"operation_id": operation_id, "status": 500, "times": 1})
    response = world.call(op)
    assert response.status_code == 500 and response.headers["X-Mock-Fault"] == "injected"
    assert world.core.response_validator.problems(op, CoreResponse(500, response.json())) == []


# --- business errors ------------------------------------------------------------------------------


def send_otp(world: World, token: str, phone: str, **extra) -> httpx.Response:
    body = {"phone": phone, "template_name": otp_template(world.api), "code": "111111", **extra}
    return world.api.post("/auth/send-otp", json=body, headers={"Authorization": f"Bearer {token}"})


def verify(world: World, token: str, phone: str, code: str) -> httpx.Response:
    return world.api.post(
        "/auth/verify", json={"phone": phone, "code": code}, headers={"Authorization": f"Bearer {token}"}
    )


def otp_expired(world: World, token: str) -> httpx.Response:
    tenant = new_tenant(world.control)
    send_otp(world, tenant["token"], "15550006001", expiry_minutes=1)
    world.control.post("/clock", json={"tenant_id": tenant["tenant_id"], "advance_seconds": 120})
    return verify(world, tenant["token"], "15550006001", "111111")


def max_attempts(world: World, token: str) -> httpx.Response:
    send_otp(world, token, "15550006002")
    for _ in range(5):
        verify(world, token, "15550006002", "000000")
    return verify(world, token, "15550006002", "111111")


def opted_out(world: World, token: str) -> httpx.Response:
    world.control.patch(f"/contacts/{world.ids['contacts']}", json={"is_opted_out": True})
    try:
        return world.api.post("/messages/text", json={"phone": "15550005555", "message": "Hi"})
    finally:
        world.control.patch(f"/contacts/{world.ids['contacts']}", json={"is_opted_out": False})


def contact_body(tenant: dict, phone: str) -> dict:
    return {
        "firstname": "C",
        "lastname": "Ontact",
        "phone": phone,
        "type": "lead",
        "source_id": int(tenant["default_source_id"]),
        "status_id": int(tenant["default_status_id"]),
    }


def over_contact_limit(world: World, token: str) -> httpx.Response:
    tenant = new_tenant(world.control, limits={"contacts": 0})
    with api_client(world.core, tenant["token"]) as http:
        return http.post("/contacts", json=contact_body(tenant, "15550006003"))


def duplicate_phone(world: World, token: str) -> httpx.Response:
    return world.api.post(
        "/contacts", json=contact_body(world.tenant, "+1 555 000 5555")
    )  # the world's contact


def template_feature_off(world: World, token: str) -> httpx.Response:
    tenant = new_tenant(world.control, features={"whatsapp_templates": False})
    return send_otp(world, tenant["token"], "15550006004")


def unknown_contact_id(world: World, token: str) -> httpx.Response:
    return world.api.post(
        "/messages/text", json={"phone": PHONE, "message": "Hi", "contact_id": int(UNKNOWN_ID)}
    )


def wrong_code(world: World, token: str) -> httpx.Response:
    send_otp(world, token, "15550006005")
    return verify(world, token, "15550006005", "999999")


BUSINESS_ERRORS: dict[str, tuple[int, str, Callable[[World, str], httpx.Response]]] = {
    "otp-not-found": (422, "OTP_NOT_FOUND", lambda w, t: verify(w, t, "15550006000", "123456")),
    "invalid-code": (422, "INVALID_CODE", wrong_code),
    "otp-expired": (422, "OTP_EXPIRED", otp_expired),
    "max-attempts": (422, "MAX_ATTEMPTS_EXCEEDED", max_attempts),
    "unknown-template": (
        404,
        "RESOURCE_NOT_FOUND",
        lambda w, t: send_otp(w, t, "15550006006", template_name="nope"),
    ),
    "not-an-auth-template": (
        422,
        "VALIDATION_ERROR",
        lambda w, t: send_otp(w, t, "15550006007", template_name="spring_sale"),
    ),
    "opted-out": (403, "CONTACT_OPTED_OUT", opted_out),
    "contact-limit": (403, "FEATURE_LIMIT_EXCEEDED", over_contact_limit),
    "templates-feature-off": (403, "FEATURE_NOT_AVAILABLE", template_feature_off),
    "unknown-contact-id": (404, "NOT_FOUND", unknown_contact_id),
    "duplicate-phone": (422, "VALIDATION_ERROR", duplicate_phone),
}


@pytest.mark.parametrize("case", sorted(BUSINESS_ERRORS))
def test_business_errors_conform(world: World, violations: list[str], case: str) -> None:
    status, code, send = BUSINESS_ERRORS[case]
    response = send(world, world.tenant["token"])
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
