"""A hostile or broken target gets a verdict, never a hang or a crash (reliability review §5).

Each test runs the suite in a pytest process of its own, as a CI job would, against a small server
broken in one way, then reads the whole report and the child's peak memory.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contract_tests.in_process import start_server

PEAK_MEMORY_MB = 300
# Hypothesis builds its table of the characters codec "utf-8" can encode (schemathesis generates with it)
# once per storage folder, which costs some 200 MB the first time and nothing after: the runs here share
# one storage folder warmed beforehand, so what they measure is the suite's own work on the target.
_WARM_STORAGE: list[Path] = []


def warm_hypothesis_storage(folder: Path) -> dict[str, str]:
    """The environment of a child run whose Hypothesis storage already holds the utf-8 character table."""
    if not _WARM_STORAGE:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from hypothesis.internal.charmap import intervals_from_codec as f; f('utf-8')",
            ],
            env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(folder)},
            check=True,
        )
        _WARM_STORAGE.append(folder)
    return {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(_WARM_STORAGE[0])}


Respond = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class Run:
    exit_status: int
    output: str
    peak_mb: float
    seconds: float
    report: dict | None


def run_suite(tmp_path: Path, *args: str, suite: str = "contract_tests", timeout: float = 240) -> Run:
    """The suite (or one of its modules) in a child process from an empty folder; its exit status,
    output and peak memory."""
    log = tmp_path / "console.txt"
    command = [sys.executable, "-m", "pytest", "--pyargs", suite, "-q", "-p", "no:cacheprovider"]
    command += ["--wacr-report", str(tmp_path / "report"), *args]
    started = time.monotonic()
    with log.open("w") as out:
        env = warm_hypothesis_storage(tmp_path.parent / "hypothesis-storage")
        child = subprocess.Popen(command, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env=env)
        killer = threading.Timer(timeout, child.kill)
        killer.start()
        peak = PeakMemory(child.pid, command)
        child.wait()
        killer.cancel()
        peak.stop()
    report_file = tmp_path / "report" / "report.json"
    return Run(
        child.returncode,
        log.read_text(),
        peak.megabytes,
        time.monotonic() - started,
        json.loads(report_file.read_text()) if report_file.exists() else None,
    )


class PeakMemory:
    """A process's peak resident memory (Linux: VmHWM of /proc/PID/status), sampled while it runs.

    ``getrusage``'s ru_maxrss would be wrong here: a child started by fork or vfork inherits the
    parent's (this test process's) high-water mark at exec, so it reports at least the parent's size.
    """

    def __init__(self, pid: int, command: list[str], every: float = 0.05) -> None:
        self.status, self.every, self.kilobytes = Path(f"/proc/{pid}/status"), every, 0
        # Until its exec, the child is still this process (vfork shares its memory): not measured.
        self.cmdline, self.argv = Path(f"/proc/{pid}/cmdline"), "\0".join(command) + "\0"
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.done.is_set():
            self.kilobytes = max(self.kilobytes, self.high_water())
            self.done.wait(self.every)

    def high_water(self) -> int:
        try:
            if self.cmdline.read_text() != self.argv:
                return 0
            line = next(x for x in self.status.read_text().splitlines() if x.startswith("VmHWM:"))
        except (OSError, StopIteration):  # exited, or a zombie without memory
            return 0
        return int(line.split()[1])

    def stop(self) -> None:
        self.done.set()
        self.thread.join()

    @property
    def megabytes(self) -> float:
        return self.kilobytes / 1024


def serve(respond: Respond) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A loopback server whose every request is answered by ``respond``; returns it and its /api/v2 URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK wait

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(length) if length else b""
            respond(self)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = answer

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/api/v2"


@pytest.fixture
def hostile() -> Iterator[Callable[[Respond], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(respond: Respond) -> str:
        server, url = serve(respond)
        servers.append(server)
        return url

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def send(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", headers.pop("content_type", "application/json"))
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def success_to_everything(handler: http.server.BaseHTTPRequestHandler) -> None:
    send(handler, 200, b'{"success": true}')


def endless_body(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b" " * 65536
    while True:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def one_byte_every_five_seconds(handler: http.server.BaseHTTPRequestHandler) -> None:
    handler.send_response(401)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(1000):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(5)


def fifty_megabytes(handler: http.server.BaseHTTPRequestHandler) -> None:
    send(handler, 401, b'{"success": false, "pad": "' + b"x" * (50 * 2**20) + b'"}')


def assert_verdict(run: Run, exit_status: int, peak_mb: float = PEAK_MEMORY_MB) -> None:
    assert run.exit_status == exit_status, run.output[-3000:]
    assert "INTERNALERROR" not in run.output, run.output[-3000:]
    assert run.peak_mb < peak_mb, f"peak memory {run.peak_mb:.0f} MB"


@pytest.mark.parametrize(
    ("respond", "says"),
    [
        (success_to_everything, '"success": true`; a WA.cr server refuses a request without a token'),
        (endless_body, "the answer passed 8,388,608 bytes"),
        # Each byte comes sooner than a read times out: only the answer's total time limit ends it.
        (one_byte_every_five_seconds, "the answer was not complete within 7 s (--answer-timeout)"),
        (fifty_megabytes, "the answer passed 8,388,608 bytes"),
    ],
    ids=["success to everything", "endless body", "one byte every 5 s", "50 MB answers"],
)
def test_a_target_unlike_any_wacr_server_stops_the_run_with_one_line(
    tmp_path: Path, hostile, respond: Respond, says: str
) -> None:
    url = hostile(respond)
    run = run_suite(tmp_path, "--base-url", url, "--token", "t", "--answer-timeout", "7", timeout=120)
    assert_verdict(run, pytest.ExitCode.USAGE_ERROR)
    reason = [line for line in run.output.splitlines() if "does not answer like the WA.cr API v2" in line]
    assert len(reason) == 1 and says in reason[0], run.output[-3000:]
    assert run.seconds < 60


def proxy_to(upstream: str, rewrite: Callable[[int, dict], tuple[int, dict]]) -> Respond:
    """Forwards each request to ``upstream`` (a mock's root URL) and rewrites its JSON answers."""
    client = httpx.Client(timeout=30)

    def respond(handler: http.server.BaseHTTPRequestHandler) -> None:
        skip = {"host", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
        answer = client.request(
            handler.command, upstream + handler.path, headers=headers, content=handler.body
        )
        status, body = answer.status_code, answer.content
        if answer.headers.get("content-type", "").startswith("application/json"):
            status, data = rewrite(status, answer.json())
            body = json.dumps(data).encode()
        kept = {
            k: v for k, v in answer.headers.items() if k.lower().startswith(("x-", "retry-after", "allow"))
        }
        send(handler, status, body, **kept)

    return respond


def without_error_code(status: int, body: dict) -> tuple[int, dict]:
    if isinstance(body.get("error"), dict):
        body["error"].pop("code", None)
    return status, body


@pytest.fixture
def mock() -> Iterator[str]:
    server = start_server()
    yield server.api_url.removesuffix("/api/v2")
    server.stop()


def test_a_server_whose_errors_lack_their_code_gets_every_check_reported(
    tmp_path: Path, hostile, mock
) -> None:
    """The module whose failing checks end with a streamed multipart upload (it once crashed the report)."""
    url = hostile(proxy_to(mock, without_error_code))
    run = run_suite(tmp_path, "--base-url", url, suite="contract_tests.test_messages_templates")
    assert_verdict(run, pytest.ExitCode.TESTS_FAILED)
    failures = assert_reported_whole(run)
    uploads = [f for f in failures if "filename=" in (f["exchange"] or {}).get("curl", "")]
    assert uploads, "no failure whose last request was a file upload"


def test_a_server_answering_validation_failures_with_400_gets_every_check_reported(tmp_path: Path) -> None:
    server = start_server("--mutant", "validation_status_400")
    try:
        run = run_suite(tmp_path, "--base-url", server.api_url, "--smoke")
    finally:
        server.stop()
    assert_verdict(run, pytest.ExitCode.TESTS_FAILED, peak_mb=PEAK_MEMORY_MB)
    failures = assert_reported_whole(run)
    assert any(f["exchange"] and f["exchange"]["status"] == 400 for f in failures)


def control_answering_success(handler: http.server.BaseHTTPRequestHandler) -> None:
    """A documented 401 and a D14 health answer, and ``{"success": true}`` to every other call."""
    if handler.path.endswith("/__mock__/health"):
        send(handler, 200, b'{"status": "ok"}')
    elif handler.path.startswith("/api/v2") and "Authorization" not in handler.headers:
        send(handler, 401, b'{"success": false, "error": {"code": "UNAUTHORIZED", "message": "no token"}}')
    else:
        send(handler, 200, b'{"success": true}')


def test_a_control_api_answering_nonsense_stops_the_run_with_one_line(tmp_path: Path, hostile) -> None:
    run = run_suite(tmp_path, "--base-url", hostile(control_answering_success), "--smoke")
    assert_verdict(run, pytest.ExitCode.USAGE_ERROR, peak_mb=PEAK_MEMORY_MB)
    assert run.output.count("not a WA.cr mock's control API") <= 2, run.output[-3000:]
    closing = [line for line in run.output.splitlines() if line.startswith("WA.cr contract: stopped:")]
    assert len(closing) == 1 and closing[0].endswith("exit 4"), run.output[-3000:]
    assert "KeyError" not in run.output


def assert_reported_whole(run: Run) -> list[dict]:
    """Every check the console counted is in the report, and every failure shows what was sent."""
    assert run.report is not None, run.output[-3000:]
    checks = run.report["checks"]
    last = run.output.strip().splitlines()[-1]
    counted = sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed|skipped|errors?)\b", last))
    assert len(checks) == counted, last
    failures = [c for c in checks if c["outcome"] == "failed"]
    assert failures
    assert all(c["exchange"]["curl"].startswith("curl ") for c in failures if c["exchange"])
    return failures
