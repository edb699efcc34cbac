"""List indexes (``mockserver/list_index.py``): a list answered from an index kept through writes
is exactly the list a scan of the table gives, and costs what its page shows, not what the table holds."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from mockserver.core import MockCore
from mockserver.listing import Paging, sort_records
from mockserver.resources import contact_defaults
from mockserver.spec import Spec
from mockserver.transport import MockTransport
from tests.helpers import api_client, new_tenant

FIRST = ["ann", "Ann", "bob", "Zoë", "émile", "ANNA", "carl"]
LAST = ["Rossi", "rossi", "Smith", "Smithson", "Kim", "Okafor"]
TYPES = ["lead", "customer", "guest"]
SHAPES: list[dict[str, str]] = [
    {},
    {"sort": "-firstname"},
    {"sort": "lastname,-created_at", "per_page": "4"},
    {"sort": "-id", "page": "2", "per_page": "5"},
    {"sort": "updated_at,-lastname"},
    {"filter[type]": "customer"},
    {"filter[type][in]": "lead,guest", "sort": "-lastname", "page": "2", "per_page": "3"},
    {"filter[group_id]": "GROUP", "sort": "firstname"},
    {"filter[created_at][gte]": "2026-01-01T00:00:30Z"},
    {"search": "ann"},
    {"q": "ROSSI", "sort": "-firstname,lastname"},
    {"search": "smith", "filter[type][ne]": "lead", "sort": "-updated_at", "per_page": "2", "page": "2"},
    {"fields": "id,firstname", "sort": "firstname", "page": "3", "per_page": "3"},
]


class Twin:
    """One mock answering lists from its indexes, one answering them by scanning (a changed pager)."""

    def __init__(self, spec: Spec) -> None:
        self.cores = [MockCore(spec), MockCore(spec)]
        self.cores[1].paging = Paging(sort=lambda records, sort: sort_records(records, sort))
        self.clients: list[httpx.Client] = []
        self.controls: list[tuple[httpx.Client, int]] = []
        for each in self.cores:
            control = httpx.Client(transport=MockTransport(each), base_url="http://mock.test/__mock__")
            tenant = new_tenant(control, rate_limit_per_minute=1_000_000, limits={"contacts": -1})
            frozen = {"tenant_id": tenant["tenant_id"], "now": "2026-01-01T00:00:00Z", "freeze": True}
            assert control.post("/clock", json=frozen).status_code == 200
            self.clients.append(api_client(each, tenant["token"]))
            self.defaults = {
                "source_id": tenant["default_source_id"],
                "status_id": tenant["default_status_id"],
            }
            self.controls.append((control, tenant["tenant_id"]))

    def both(self, method: str, path: str, **kwargs) -> httpx.Response:
        answers = [client.request(method, path, **kwargs) for client in self.clients]
        assert [a.status_code for a in answers] == [answers[0].status_code] * 2, [a.text for a in answers]
        return answers[0]

    def tick(self, seconds: int) -> None:
        for control, tenant_id in self.controls:
            control.post("/clock", json={"tenant_id": tenant_id, "advance_seconds": seconds})

    def same_list(self, path: str, params: dict[str, str]) -> None:
        indexed, scanned = (client.get(path, params=params) for client in self.clients)
        assert indexed.status_code == scanned.status_code == 200, indexed.text
        assert indexed.json()["data"] == scanned.json()["data"], params
        paging = [
            {k: v for k, v in a.json()["meta"].items() if k not in ("request_id", "timestamp")}
            for a in (indexed, scanned)
        ]
        assert paging[0] == paging[1], params
        assert indexed.json()["links"] == scanned.json()["links"], params


@pytest.fixture
def twin(spec: Spec) -> Iterator[Twin]:
    yield Twin(spec)


def test_indexed_lists_equal_scanned_lists_through_every_kind_of_write(twin: Twin) -> None:
    rng = random.Random(17)
    group = twin.both("POST", "/groups", json={"name": "Index group"}).json()["data"]["id"]
    shapes = [{k: v.replace("GROUP", str(group)) for k, v in shape.items()} for shape in SHAPES]
    contacts: list[int] = []
    for step in range(120):
        twin.tick(rng.randint(0, 2))
        action = rng.random()
        if action < 0.45 or not contacts:
            body = {
                "firstname": rng.choice(FIRST),
                "lastname": rng.choice(LAST),
                "phone": f"1555{step:07d}",
                "type": rng.choice(TYPES),
                **twin.defaults,
            }
            contacts.append(twin.both("POST", "/contacts", json=body).json()["data"]["id"])
        elif action < 0.65:
            changes = rng.choice(
                [
                    {"firstname": rng.choice(FIRST)},
                    {"lastname": rng.choice(LAST)},
                    {"type": rng.choice(TYPES)},
                ]
            )
            twin.both("PUT", f"/contacts/{rng.choice(contacts)}", json=changes)
        elif action < 0.8:
            twin.both("POST", f"/groups/{group}/contacts", json={"contact_ids": rng.sample(contacts, 1)})
        elif action < 0.9:
            twin.both("DELETE", f"/groups/{group}/contacts", json={"contact_ids": rng.sample(contacts, 1)})
        else:
            twin.both("DELETE", f"/contacts/{contacts.pop(rng.randrange(len(contacts)))}")
        if step % 10 == 9:
            for shape in shapes:
                twin.same_list("/contacts", shape)
            twin.same_list("/groups", {"sort": "-name"})
    # Deleting the group takes it out of every contact: the group filter's index follows.
    twin.both("DELETE", f"/groups/{group}")
    for shape in shapes:
        twin.same_list("/contacts", shape)


def median_seconds(calls: list[Callable[[], httpx.Response]], rounds: int = 60) -> list[float]:
    """The median time of each call, the calls taken in turn, so a busy machine slows them alike."""
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, taken in zip(calls, samples, strict=True):
            started = time.perf_counter()
            assert call().status_code == 200
            taken.append(time.perf_counter() - started)
    return [statistics.median(taken) for taken in samples]


def test_a_list_costs_its_page_not_the_table(spec: Spec) -> None:
    """20,000 contacts: a filtered, searched and sorted list answers at a small multiple of an empty
    tenant's (a scan of the table costs tens of times more)."""
    core = MockCore(spec)  # no response validation: its cost per item would hide the list's
    control = httpx.Client(transport=MockTransport(core), base_url="http://mock.test/__mock__")
    empty, full = (
        new_tenant(control, rate_limit_per_minute=1_000_000, limits={"contacts": -1}) for _ in "ab"
    )
    tenant = core.store.tenants[full["tenant_id"]]
    now = core.store.default_clock.now()
    for n in range(20_000):
        record = {"firstname": f"First{n % 997}", "lastname": f"Smith{n % 7}", "phone": f"1555{n:07d}"}  # noqa: E501
        tenant.insert("contacts", contact_defaults(tenant, {**record, "type": TYPES[n % 3]}), now)
    core.database.commit(core.store, tenant)
    shape = {"search": "smith3", "filter[type]": "customer", "sort": "-firstname"}
    clients = [api_client(core, t["token"]) for t in (empty, full)]
    expected = sum(1 for n in range(20_000) if n % 7 == 3 and TYPES[n % 3] == "customer")
    assert clients[1].get("/contacts", params=shape).json()["meta"]["total"] == expected
    empty_cost, full_cost = median_seconds([lambda c=c: c.get("/contacts", params=shape) for c in clients])
    assert full_cost < 5 * empty_cost, (full_cost, empty_cost)
