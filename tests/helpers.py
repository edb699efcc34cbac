"""Helpers of the mock's own tests: in-process clients and tenants, and the mock as a real process.

The fixtures that use them are in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contract_tests.in_process import stop_process
from mockserver.core import MockCore
from mockserver.transport import MockTransport

PYTHON = sys.executable
PROJECT = Path(__file__).resolve().parent.parent
FULL_TOKEN = "wacr_test_full"
READONLY_TOKEN = "wacr_test_readonly"
START_TIMEOUT = 30.0

READY = re.compile(r"wacr-mock ready in ([0-9.]+)s")
API_LINE = re.compile(r"API:\s+http://[^\s/]+:(\d+)/api/v2")
SECRET_LINE = re.compile(r"X-Mock-Admin-Secret: (\S+)")

PYTHON = sys.executable


PROJECT = Path(__file__).resolve().parent.parent


FULL_TOKEN = "wacr_test_full"


READONLY_TOKEN = "wacr_test_readonly"


START_TIMEOUT = 30.0


READY = re.compile(r"wacr-mock ready in ([0-9.]+)s")


API_LINE = re.compile(r"API:\s+http://[^\s/]+:(\d+)/api/v2")


SECRET_LINE = re.compile(r"X-Mock-Admin-Secret: (\S+)")


def api_client(core: MockCore, token: str | None = FULL_TOKEN) -> httpx.Client:
    """An httpx client on the in-process core, base URL ``.../api/v2``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(transport=MockTransport(core), base_url="http://mock.test/api/v2", headers=headers)


def new_tenant(control_client: httpx.Client, **options) -> dict:
    """``POST /__mock__/tenants``; returns its answer (tenant_id, token, default ids)."""
    response = control_client.post("/tenants", json=options)
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class MockServer:
    """One ``python -m mockserver`` process, ready; ``root`` is always reached through 127.0.0.1."""

    process: subprocess.Popen
    port: int
    ready_seconds: float
    output: list[str] = field(default_factory=list)
    admin_secret: str | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return self.root + "/api/v2"

    def client(self, token: str | None = FULL_TOKEN, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.api, headers=headers, timeout=30.0, **kwargs)

    def stop(self) -> None:
        stop_process(self.process)


def mock_command(*args: str) -> list[str]:
    return [PYTHON, "-m", "mockserver", "--port", "0", "--log-level", "warning", *args]


def start_mock(*args: str) -> MockServer:
    """Starts the mock with CLI ``args`` and waits for its ready banner (which names the port)."""
    process = subprocess.Popen(
        mock_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if API_LINE.search(line):
                ready.set()
        ready.set()  # the process ended: stop waiting

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(START_TIMEOUT) or process.poll() is not None:
        process.kill()
        raise AssertionError("the mock did not start:\n" + "\n".join(lines))
    text = "\n".join(lines)
    secret = SECRET_LINE.search(text)
    return MockServer(
        process,
        port=int(API_LINE.search(text).group(1)),
        ready_seconds=float(READY.search(text).group(1)),
        output=lines,
        admin_secret=secret.group(1) if secret else None,
    )


def run_mock_to_exit(*args: str) -> subprocess.CompletedProcess:
    """Runs the mock expecting it to refuse to start; returns the finished process."""
    return subprocess.run(
        mock_command(*args), capture_output=True, text=True, cwd=PROJECT, timeout=START_TIMEOUT
    )


def server_tenant(server: MockServer, **options) -> dict:
    """A fresh tenant on a running server, through its control API."""
    headers = {"X-Mock-Admin-Secret": server.admin_secret} if server.admin_secret else {}
    response = httpx.post(f"{server.root}/__mock__/tenants", json=options, headers=headers, timeout=30.0)
    assert response.status_code == 200, response.text
    return response.json()
