"""The store (``mockserver/store.py``): a call is answered only after its change is committed;
a failed commit refuses the call and changes nothing; only calls that change state write."""

from __future__ import annotations

import errno
import logging

import httpx
import pytest

from mockserver.core import MockCore
from tests.helpers import api_client


class Disk:
    """Plays the disk under ``core.database`` through its ``before_commit`` seam; counts the writes."""

    def __init__(self, core: MockCore) -> None:
        self.full = False
        self.writes = 0
        core.database.before_commit = self.commit

    def commit(self) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.writes += 1


@pytest.fixture
def disk(core: MockCore) -> Disk:
    return Disk(core)


def test_a_write_on_a_full_disk_is_refused_and_changes_nothing(
    core: MockCore, client: httpx.Client, control: httpx.Client, disk: Disk, caplog
) -> None:
    before = client.get("/sources").json()["meta"]["total"]
    disk.full = True
    with caplog.at_level(logging.ERROR, logger="wacr-mock"):
        refused = client.post("/sources", json={"name": "Never acknowledged"})
    assert refused.status_code == 500
    body = refused.json()
    assert body["success"] is False and body["error"]["code"] == "INTERNAL_ERROR"
    assert refused.headers["content-type"] == "application/json"
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(problems) == 1 and "No space left on device" in problems[0] and "\n" not in problems[0]
    # Reads still work on a full disk, and show the state of the last commit.
    assert client.get("/sources").json()["meta"]["total"] == before
    # A control call is refused the same way, in the control API's shape.
    tenant = control.post("/tenants", json={})
    assert tenant.status_code == 500 and "No space left on device" in tenant.json()["error"]
    disk.full = False
    created = client.post("/sources", json={"name": "After the disk was freed"})
    assert created.status_code == 201
    assert client.get("/sources").json()["meta"]["total"] == before + 1
    # The refused call used no id: ids stay a sequence without the failed one in between (D8).
    ids = [s["id"] for s in client.get("/sources", params={"per_page": 100}).json()["data"]]
    assert created.json()["data"]["id"] == max(ids)


def test_a_refused_otp_attempt_is_committed(client: httpx.Client, control: httpx.Client, disk: Disk) -> None:
    """A wrong code is a 422 that still counts an attempt (D10): that change is written too."""
    otp = {"phone": "15550007777", "purpose": "login"}
    sent = client.post("/auth/send-otp", json={**otp, "template_name": "otp_verification", "code": "246810"})
    assert sent.status_code == 200, sent.text
    writes = disk.writes
    assert client.post("/auth/verify", json={**otp, "code": "000000"}).status_code == 422
    assert disk.writes == writes + 1
    disk.full = True
    assert client.post("/auth/verify", json={**otp, "code": "000000"}).status_code == 500
    disk.full = False
    peek = control.get("/otps", params={"tenant_id": 1, **otp}).json()
    assert peek["verification_attempts"] == 1


@pytest.mark.parametrize(
    ("method", "path", "token"),
    [
        ("GET", "/sources", "wacr_test_full"),
        ("GET", "/contacts", "wacr_test_full"),
        ("POST", "/sources", None),  # 401
        ("POST", "/no-such-route", "wacr_test_full"),  # 404
        ("POST", "/sources", "wacr_test_readonly"),  # 403
        ("POST", "/sources", "wacr_test_full"),  # 422: no name
        ("GET", "/sources/999999", "wacr_test_full"),  # 404
    ],
)
def test_calls_that_change_nothing_write_nothing(
    core: MockCore, disk: Disk, method: str, path: str, token: str | None
) -> None:
    with api_client(core, token) as http:
        answer = http.request(method, path, json={} if method == "POST" else None)
    assert answer.status_code in (200, 401, 403, 404, 422)
    assert disk.writes == 0


def test_control_calls_that_change_nothing_write_nothing(control: httpx.Client, disk: Disk) -> None:
    for path in ("/health", "/tenants/1", "/clock", "/requests", "/faults"):
        assert control.get(path).status_code == 200
    assert control.get("/tenants/999").status_code == 404
    assert disk.writes == 0
    assert control.patch("/tenants/1", json={"limits": {"contacts": 5}}).status_code == 200
    assert disk.writes == 1


def test_a_reset_on_a_full_disk_keeps_the_state(
    client: httpx.Client, control: httpx.Client, disk: Disk
) -> None:
    created = client.post("/sources", json={"name": "Kept"}).json()["data"]
    disk.full = True
    assert control.post("/reset").status_code == 500
    disk.full = False
    assert client.get(f"/sources/{created['id']}").status_code == 200


def test_a_list_page_is_in_id_order_whatever_order_records_came_in(
    control: httpx.Client, client: httpx.Client
) -> None:
    """Tables are kept in id order, so the default list (sort by id) pages them without sorting."""
    created = [client.post("/sources", json={"name": f"S{n}"}).json()["data"]["id"] for n in range(20)]
    for record_id in created[::3]:
        assert client.delete(f"/sources/{record_id}").status_code in (200, 204)
    pages = [client.get("/sources", params={"per_page": 4, "page": n}).json() for n in (1, 2, 3, 4, 5, 6)]
    ids = [s["id"] for page in pages for s in page["data"]]
    assert ids == sorted(ids) and pages[0]["meta"]["total"] == len(ids)
    assert pages[1]["meta"]["from"] == 5 and pages[1]["meta"]["to"] == 8
