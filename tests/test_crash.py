"""Crash test of ``--state-file``: every acknowledged write survives, and no write is acknowledged
that a failing disk did not keep.

Bounded: a few rounds of a few seconds each. Each round runs concurrent writers against a real
``python -m mockserver`` process, then ``kill -9``, a full disk or a read-only folder, then a
restart, and compares every acknowledged source (201) with what the restarted server serves.
The full-disk and read-only-mount rounds need a small tmpfs (``mount``, so root); they are skipped
where mounting is not allowed. The same failures are played in process, on every machine, through
the store's ``before_commit`` seam (``tests/test_store.py``).
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import MockServer, run_mock_to_exit, server_tenant

ROUNDS = 3
WRITERS = 8
SECONDS_PER_ROUND = (0.5, 2.0)  # kill -9 lands at a random moment in this span


class Writers:
    """``WRITERS`` threads creating sources until stopped; what was acknowledged and what was refused."""

    def __init__(self, server: MockServer, token: str, prefix: str) -> None:
        self.server = server
        self.token = token
        self.prefix = prefix
        self.acknowledged: dict[str, int] = {}  # name -> id
        self.refused: set[str] = set()  # answered, but not 201
        self.unanswered: set[str] = set()  # the connection died first: either outcome is correct
        self.statuses: set[int] = set()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.write, args=(n,), daemon=True) for n in range(WRITERS)]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def wait_for_first(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not self.acknowledged and time.monotonic() < deadline:
            time.sleep(0.05)

    def write(self, number: int) -> None:
        with httpx.Client(
            base_url=self.server.api, headers={"Authorization": f"Bearer {self.token}"}
        ) as http:
            for count in range(100_000):
                if self.stop.is_set():
                    return
                name = f"{self.prefix}-{number}-{count}"
                try:
                    answer = http.post("/sources", json={"name": name}, timeout=10)
                except httpx.HTTPError:
                    with self.lock:
                        self.unanswered.add(name)
                    return
                with self.lock:
                    self.statuses.add(answer.status_code)
                    if answer.status_code == 201:
                        self.acknowledged[name] = answer.json()["data"]["id"]
                    else:
                        self.refused.add(name)


def served_sources(server: MockServer, token: str) -> dict[str, int]:
    """Every source the server serves: name -> id."""
    found: dict[str, int] = {}
    with server.client(token) as http:
        page, last = 1, 1
        while page <= last:
            response = http.get("/sources", params={"per_page": 100, "page": page})
            assert response.status_code == 200, response.text
            answer = response.json()
            found.update((s["name"], s["id"]) for s in answer["data"])
            last = answer["meta"]["last_page"]
            page += 1
    return found


def writing_tenant(server: MockServer) -> str:
    """A tenant whose token the per-minute limit (D11) does not slow down; its token."""
    return server_tenant(server, rate_limit_per_minute=1_000_000)["token"]


def check(writers: Writers, served: dict[str, int]) -> None:
    lost = {name for name in writers.acknowledged if served.get(name) != writers.acknowledged[name]}
    assert not lost, (
        f"{len(lost)} of {len(writers.acknowledged)} acknowledged writes lost: {sorted(lost)[:5]}"
    )
    kept_but_refused = writers.refused & set(served)
    assert not kept_but_refused, f"refused writes kept: {sorted(kept_but_refused)[:5]}"


def test_kill_9_mid_burst_loses_no_acknowledged_write(start_server, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    rng = random.Random(20261206)
    total, token = 0, ""
    for round_number in range(ROUNDS):
        server = start_server("--state-file", str(state))
        token = token if round_number else writing_tenant(server)
        with Writers(server, token, f"r{round_number}") as writers:
            writers.wait_for_first()  # a loaded machine may be slow to acknowledge the first write
            time.sleep(rng.uniform(*SECONDS_PER_ROUND))
            server.process.kill()  # SIGKILL: no shutdown hook runs
            server.process.wait(10)
        assert writers.acknowledged, writers.statuses
        total += len(writers.acknowledged)
        restarted = start_server("--state-file", str(state))
        check(writers, served_sources(restarted, token))
        restarted.stop()
    print(f"kill -9: {total} acknowledged writes over {ROUNDS} rounds, all served after restart")
    assert total > 0


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``folder``; skips the test where mounting is not allowed."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs is not allowed here (the in-process seam tests cover this)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_acknowledges_nothing_it_does_not_keep(start_server, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        state = disk / "state.db"
        server = start_server("--state-file", str(state))
        token = writing_tenant(server)
        with Writers(server, token, "full") as writers:
            deadline = time.monotonic() + 30
            while not writers.refused and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # writes keep coming at the full disk
        assert writers.refused, "the disk never filled"
        print(f"full disk: {len(writers.acknowledged)} acknowledged, {len(writers.refused)} refused")
        assert writers.statuses <= {201, 500}
        logged = [line for line in server.output if "could not save the change" in line]
        assert logged and all("No space left on device" in line or "full" in line for line in logged), logged
        server.process.kill()
        server.process.wait(10)
        restarted = start_server("--state-file", str(state))  # a full disk still lets it start and read
        check(writers, served_sources(restarted, token))
        restarted.stop()


def test_a_read_only_disk_refuses_the_start_in_one_line_and_keeps_the_file(
    start_server, tmp_path: Path
) -> None:
    """A file on a read-only mount cannot take writes: the mock says so at start instead of
    acknowledging calls it cannot keep."""
    with small_disk(tmp_path / "disk", "4m") as disk:
        state = disk / "state.db"
        server = start_server("--state-file", str(state))
        token = writing_tenant(server)
        with Writers(server, token, "ro") as writers:
            time.sleep(0.5)
        server.stop()
        before = state.read_bytes()
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        for path in (state, disk / "new.db"):
            finished = run_mock_to_exit("--state-file", str(path))
            assert finished.returncode == 1 and "Traceback" not in finished.stderr
            assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr
            assert "Read-only file system" in finished.stderr
        assert state.read_bytes() == before
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        restarted = start_server("--state-file", str(state))
        check(writers, served_sources(restarted, token))
        restarted.stop()


def test_a_folder_made_read_only_while_running_loses_nothing(start_server, tmp_path: Path) -> None:
    """The open file stays writable when its folder turns read-only: writes go on and are kept."""
    folder = tmp_path / "folder"
    folder.mkdir()
    state = folder / "state.db"
    server = start_server("--state-file", str(state))
    try:
        token = writing_tenant(server)
        with Writers(server, token, "chmod") as writers:
            time.sleep(0.3)
            os.chmod(folder, 0o555)
            time.sleep(0.7)
        server.process.kill()
        server.process.wait(10)
    finally:
        os.chmod(folder, 0o755)
    restarted = start_server("--state-file", str(state))
    check(writers, served_sources(restarted, token))
