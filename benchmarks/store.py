"""The store's cost as the store grows: ratios measured in one run, printed as a table.

    python benchmarks/store.py                      # 20,000 and 100,000 contacts
    python benchmarks/store.py --sizes 2000 10000   # smaller, faster

In process (``MockCore`` behind ``MockTransport``, no HTTP server), so the figures are the mock's
own work, not the network's. For each measure the baseline is taken in the same run:

- a write (``POST /sources``) with a state file holding 0, 20,000 and 100,000 contacts, against
  the same write without a file (goal: within 2x);
- ``GET /contacts`` page 1, a search, a filter and a sort, at 10,000 and 100,000 contacts, against
  the same call on an empty tenant (goal: >= 50% of the empty tenant's rate), measured in
  alternating batches; and the first call of each shape, which builds its list index;
- start-up (``python -m mockserver --state-file``) with 100,000 contacts on file, until the first
  answer (goal: < 1 s), against a start without a file; then the filled tenant's first
  ``GET /contacts`` (which reads its records) against its second;
- memory per 10,000 contacts (traced Python allocations of the working set, SQLite's own, and one
  list index).
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from mockserver.core import MockCore  # noqa: E402
from mockserver.resources import contact_defaults  # noqa: E402
from mockserver.store import Database  # noqa: E402
from mockserver.transport import MockTransport  # noqa: E402

CONTACTS = "http://mock.test/api/v2/contacts"
LIST_CALLS = {
    "page 1": {},
    "search": {"search": "smith"},
    "filter": {"filter[type]": "customer"},
    "sort": {"sort": "-firstname"},
}


def add_contacts(core: MockCore, tenant_id: int, count: int) -> None:
    """``count`` contacts in one commit, as a seed file would add them."""
    tenant = core.store.tenants[tenant_id]
    now = core.store.default_clock.now()
    names = ["Smith", "Jones", "Garcia", "Kim", "Okafor", "Rossi", "Novak", "Silva"]
    for n in range(count):
        record = {
            "firstname": f"First{n % 997}",
            "lastname": names[n % len(names)] + str(n % 101),
            "phone": f"1555{n:07d}",
            "email": f"person{n}@example.com",
            "type": "customer" if n % 3 == 0 else "lead",
        }
        tenant.insert("contacts", contact_defaults(tenant, record), now)
    core.database.commit(core.store, tenant)


def new_tenant(core: MockCore, http: httpx.Client) -> tuple[int, str]:
    answer = http.post(
        "http://mock.test/__mock__/tenants",
        json={"rate_limit_per_minute": 100_000_000, "limits": {"contacts": -1}},
    ).json()
    return answer["tenant_id"], answer["token"]


def per_call(action: Callable[[], object], seconds: float) -> float:
    """Median seconds per call over batches run for about ``seconds``."""
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        started = time.perf_counter()
        for _ in range(5):
            action()
        samples.append((time.perf_counter() - started) / 5)
    return statistics.median(samples)


def paired(
    baseline: Callable[[], object], action: Callable[[], object], seconds: float
) -> tuple[float, float]:
    """Median seconds per call of ``action`` and of ``baseline``, measured in alternating batches, so
    both see the same load of a shared machine."""
    samples: tuple[list[float], list[float]] = ([], [])
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples[0]) < 5:
        for measured, call in zip(samples, (action, baseline), strict=True):
            started = time.perf_counter()
            for _ in range(5):
                call()
            measured.append((time.perf_counter() - started) / 5)
    return statistics.median(samples[0]), statistics.median(samples[1])


def core_with(size: int, state: Path | None) -> tuple[MockCore, httpx.Client, str]:
    core = MockCore()
    if state is not None:
        core.use_database(Database.open_file(state))
    http = httpx.Client(transport=MockTransport(core))
    tenant_id, token = new_tenant(core, http)
    if size:
        add_contacts(core, tenant_id, size)
    http.headers["Authorization"] = f"Bearer {token}"
    return core, http, token


def write_cost(sizes: list[int], seconds: float, folder: Path) -> list[tuple[str, float, float]]:
    rows = []
    counter = iter(range(10**9))

    def write(http: httpx.Client) -> Callable[[], object]:
        return lambda: http.post("http://mock.test/api/v2/sources", json={"name": f"Source {next(counter)}"})

    _, bare, _ = core_with(0, None)
    baseline = per_call(write(bare), seconds)
    for size in [0, *sizes]:
        state = folder / f"write-{size}.db"
        core, http, _ = core_with(size, state)
        cost = per_call(write(http), seconds)
        rows.append((f"write, file with {size:,} contacts", cost, baseline))
        core.close()
    return rows


def list_rates(sizes: list[int], seconds: float) -> list[tuple[str, float, float]]:
    rows = []
    _, empty, _ = core_with(0, None)
    for size in sizes:
        _, http, _ = core_with(size, None)
        firsts = []
        for name, query in LIST_CALLS.items():
            started = time.perf_counter()
            http.get(CONTACTS, params=query)  # the first call of a shape builds its index
            first = time.perf_counter() - started
            cost, base = paired(
                lambda q=query: empty.get(CONTACTS, params=q),
                lambda q=query, client=http: client.get(CONTACTS, params=q),
                seconds * 2,
            )
            rows.append((f"GET /contacts {name}, {size:,} contacts", cost, base))
            if query:
                firsts.append((f"GET /contacts {name}, first call, {size:,} contacts", first, base))
        rows += firsts
    return rows


def start_up(size: int, folder: Path) -> list[tuple[str, float, float]]:
    state = folder / "start.db"
    core, _, token = core_with(size, state)
    core.close()

    def start(*args: str) -> tuple[float, list[float]]:
        """Seconds to the first answer, and of the first two ``GET /contacts`` of the filled tenant."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "--port", "0", "--log-level", "warning", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=PROJECT,
        )
        try:
            for line in process.stdout:
                if "API:" in line:
                    url = line.split()[-1]
                    httpx.get(url + "/account", headers={"Authorization": "Bearer wacr_test_full"})
                    ready = time.perf_counter() - started
                    lists = []
                    for _ in range(2):
                        begun = time.perf_counter()
                        httpx.get(url + "/contacts", headers={"Authorization": f"Bearer {token}"})
                        lists.append(time.perf_counter() - begun)
                    return ready, lists
            raise SystemExit("the mock did not start")
        finally:
            process.terminate()
            process.wait()

    on_file, (first, second) = start("--state-file", str(state))
    bare, _ = start()
    return [
        (f"start-up, {size:,} contacts on file", on_file, bare),
        (f"first GET /contacts after start-up (reads the {size:,})", first, second),
    ]


def memory(size: int) -> list[tuple[str, float, float]]:
    gc.collect()
    tracemalloc.start()
    core, http, _ = core_with(0, None)
    before = tracemalloc.get_traced_memory()[0]
    sqlite_before = sqlite3_bytes(core)
    add_contacts(core, 2, size)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    database = sqlite3_bytes(core) - sqlite_before
    before = tracemalloc.get_traced_memory()[0]
    http.get(CONTACTS, params=LIST_CALLS["sort"])  # builds the list's index
    gc.collect()
    index = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    per_10k = 10_000 / size
    return [
        ("memory per 10,000 contacts, Python working set (MB)", grown * per_10k / 1e6, 0.0),
        ("memory per 10,000 contacts, in-memory SQLite (MB)", database * per_10k / 1e6, 0.0),
        ("memory per 10,000 contacts, one list index (the sort's) (MB)", index * per_10k / 1e6, 0.0),
    ]


def sqlite3_bytes(core: MockCore) -> int:
    connection: sqlite3.Connection = core.database.connection
    (pages,) = connection.execute("PRAGMA page_count").fetchone()
    (size,) = connection.execute("PRAGMA page_size").fetchone()
    return pages * size


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    options.add_argument("--list-sizes", type=int, nargs="+", default=[10_000, 100_000])
    options.add_argument("--seconds", type=float, default=1.0, help="time per measure")
    args = options.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wacr-store-bench-"))
    try:
        rows = write_cost(args.sizes, args.seconds, folder)
        rows += list_rates(args.list_sizes, args.seconds)
        rows += start_up(max(args.sizes), folder)
        rows += memory(10_000)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{'measure':64} {'value':>10} {'baseline':>10} {'ratio':>7}")
    for name, value, base in rows:
        if name.startswith("memory"):
            print(f"{name:64} {value:>10.1f}")
        elif name.startswith("GET"):  # a rate: the baseline's time over this one's
            print(f"{name:64} {value * 1000:>8.2f}ms {base * 1000:>8.2f}ms {base / value:>6.0%}")
        else:
            print(f"{name:64} {value * 1000:>8.2f}ms {base * 1000:>8.2f}ms {value / base:>6.2f}x")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
