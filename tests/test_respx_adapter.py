"""The respx adapter: application code calling WA.cr through httpx is answered by an in-process mock."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from mockserver.core import MockCore
from mockserver.respx_adapter import DEFAULT_BASE_URL, RespxMock, wacr_mock

AUTH = {"Authorization": "Bearer wacr_test_full"}


def test_sync_client_is_answered_by_the_mock() -> None:
    with wacr_mock() as mock, httpx.Client(base_url=f"{DEFAULT_BASE_URL}/api/v2", headers=AUTH) as http:
        created = http.post("/sources", json={"name": "From respx"})
        assert created.status_code == 201
        listed = http.get("/sources").json()["data"]
        assert mock.router.calls.call_count == 2  # respx records the calls (and forgets them on exit)
    assert "From respx" in {s["name"] for s in listed}
    assert mock.core.store.tenants[1].find("sources", name="From respx") is not None


def test_module_level_httpx_calls_are_answered_too() -> None:
    with wacr_mock():
        response = httpx.get(f"{DEFAULT_BASE_URL}/api/v2/account", headers=AUTH)
    assert response.status_code == 200 and response.json()["data"]["name"] == "Demo Company"


def test_async_client_is_answered_by_the_mock() -> None:
    async def scenario() -> tuple[int, int]:
        async with httpx.AsyncClient(base_url=f"{DEFAULT_BASE_URL}/api/v2", headers=AUTH) as http:
            created = await http.post("/groups", json={"name": "Async"})
            missing = await http.get("/groups/999999")
            return created.status_code, missing.status_code

    with wacr_mock():
        assert asyncio.run(scenario()) == (201, 404)


def test_a_given_core_and_base_url_are_used() -> None:
    core = MockCore()
    with wacr_mock("http://crm.internal:8000", core=core) as mock:
        assert mock.core is core and mock.base_url == "http://crm.internal:8000"
        answer = httpx.get("http://crm.internal:8000/api/v2/account", headers=AUTH)
    assert answer.status_code == 200
    assert core.journal[-1]["operation_id"] == "getAccount"


def test_state_lasts_for_the_block_only() -> None:
    with wacr_mock():
        httpx.post(f"{DEFAULT_BASE_URL}/api/v2/statuses", json={"name": "Once"}, headers=AUTH)
    with wacr_mock():
        names = {
            s["name"] for s in httpx.get(f"{DEFAULT_BASE_URL}/api/v2/statuses", headers=AUTH).json()["data"]
        }
    assert "Once" not in names


@pytest.mark.parametrize(
    "url",
    ["https://example.com/api/v2/account", "http://app.wa.cr/api/v2/account"],
    ids=["other-host", "other-scheme"],
)
def test_requests_outside_the_base_url_are_not_mocked(url: str) -> None:
    """respx refuses to let them through: AllMockedAssertionError, not a silent real request."""
    with wacr_mock(), pytest.raises(respx.models.AllMockedAssertionError):
        httpx.get(url)


def test_the_fixture_mocks_the_default_base_url(wacr_respx: RespxMock) -> None:
    assert wacr_respx.base_url == DEFAULT_BASE_URL
    response = httpx.get(f"{DEFAULT_BASE_URL}/api/v2/account/limits", headers=AUTH)
    assert response.status_code == 200 and response.json()["data"]["limits"]["contacts"]["limit"] == 1000


@pytest.mark.wacr_base_url("https://staging.wa.example")
def test_the_fixture_honours_the_base_url_marker(wacr_respx: RespxMock) -> None:
    assert wacr_respx.base_url == "https://staging.wa.example"
    assert httpx.get("https://staging.wa.example/api/v2/account", headers=AUTH).status_code == 200
    with pytest.raises(respx.models.AllMockedAssertionError):
        httpx.get(f"{DEFAULT_BASE_URL}/api/v2/account", headers=AUTH)


def test_errors_come_back_as_the_api_sends_them(wacr_respx: RespxMock) -> None:
    response = httpx.post(f"{DEFAULT_BASE_URL}/api/v2/contacts", json={}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert httpx.get(f"{DEFAULT_BASE_URL}/api/v2/account").status_code == 401


def test_every_operation_works_through_respx() -> None:
    """All operations answer through the respx adapter as they do over HTTP (the shared walkthrough)."""
    from tests.walkthrough import walk_every_operation

    core = MockCore(validate_responses=True)
    with wacr_mock(core=core), httpx.Client(base_url=f"{DEFAULT_BASE_URL}/api/v2", headers=AUTH) as http:
        responses = walk_every_operation(http)
    assert set(responses) == set(core.spec.operations)
    assert {r.status_code for r in responses.values()} <= {200, 201}
    assert core.response_validator.checked >= len(core.spec.operations)
    assert core.response_validator.violations == []
