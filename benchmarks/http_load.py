"""The mock over HTTP against a bare Starlette endpoint, and its health under big uploads.

    python benchmarks/http_load.py                    # both parts, wrk if installed (10 s per run)
    python benchmarks/http_load.py --part throughput --duration 5
    python benchmarks/http_load.py --part stall

(Not ``http.py``: run as a script, a file of that name would shadow the standard library's ``http``.)

Everything listens on 127.0.0.1 and is stopped at the end. Two parts, each with its baseline measured
in the same run:

- **throughput**: ``GET /contacts``, ``POST /contacts`` (a unique phone per request) and
  ``POST /auth/verify`` (a unique phone per request: the documented 422 ``OTP_NOT_FOUND``) on the
  mock, each followed at once by the same requests to a bare Starlette app on the same uvicorn
  settings (``mockserver.cli.server_config``), which reads the request body and answers with the
  status and body the mock gave to the same request. Prints requests per second and the ratio
  mock / bare (goal: >= 0.60). The load comes from ``wrk`` when it is on PATH
  (``apt-get install wrk``), else from a built-in load generator (Python threads, slower: compare
  ratios only within one run).
- **stall**: ``GET /__mock__/health`` sent every 50 ms (without waiting for earlier ones), first on
  an idle mock, then while a 100 MB multipart upload (``POST /messages/media``, a valid document)
  and a 10 MB bad batch (``POST /contacts/batch``) are in flight. Prints health p50, p99 and max
  (goal: p99 < 250 ms while loaded) and the two big requests' status and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from run import HOST, PROJECT, Endpoint, Server, endpoints, free_port, run_wrk, start, use_roomy_tenant

GOAL_RATIO = 0.60
GOAL_P99_MS = 250.0


# --- the baseline: a bare Starlette endpoint ------------------------------------------------------


def serve_bare(port: int, answers_file: Path) -> None:
    """A Starlette app answering each (method, path) with the recorded status and body."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from mockserver.cli import server_config

    recorded = json.loads(answers_file.read_text())

    def endpoint(status: int, body: bytes):
        async def answer(request: Request) -> Response:
            await request.body()  # read as the mock reads it
            return Response(body, status_code=status, media_type="application/json")

        return answer

    # One route per recorded answer; GET and POST /contacts share a path and are told apart by method.
    app = Starlette(
        routes=[
            Route(e["path"], endpoint(e["status"], e["body"].encode()), methods=[e["method"]])
            for e in recorded
        ]
    )
    uvicorn.Server(server_config(app, HOST, port, "warning")).run()


def recorded_answer(server: Server, endpoint: Endpoint, phone: str) -> dict:
    """What the mock answers to one request of ``endpoint``: the bare app serves the same."""
    connection = http.client.HTTPConnection(HOST, int(server.base.split(":")[2].split("/")[0]), timeout=10)
    path = "/api/v2" + endpoint.path
    body = endpoint.body.replace("%PHONE%", phone) or None
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
    connection.request(endpoint.method, path, body=body, headers=headers)
    answer = connection.getresponse()
    entry = {"method": endpoint.method, "path": path, "status": answer.status, "body": answer.read().decode()}
    connection.close()
    return entry


# --- load without wrk ---------------------------------------------------------------------------


def builtin_load(server: Server, endpoint: Endpoint, connections: int, duration: float) -> dict:
    """``connections`` threads, each on one keep-alive connection, for ``duration`` seconds."""
    port = int(server.base.split(":")[2].split("/")[0])
    path = "/api/v2" + endpoint.path
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
    counts: list[int] = []
    deadline = time.perf_counter() + duration

    def worker(number: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        done = 0
        while time.perf_counter() < deadline:
            phone = f"19{number:03d}{done:06d}"
            connection.request(
                endpoint.method, path, body=endpoint.body.replace("%PHONE%", phone) or None, headers=headers
            )
            connection.getresponse().read()
            done += 1
        connection.close()
        counts.append(done)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"rps": sum(counts) / (time.perf_counter() - started)}


def throughput(args: argparse.Namespace, workdir: Path) -> None:
    wrk = shutil.which("wrk")
    port = free_port()
    mock_command = [
        sys.executable,
        "-m",
        "mockserver",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    mock = start("mock", mock_command, f"http://{HOST}:{port}/api/v2", workdir)
    bare = None
    try:
        use_roomy_tenant(mock, f"http://{HOST}:{port}")
        # The bodies as the mock gives them on its (then empty) benchmark tenant; they are recorded on a
        # second tenant so the measured one starts empty.
        probe = Server("probe", mock.process, mock.base, 0.0)
        use_roomy_tenant(probe, f"http://{HOST}:{port}")
        answers = [recorded_answer(probe, e, "15550000001") for e in endpoints(probe)]
        answers_file = workdir / "answers.json"
        answers_file.write_text(json.dumps(answers))
        bare_port = free_port()
        bare_command = [sys.executable, __file__, "--serve-bare", str(bare_port), str(answers_file)]
        bare = start("bare", bare_command, f"http://{HOST}:{bare_port}/api/v2", workdir)
        bare.token = mock.token
        tool = f"wrk, {args.threads} threads" if wrk else "built-in load generator (wrk not found)"
        print(f"\nthroughput: {tool}, {args.connections} connections, {args.duration}s per run, {HOST}\n")
        rows = [("endpoint", "mock req/s", "bare req/s", "mock/bare", f"goal >= {GOAL_RATIO:.2f}")]
        for mine, theirs in zip(endpoints(mock), endpoints(bare), strict=True):
            rates = []
            for server, endpoint in ((mock, mine), (bare, theirs)):
                print(f"... {endpoint.name} on {server.name}", file=sys.stderr, flush=True)
                if wrk:
                    result = run_wrk(wrk, server, endpoint, args, workdir)
                else:
                    result = builtin_load(server, endpoint, args.connections, args.duration)
                rates.append(result["rps"])
            ratio = rates[0] / rates[1]
            rows.append(
                (
                    mine.name,
                    f"{rates[0]:.0f}",
                    f"{rates[1]:.0f}",
                    f"{ratio:.2f}",
                    "met" if ratio >= GOAL_RATIO else "NOT met",
                )
            )
        print_rows(rows)
    finally:
        mock.stop()
        if bare is not None:
            bare.stop()


# --- health while big bodies are in flight ---------------------------------------------------------


def multipart_upload(size: int) -> tuple[bytes, str]:
    boundary = "benchmark-boundary"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("phone", "15551112222"), ("media_type", "document"))
    )
    file_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="media_file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    body = (head + file_head).encode() + b"%" * size + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def bad_batch(size: int) -> bytes:
    item = b'{"firstname":1,"phone":"x"},'
    return b'{"contacts":[' + item * (size // len(item)) + b'{"firstname":1}]}'


def timed_request(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.status, time.perf_counter() - started


def health_latencies(port: int, seconds: float, until: threading.Event | None = None) -> list[float]:
    """``GET /__mock__/health`` every 50 ms for ``seconds`` (or until ``until`` is set), not waiting for earlier
    ones; each latency counts from the moment its request was due."""
    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=64) as pool:
        futures = []
        started = time.perf_counter()
        while time.perf_counter() - started < seconds and not (until and until.is_set()):
            futures.append(pool.submit(timed_request, port, "GET", "/__mock__/health", None, {}))
            time.sleep(0.05)
        for future in futures:
            status, latency = future.result()
            if status == 200:
                latencies.append(latency)
    return latencies


def summary(latencies: list[float]) -> tuple[str, str, str, str]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        str(len(ordered)),
        f"{statistics.median(ordered) * 1000:.1f}",
        f"{p99 * 1000:.1f}",
        f"{ordered[-1] * 1000:.1f}",
    )


def stall(args: argparse.Namespace, workdir: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    mock = start("mock-stall", command, f"http://{HOST}:{port}/api/v2", workdir)
    try:
        use_roomy_tenant(mock, f"http://{HOST}:{port}")
        auth = {"Authorization": f"Bearer {mock.token}"}
        upload, upload_type = multipart_upload(args.upload_mb * 1000 * 1000)
        batch = bad_batch(args.batch_mb * 1000 * 1000)
        idle = health_latencies(port, 3.0)
        finished = threading.Event()
        outcomes: dict[str, tuple[int, float]] = {}

        def big(name: str, path: str, body: bytes, content_type: str) -> None:
            outcomes[name] = timed_request(port, "POST", path, body, {**auth, "Content-Type": content_type})

        def both() -> None:
            threads = [
                threading.Thread(target=big, args=("upload", "/api/v2/messages/media", upload, upload_type)),
                threading.Thread(
                    target=big, args=("batch", "/api/v2/contacts/batch", batch, "application/json")
                ),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            finished.set()

        loader = threading.Thread(target=both)
        loader.start()
        loaded = health_latencies(port, 120.0, finished)
        loader.join()
    finally:
        mock.stop()
    print(f"\nstall: GET /__mock__/health every 50 ms, {HOST}\n")
    rows = [("mock state", "pings", "p50 ms", "p99 ms", "max ms")]
    rows.append(("idle (3 s)", *summary(idle)))
    rows.append((f"{args.upload_mb} MB upload + {args.batch_mb} MB bad batch in flight", *summary(loaded)))
    print_rows(rows)
    p99 = float(summary(loaded)[2])
    print(
        f"\nhealth p99 while loaded: {p99:.1f} ms (goal < {GOAL_P99_MS:.0f} ms: {'met' if p99 < GOAL_P99_MS else 'NOT met'})"
    )
    for name, (status, seconds) in outcomes.items():
        print(f"{name}: HTTP {status} in {seconds:.2f}s")


def print_rows(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("throughput", "stall", "both"), default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--upload-mb", type=int, default=100, help="the upload's file size (default 100)")
    parser.add_argument("--batch-mb", type=int, default=10, help="the bad batch's size (default 10)")
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "ANSWERS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), Path(args.serve_bare[1]))
        return 0
    with tempfile.TemporaryDirectory(prefix="wacr-http-bench-") as tmp:
        if args.part in ("throughput", "both"):
            throughput(args, Path(tmp))
        if args.part in ("stall", "both"):
            stall(args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(PROJECT))
    sys.exit(main())
