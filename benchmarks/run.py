"""Load benchmark: our mock (uvicorn) against Prism 5.16 on the same spec, driven by wrk.

    python benchmarks/run.py [--duration 10] [--connections 32] [--threads 2] [--prism PATH]

Both servers listen on 127.0.0.1 only and are stopped at the end. Each endpoint gets the same
load on both: GET /contacts, POST /contacts (a unique phone per request) and POST /auth/verify
(a unique phone per request). Prints req/s, p50 and p99 latency per endpoint and server, the
ratio mock/Prism, and each server's start-up time (until its first 200 or 401 answer).
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
PRISM_VERSION = "5.16.0"
INSTALL_PRISM = (
    f"npm install @stoplight/prism-cli@{PRISM_VERSION}   (then pass --prism node_modules/.bin/prism)"
)
HOST = "127.0.0.1"
START_TIMEOUT = 60.0

# wrk script: one request shape per endpoint; ``%PHONE%`` becomes a phone unique across threads.
LUA = r"""
local counter = 0
thread_id = 0  -- a global: setup() gives each thread its own number through thread:set
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end

wrk.method = "{method}"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
local template = [[{body}]]

function request()
  if template == "" then
    return wrk.format(nil, "{path}")
  end
  counter = counter + 1
  local phone = string.format("1%02d%08d", thread_id, counter)
  return wrk.format(nil, "{path}", nil, (template:gsub("%%PHONE%%", phone)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK-RESULT {{\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, " ..
    "\"non_2xx\": %d, \"socket_errors\": %d}}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Endpoint:
    name: str
    method: str
    path: str  # relative to the API base
    body: str  # JSON with %PHONE%, or "" for no body


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base: str  # the API base URL: ours has /api/v2, Prism serves the spec's paths at its root
    startup_seconds: float
    token: str = "any-token"  # Prism only checks that a bearer token is present
    source_id: int = 1
    status_id: int = 1

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def start(name: str, command: list[str], base: str, workdir: Path) -> Server:
    """Starts ``command`` and waits for its first 200 or 401 on GET {base}/contacts, timing it."""
    log = workdir / f"{name}.log"
    started = time.perf_counter()
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=PROJECT)
    while time.perf_counter() - started < START_TIMEOUT:
        if process.poll() is not None:
            raise SystemExit(
                f"{name} exited at start (status {process.returncode}); see {log}:\n{log.read_text()[-2000:]}"
            )
        if status_of(f"{base}/contacts") in (200, 401):
            return Server(name, process, base, time.perf_counter() - started)
        time.sleep(0.01)
    process.kill()
    raise SystemExit(f"{name} did not answer within {START_TIMEOUT:.0f}s; see {log}")


def use_roomy_tenant(server: Server, root: str) -> None:
    """A tenant whose limits never get in the way of the load (D14 control API)."""
    body = json.dumps(
        {"rate_limit_per_minute": 100_000_000, "limits": {"contacts": -1, "conversations": -1}}
    ).encode()
    request = urllib.request.Request(
        f"{root}/__mock__/tenants", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    server.token = answer["token"]
    server.source_id, server.status_id = answer["default_source_id"], answer["default_status_id"]


def find_prism(given: str | None) -> list[str]:
    """--prism PATH, else ``prism`` on PATH, else ``npx --no-install prism``."""
    if given:
        return [given]
    on_path = shutil.which("prism")
    if on_path:
        return [on_path]
    npx = shutil.which("npx")
    if (
        npx
        and subprocess.run(
            [npx, "--no-install", "prism", "--version"], capture_output=True, cwd=PROJECT
        ).returncode
        == 0
    ):
        return [npx, "--no-install", "prism"]
    raise SystemExit(f"Prism not found: pass --prism PATH, or install it:\n  {INSTALL_PRISM}")


def find_wrk(given: str | None) -> str:
    found = given or shutil.which("wrk") or ("/usr/bin/wrk" if os.path.exists("/usr/bin/wrk") else None)
    if not found:
        raise SystemExit("wrk not found: install it with `apt-get install wrk` (or pass --wrk PATH)")
    return found


def run_wrk(wrk: str, server: Server, endpoint: Endpoint, args: argparse.Namespace, workdir: Path) -> dict:
    script = workdir / f"{server.name}-{endpoint.name.replace(' ', '_').replace('/', '_')}.lua"
    path = urllib.parse.urlsplit(server.base).path + endpoint.path
    script.write_text(LUA.format(method=endpoint.method, token=server.token, body=endpoint.body, path=path))
    command = [
        wrk,
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        server.base + endpoint.path,
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    line = next((ln for ln in finished.stdout.splitlines() if ln.startswith("WRK-RESULT ")), None)
    if line is None:
        raise SystemExit(
            f"wrk gave no result for {server.name} {endpoint.name}:\n{finished.stdout}\n{finished.stderr}"
        )
    result = json.loads(line.removeprefix("WRK-RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def endpoints(server: Server) -> list[Endpoint]:
    contact = {
        "firstname": "Bench",
        "lastname": "Mark",
        "phone": "%PHONE%",
        "type": "lead",
        "source_id": server.source_id,
        "status_id": server.status_id,
    }
    return [
        Endpoint("GET /contacts", "GET", "/contacts", ""),
        Endpoint("POST /contacts", "POST", "/contacts", json.dumps(contact)),
        Endpoint(
            "POST /auth/verify", "POST", "/auth/verify", json.dumps({"phone": "%PHONE%", "code": "123456"})
        ),
    ]


def start_servers(prism: list[str], workdir: Path) -> list[Server]:
    """Our mock (access log off) and Prism (logging silenced), both on loopback."""
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
    mock = start("mock", command, f"http://{HOST}:{port}/api/v2", workdir)
    use_roomy_tenant(mock, f"http://{HOST}:{port}")
    port = free_port()
    command = [*prism, "mock", "openapi.yaml", "-p", str(port), "-h", HOST, "--verboseLevel", "silent"]
    return [mock, start("prism", command, f"http://{HOST}:{port}", workdir)]


def print_table(results: dict[tuple[str, str], dict], servers: list[Server]) -> None:
    rows = [("endpoint", "server", "req/s", "p50 ms", "p99 ms", "non-2xx", "mock/Prism")]
    for endpoint in endpoints(servers[0]):
        mine, theirs = results[(endpoint.name, "mock")], results[(endpoint.name, "prism")]
        for name, result in (("mock", mine), ("prism", theirs)):
            ratio = f"{mine['rps'] / theirs['rps']:.2f}x" if name == "mock" and theirs["rps"] else ""
            rows.append(
                (
                    endpoint.name,
                    name,
                    f"{result['rps']:.0f}",
                    f"{result['p50_us'] / 1000:.2f}",
                    f"{result['p99_us'] / 1000:.2f}",
                    str(result["non_2xx"]),
                    ratio,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print()
    for server in servers:
        print(f"start-up {server.name:<5}: {server.startup_seconds:.2f}s (until its first 200/401 answer)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--prism", default=None, help=f"the prism executable ({PRISM_VERSION}); default: PATH, then npx"
    )
    parser.add_argument("--wrk", default=None, help="the wrk executable; default: PATH")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    wrk = find_wrk(args.wrk)
    prism = find_prism(args.prism)
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="wacr-bench-") as tmp:
        workdir = Path(tmp)
        servers = start_servers(prism, workdir)
        try:
            for index in range(len(endpoints(servers[0]))):
                for server in servers:
                    endpoint = endpoints(server)[index]
                    print(
                        f"... {endpoint.name} on {server.name} ({args.duration}s)",
                        file=sys.stderr,
                        flush=True,
                    )
                    results[(endpoint.name, server.name)] = run_wrk(wrk, server, endpoint, args, workdir)
        finally:
            for server in servers:
                server.stop()
    print(
        f"\nwrk: {args.threads} threads, {args.connections} connections, {args.duration}s per run, {HOST}\n"
    )
    print_table(results, servers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
