"""Many clients at once against the real uvicorn server: nothing lost, nothing shared between tenants."""

from __future__ import annotations

import asyncio

import httpx

from tests.helpers import MockServer, server_tenant

PARALLEL = 200
PER_TENANT = 60


async def create_all(server: MockServer, token: str, path: str, bodies: list[dict]) -> list[httpx.Response]:
    """Sends every body at once, one connection each."""
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.api, headers=headers, limits=limits, timeout=60.0) as http:
        return await asyncio.gather(*(http.post(path, json=body) for body in bodies))


def total(server: MockServer, token: str, path: str) -> int:
    with server.client(token) as http:
        return http.get(path, params={"per_page": 1}).json()["meta"]["total"]


def contacts(tenant: dict, prefix: str) -> list[dict]:
    person = {
        "lastname": "Parallel",
        "type": "lead",
        "source_id": tenant["default_source_id"],
        "status_id": tenant["default_status_id"],
    }
    return [{**person, "firstname": f"{prefix}{n}", "phone": f"1555{n:07d}"} for n in range(PER_TENANT)]


def test_parallel_creates_lose_nothing(mock_server: MockServer) -> None:
    """200 simultaneous Create Source calls: 200 answers 201, 200 distinct ids, the total grows by 200."""
    tenant = server_tenant(mock_server, rate_limit_per_minute=100_000)
    before = total(mock_server, tenant["token"], "/sources")
    bodies = [{"name": f"Source {n}"} for n in range(PARALLEL)]
    responses = asyncio.run(create_all(mock_server, tenant["token"], "/sources", bodies))
    assert [r.status_code for r in responses] == [201] * PARALLEL
    ids = {r.json()["data"]["id"] for r in responses}
    assert len(ids) == PARALLEL
    assert total(mock_server, tenant["token"], "/sources") == before + PARALLEL
    names = [r.json()["data"]["name"] for r in responses]
    assert names == [b["name"] for b in bodies]  # every answer is about its own request


def test_parallel_tenants_never_see_each_other(mock_server: MockServer) -> None:
    """Two tenants create contacts with the same phones at once; each sees only its own."""
    first = server_tenant(mock_server, rate_limit_per_minute=100_000, limits={"contacts": -1})
    second = server_tenant(mock_server, rate_limit_per_minute=100_000, limits={"contacts": -1})

    async def both() -> list[list[httpx.Response]]:
        return await asyncio.gather(
            create_all(mock_server, first["token"], "/contacts", contacts(first, "A")),
            create_all(mock_server, second["token"], "/contacts", contacts(second, "B")),
        )

    first_answers, second_answers = asyncio.run(both())
    assert {r.status_code for r in first_answers + second_answers} == {201}
    first_ids = {r.json()["data"]["id"] for r in first_answers}
    second_ids = {r.json()["data"]["id"] for r in second_answers}
    assert len(first_ids) == len(second_ids) == PER_TENANT and not first_ids & second_ids
    for tenant, own, other, prefix in (
        (first, first_ids, second_ids, "A"),
        (second, second_ids, first_ids, "B"),
    ):
        with mock_server.client(tenant["token"]) as http:
            listed = http.get("/contacts", params={"per_page": 100, "page": 1}).json()
            assert listed["meta"]["total"] == PER_TENANT
            assert all(c["firstname"].startswith(prefix) and c["id"] in own for c in listed["data"])
            assert http.get(f"/contacts/{min(other)}").status_code == 404
