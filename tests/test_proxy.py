"""``wacr-mock proxy --upstream URL``: the validating proxy, with the mock itself as the upstream:
correct (no violation), then serving a seeded bug (its violation found), then an operation the
upstream has not built (answered by the mock with ``--fallback-to-mock``)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from contract_tests.in_process import stop_process
from tests.helpers import PROJECT, PYTHON, START_TIMEOUT, MockServer, server_tenant
from tests.walkthrough import walk_every_operation

PROXY_LINE = re.compile(r"API:\s+http://127\.0\.0\.1:(\d+)/api/v2 -> ")
SUMMARY = re.compile(
    r"wacr-mock proxy: (\d+) requests, (\d+) violations in (\d+) requests, (\d+) answered by the mock"
)


@dataclass
class Proxy:
    process: subprocess.Popen
    port: int
    output: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.root + "/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def journal(self) -> list[dict]:
        return httpx.get(f"{self.root}/__mock__/requests", params={"bodies": "true"}).json()["requests"]

    def stop(self) -> str:
        """Stops the proxy; returns everything it printed (the closing count included)."""
        stop_process(self.process)
        if self.pump is not None:
            self.pump.join(timeout=10)
        return "\n".join(self.output)


@pytest.fixture
def start_proxy() -> Iterator:
    started: list[Proxy] = []

    def start(upstream: MockServer, *args: str) -> Proxy:
        command = [PYTHON, "-m", "mockserver", "proxy", "--upstream", upstream.api, "--port", "0", *args]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=PROJECT
        )
        proxy = Proxy(process, 0)
        ready = threading.Event()

        def pump() -> None:
            for line in process.stdout:
                proxy.output.append(line.rstrip("\n"))
                found = PROXY_LINE.search(line)
                if found:
                    proxy.port = int(found.group(1))
                    ready.set()
            ready.set()

        proxy.pump = threading.Thread(target=pump, daemon=True)
        proxy.pump.start()
        assert ready.wait(START_TIMEOUT) and proxy.port, "\n".join(proxy.output)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def summary(output: str) -> tuple[int, int, int, int]:
    found = SUMMARY.search(output)
    assert found, output
    return tuple(int(n) for n in found.groups())


def test_a_correct_upstream_gives_no_violation_and_traffic_passes_unchanged(
    start_server, start_proxy
) -> None:
    upstream = start_server()
    tenant = server_tenant(upstream, rate_limit_per_minute=10_000)
    proxy = start_proxy(upstream, "--log-level", "info")
    with proxy.client(tenant["token"]) as http:
        responses = walk_every_operation(http)
        traced = http.post("/groups", json={"name": "Traced"}, headers={"X-Trace": "abc-123"})
    assert len(responses) == 43 and traced.status_code == 201
    entries = proxy.journal()
    assert len(entries) >= 44
    assert [e for e in entries if e["violations"]] == []
    assert {e["answered_by"] for e in entries} == {"upstream"}
    # The upstream saw the call as the client sent it, and the client got the upstream's answer.
    seen = httpx.get(
        f"{upstream.root}/__mock__/requests",
        params={"bodies": "true", "request_id": traced.headers["X-Request-Id"]},
    ).json()["requests"][0]
    assert seen["detail"]["request"]["headers"]["x-trace"] == "abc-123"
    assert json.loads(seen["detail"]["request"]["body"]) == {"name": "Traced"}
    assert json.loads(seen["detail"]["response"]["body"]) == traced.json()
    output = proxy.stop()
    requests, violations, _, by_mock = summary(output)
    assert requests == len(entries) and violations == 0 and by_mock == 0
    assert tenant["token"] not in output and "123456" not in output  # no token, no OTP code in the log


@pytest.mark.parametrize("level", ["documented", "all"])
def test_a_seeded_bug_upstream_shows_its_violation(start_server, start_proxy, level: str) -> None:
    """``validation_message_reworded``: a documented message worded otherwise, caught at both levels."""
    upstream = start_server("--mutant", "validation_message_reworded")
    proxy = start_proxy(upstream, "--level", level)
    body = {"firstname": "Ada", "lastname": "Lovelace", "type": "lead", "source_id": 1, "status_id": 1}
    with proxy.client("wacr_test_full") as http:
        refused = http.post("/contacts", json=body)
    assert refused.json()["error"]["details"]["phone"] == ["The phone field is required."]  # passed unchanged
    [entry] = [e for e in proxy.journal() if e["operation_id"] == "createContact"]
    assert "request: phone: Phone number is required" in entry["violations"]  # the client's own slip
    assert (
        "response: error.details.phone: a message that is not one of the field's documented messages"
        in (entry["violations"])
    )
    output = proxy.stop()
    assert summary(output)[1] == 2
    assert "x response: error.details.phone" in output


def test_fallback_to_mock_answers_what_the_upstream_has_not_built(start_server, start_proxy) -> None:
    upstream = start_server()
    fault = {"operation_id": "listGroups", "status": 501, "message": "Not implemented"}
    assert httpx.post(f"{upstream.root}/__mock__/faults", json=fault).status_code == 200
    plain = start_proxy(upstream)
    with plain.client("wacr_test_full") as http:
        assert http.get("/groups").status_code == 501
    [entry] = plain.journal()
    assert entry["answered_by"] == "upstream"
    assert "response: status 501 is not documented for listGroups" in entry["violations"]

    proxy = start_proxy(upstream, "--fallback-to-mock")
    with proxy.client("wacr_test_full") as http:
        groups = http.get("/groups")
        contact = http.get("/contacts/999999")  # a documented 404 is the upstream's answer
    assert groups.status_code == 200 and groups.json()["success"] is True
    assert contact.status_code == 404
    by_operation = {e["operation_id"]: e for e in proxy.journal()}
    assert by_operation["listGroups"]["answered_by"] == "mock (the upstream answered 501)"
    assert by_operation["listGroups"]["violations"] == []
    assert by_operation["getContact"]["answered_by"] == "upstream"
    assert summary(proxy.stop())[3] == 1


def test_the_proxy_refuses_a_bad_upstream_in_one_line() -> None:
    finished = subprocess.run(
        [PYTHON, "-m", "mockserver", "proxy", "--upstream", "ftp://x"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=START_TIMEOUT,
    )
    assert finished.returncode == 2
    assert "--upstream 'ftp://x' is not an http:// or https:// URL" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_an_upstream_that_does_not_answer_is_a_502(start_server, start_proxy) -> None:
    upstream = start_server()
    proxy = start_proxy(upstream)
    upstream.stop()
    time.sleep(0.2)
    with proxy.client("wacr_test_full") as http:
        answer = http.get("/account")
    assert answer.status_code == 502 and "did not answer" in answer.json()["error"]


def test_the_dashboard_shows_a_violation(start_server, start_proxy) -> None:
    from tests.browser import browser_page

    upstream = start_server("--mutant", "validation_message_reworded")
    proxy = start_proxy(upstream)
    with proxy.client("wacr_test_full") as http:
        http.post("/contacts", json={"firstname": "Ada"})
    with browser_page() as page:
        page.goto(f"{proxy.root}/__mock__/")
        page.wait_for_selector("#journal tbody tr:has-text('⚠')", timeout=10000).click()
        box = page.wait_for_selector("#entry .violations", timeout=10000).inner_text()
        assert "error.details.phone: a message that is not one of the field's documented messages" in box
        assert "Answered by the upstream" in page.inner_text("#entry")
