"""``Prefer: code=…`` and ``Prefer: example=…``: answers chosen per request (Prism's convention),
each a documented answer of the operation, none changing state."""

from __future__ import annotations

import httpx
import pytest

from mockserver.core import MockCore
from mockserver.response_check import ResponseValidator
from mockserver.spec import Spec
from tests.helpers import new_tenant


def prefer(client: httpx.Client, method: str, path: str, preference: str, **kwargs) -> httpx.Response:
    return client.request(method, path, headers={"Prefer": preference}, **kwargs)


def assert_documented(spec: Spec, operation_id: str, response: httpx.Response) -> None:
    from mockserver.http import CoreResponse

    problems = ResponseValidator(spec).problems(
        spec.operation(operation_id), CoreResponse(response.status_code, response.json())
    )
    assert problems == [], problems


def test_code_422_gives_the_documented_validation_error_and_creates_nothing(
    client: httpx.Client, spec: Spec
) -> None:
    before = client.get("/contacts").json()["meta"]["total"]
    body = {"firstname": "Ada", "lastname": "L", "phone": "+44 20 7946 0001", "type": "lead"}
    answer = prefer(client, "POST", "/contacts", "code=422", json=body)
    assert answer.status_code == 422
    assert answer.headers["Preference-Applied"] == "code=422"
    error = answer.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and answer.json()["message"] == "Validation failed"
    assert error["details"]["phone"] == ["Phone number is required"]  # the spec's own message
    assert answer.json()["meta"]["request_id"] == answer.headers["X-Request-Id"]
    assert_documented(spec, "createContact", answer)
    assert client.get("/contacts").json()["meta"]["total"] == before


@pytest.mark.parametrize(
    ("status", "path", "code", "message"),
    [
        (401, "/account", "UNAUTHORIZED", None),
        (403, "/contacts", "INSUFFICIENT_SCOPE", None),
        (404, "/account", "NOT_FOUND", "Account not found"),
        (429, "/contacts", "RATE_LIMIT_EXCEEDED", None),
        (500, "/account", "INTERNAL_ERROR", "Failed to fetch account information"),
    ],
)
def test_each_error_code_answers_in_the_envelope(
    client: httpx.Client, spec: Spec, status: int, path: str, code: str, message: str | None
) -> None:
    answer = prefer(client, "GET", path, f"code={status}")
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code
    if message:
        assert answer.json()["error"]["message"] == message
    if status == 429:
        assert answer.headers["Retry-After"] == "60"
        assert answer.json()["error"]["details"] == {"retry_after": 60}
    assert_documented(spec, "getAccount" if path == "/account" else "listContacts", answer)


def test_error_picks_one_of_several_codes_of_a_status(client: httpx.Client, spec: Spec) -> None:
    answer = prefer(client, "POST", "/auth/verify", "code=422, error=OTP_EXPIRED", json={})
    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "code": "OTP_EXPIRED",
        "message": spec.operation("verifyOtp").error_message(422, "OTP_EXPIRED"),
    }


def test_comments_keep_their_flat_style(client: httpx.Client, spec: Spec) -> None:
    answer = prefer(client, "GET", "/comments/15550001111", "code=404")
    assert answer.status_code == 404
    assert answer.json() == {
        "success": False,
        "message": "Chat conversation not found for the given mobile number",
    }
    assert_documented(spec, "getComments", answer)


def test_a_named_example_is_answered_with_a_fresh_meta(client: httpx.Client, spec: Spec) -> None:
    answer = prefer(client, "POST", "/auth/verify", "example=invalid_code", json={})
    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "code": "INVALID_CODE",
        "message": "Invalid verification code",
        "details": {"attempts_remaining": 4},
    }
    listed = prefer(client, "GET", "/contacts", "example=page")
    example = spec.operation("listContacts").raw["responses"]["200"]["content"]["application/json"]
    value = example["examples"]["page"]["value"]
    assert listed.status_code == 200
    assert listed.json()["data"] == value["data"] and listed.json()["links"] == value["links"]
    assert listed.json()["meta"]["request_id"] == listed.headers["X-Request-Id"]
    assert_documented(spec, "listContacts", listed)


def test_an_example_creates_nothing(client: httpx.Client) -> None:
    before = client.get("/contacts").json()["meta"]["total"]
    created = prefer(client, "POST", "/contacts", "example=created", json={})
    assert created.status_code == 201 and created.json()["data"]["firstname"] == "John"
    assert client.get("/contacts").json()["meta"]["total"] == before


@pytest.mark.parametrize(
    ("preference", "why"),
    [
        ("code=422", "code=422 is not a documented error of getAccount"),
        ("code=abc", "code=abc is not a status code"),
        ("example=nope", "example=nope is not an example of getAccount"),
        ("code=404, error=OTP_EXPIRED", "error=OTP_EXPIRED is not documented for getAccount at 404"),
    ],
)
def test_a_preference_the_operation_cannot_honour_is_refused_clearly(
    client: httpx.Client, preference: str, why: str
) -> None:
    answer = prefer(client, "GET", "/account", preference)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "PREFER_NOT_HONOURED"
    assert why in error["message"] and "can honour code=401" in error["message"]
    assert "example=account" in error["message"]


def test_other_preferences_are_ignored(client: httpx.Client) -> None:
    assert prefer(client, "GET", "/account", "return=minimal, dynamic=true").status_code == 200
    assert prefer(client, "GET", "/account", "code=200").status_code == 200


def test_a_chosen_answer_still_needs_a_token_and_counts_against_the_limit(client: httpx.Client) -> None:
    anonymous = httpx.Client(transport=client._transport, base_url=client.base_url)
    assert prefer(anonymous, "GET", "/account", "code=404").status_code == 401
    first = prefer(client, "GET", "/account", "code=500")
    second = prefer(client, "GET", "/account", "code=500")
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1


def test_validate_responses_accepts_every_chosen_error(spec: Spec) -> None:
    """Every documented error status of every operation, chosen, passes the mock's own response check."""
    from mockserver.transport import MockTransport

    core = MockCore(spec, validate_responses=True)
    transport = MockTransport(core)
    with httpx.Client(transport=transport, base_url="http://mock.test/__mock__") as control:
        token = new_tenant(control, rate_limit_per_minute=10_000)["token"]
    with httpx.Client(
        transport=transport, base_url="http://mock.test/api/v2", headers={"Authorization": f"Bearer {token}"}
    ) as http:
        for op in spec.operations.values():
            path = op.path.replace("{id}", "1").replace("{mobile}", "15550001111")
            for status in sorted(int(s) for s in op.raw["responses"] if int(s) >= 400):
                answer = prefer(http, op.method, path, f"code={status}")
                assert answer.status_code == status, (op.operation_id, status, answer.text)
    assert core.response_validator.violations == []
