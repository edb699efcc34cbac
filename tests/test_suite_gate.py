"""The contract suite as a CI gate: a run that judged nothing must not pass.

Each test runs the suite in a pytest process of its own, as a CI job would.
"""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.in_process import start_server
from contract_tests.target import Pacer
from tests.test_hostile_targets import proxy_to, serve

PROJECT = Path(__file__).resolve().parent.parent
CHEAP_MODULE = "contract_tests/test_crud_model.py"


def run_suite(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", CHEAP_MODULE, "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=300)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def plain_web_server() -> Iterator[str]:
    """A web server on loopback that is not WA.cr at all."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_unreachable_target_stops_the_run_with_one_line() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/v2"
    result = run_suite("--base-url", url)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert f"cannot reach --base-url {url}" in result.stderr
    assert "passed" not in result.stdout and "skipped" not in result.stdout


def test_a_target_that_is_not_wacr_stops_the_run(plain_web_server: str) -> None:
    result = run_suite("--base-url", plain_web_server, "--token", "")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "does not answer like the WA.cr API v2" in result.stderr
    assert "must include /api/v2" in result.stderr


def test_a_run_in_which_no_check_ran_fails() -> None:
    """A mock without its control API and no --token: every check skips, so the run judged nothing."""
    server = start_server("--no-control")
    try:
        result = run_suite("--base-url", server.api_url)
    finally:
        server.stop()
    assert result.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout + result.stderr
    assert "none of the" in result.stdout and "checks ran" in result.stdout
    assert " passed" not in result.stdout


# --- live-server pacing --------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_pacer_keeps_a_sliding_window_of_calls() -> None:
    fake = FakeTime()
    pacer = Pacer(3, 60, clock=fake.clock, sleep=fake.sleep)
    assert [pacer.wait() for _ in range(3)] == [0.0, 0.0, 0.0]
    fake.now += 10
    assert pacer.wait() == pytest.approx(50.0)  # the first call leaves the window at t=60
    assert fake.now == pytest.approx(1060.0)
    assert [pacer.wait() for _ in range(2)] == [0.0, 0.0]  # all three first calls left at t=60
    assert pacer.wait() == pytest.approx(60.0)  # calls 4-6 fill the window from t=60


@pytest.mark.parametrize("text", ["60", "x/m", "0/m", "10/fortnight", ""])
def test_a_malformed_rate_limit_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Pacer.parse(text)


def test_rate_limit_paces_a_run_and_the_closing_line_says_so() -> None:
    server = start_server()
    try:
        result = run_suite(
            "--base-url",
            server.api_url,
            "--rate-limit",
            "20/s",
            "-k",
            "test_taken_name_gets_the_documented_message",
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if "requests sent" in line)
    sent = int(line.split("WA.cr contract: ")[1].split(" requests")[0].replace(",", ""))
    paced = float(line.split("(")[1].split(" s pacing")[0])
    # The window holds 20 calls a second, so the rest of the calls must have waited for room; the
    # time spent sending counts towards the window too, hence only half of the lower bound.
    assert sent > 40 and paced >= (sent - 20) / 20 / 2, line


# --- the suite outside this repository -------------------------------------------------------------


def test_the_suite_runs_from_any_folder(tmp_path: Path) -> None:
    """The plugin comes from the package's pytest11 entry point, not from this repository's conftest."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "contract_tests",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "test_taken_name_gets_the_documented_message",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "WA.cr contract:" in result.stdout


def test_wacr_contract_passes_its_options_to_the_suite(tmp_path: Path) -> None:
    report = tmp_path / "report"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contract_tests.cli",
            "--level",
            "documented",
            "--report",
            str(report),
            "--",
            "-k",
            "test_taken_name_gets_the_documented_message",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (report / "index.html").is_file() and (report / "report.json").is_file()
    assert "contract level</b> documented" in (report / "index.html").read_text()


def test_rate_limit_holds_for_the_whole_run_across_xdist_workers() -> None:
    """Two workers under --rate-limit 10/s: no second of the run sees more than 10 API calls."""
    server = start_server()
    arrivals: list[float] = []
    record = proxy_to(server.api_url.removesuffix("/api/v2"), lambda status, body: (status, body))

    def timed(handler) -> None:
        if handler.path.startswith("/api/v2"):
            arrivals.append(time.monotonic())
        record(handler)

    proxy, url = serve(timed)
    try:
        result = run_suite(
            "--base-url",
            url,
            "--rate-limit",
            "10/s",
            "-n",
            "2",
            "-k",
            "test_taken_name or test_group_membership",
        )
    finally:
        proxy.shutdown()
        proxy.server_close()
        server.stop()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert len(arrivals) > 30, len(arrivals)
    # Arrivals are stamped after the network, which bunches some under load: a little slack. Two
    # workers pacing alone would send 20 a second and take half the time.
    busiest = max(sum(start <= t < start + 1 for t in arrivals) for start in arrivals)
    assert busiest <= 13, busiest
    assert arrivals[-1] - arrivals[0] >= 0.9 * (len(arrivals) - 10) / 10
