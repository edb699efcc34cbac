"""CORS on a laptop: pages from any loopback origin reach a loopback mock with no flag; others are
refused with a log line naming the flag that would allow them; the banner states the policy."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.browser import browser_page, static_site
from tests.helpers import FULL_TOKEN, MockServer, start_mock

STRANGER = "https://crm.example"


def preflight(server: MockServer, origin: str) -> httpx.Response:
    return httpx.options(
        f"{server.api}/contacts",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


@pytest.mark.parametrize(
    "origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8081", "https://localhost"]
)
def test_a_loopback_page_is_allowed_with_no_flag(mock_server: MockServer, origin: str) -> None:
    answer = preflight(mock_server, origin)
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == origin
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-allow-headers"] == "authorization,content-type"
    call = httpx.get(
        f"{mock_server.api}/account", headers={"Origin": origin, "Authorization": f"Bearer {FULL_TOKEN}"}
    )
    assert call.headers["access-control-allow-origin"] == origin
    assert "x-ratelimit-remaining" in call.headers["access-control-expose-headers"].lower()


def test_another_site_is_refused_and_the_log_names_the_flag() -> None:
    server = start_mock("--log-level", "info")
    try:
        refused = preflight(server, STRANGER)
        assert refused.status_code == 403
        assert f"--cors-origin {STRANGER}" in refused.text
        call = httpx.get(
            f"{server.api}/account", headers={"Origin": STRANGER, "Authorization": f"Bearer {FULL_TOKEN}"}
        )
        assert "access-control-allow-origin" not in call.headers
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any("refused by CORS" in line for line in server.output):
            time.sleep(0.05)
    finally:
        server.stop()
    warnings = [line for line in server.output if "refused by CORS" in line]
    assert len(warnings) == 1, server.output  # once per origin, not once per request
    assert f"from {STRANGER} refused by CORS: start the mock with --cors-origin {STRANGER}" in warnings[0]


def test_cors_origin_adds_a_site_and_the_banner_says_so(start_server) -> None:
    server = start_server("--cors-origin", STRANGER)
    assert preflight(server, STRANGER).headers["access-control-allow-origin"] == STRANGER
    assert preflight(server, "http://localhost:4200").status_code == 204  # loopback pages still allowed
    banner = next(line for line in server.output if line.strip().startswith("CORS:"))
    assert "any loopback origin" in banner and STRANGER in banner and "--cors-origin" in banner


def test_the_control_api_still_refuses_other_sites(mock_server: MockServer) -> None:
    """CORS lets a page read answers; the control API's own guard still refuses a foreign page's call."""
    health = f"{mock_server.root}/__mock__/health"
    assert httpx.get(health, headers={"Origin": "http://localhost:5173"}).status_code == 200
    refused = httpx.post(f"{mock_server.root}/__mock__/reset", headers={"Origin": STRANGER})
    assert refused.status_code == 403 and "does not answer pages from" in refused.json()["error"]


PAGE = """<!doctype html><meta charset="utf-8"><title>app</title><pre id="out">running</pre>
<script>
const api = new URLSearchParams(location.search).get("api");
const auth = {Authorization: "Bearer wacr_test_full"};
async function run() {
  const results = {};
  const account = await fetch(api + "/api/v2/account", {headers: auth});
  results.account = [account.status, account.headers.get("X-RateLimit-Remaining")];
  const created = await fetch(api + "/api/v2/contacts", {method: "POST",
    headers: {...auth, "Content-Type": "application/json"},
    body: JSON.stringify({firstname: "Ada", lastname: "Lovelace", phone: "+44 20 7946 0101", type: "lead",
                          source_id: 1, status_id: 1})});
  results.created = created.status;
  const clock = await fetch(api + "/__mock__/clock");
  results.clock = clock.status;
  return results;
}
run().then(r => document.getElementById("out").textContent = JSON.stringify(r),
           e => document.getElementById("out").textContent = "error: " + e);
</script>"""


def test_a_page_from_another_loopback_port_reaches_the_api_in_a_browser(start_server, tmp_path: Path) -> None:
    """A frontend dev server's page (another port, no flag) calls the API, a preflighted write included."""
    mock_server = start_server()
    (tmp_path / "index.html").write_text(PAGE)
    with static_site(tmp_path) as port, browser_page() as page:
        page.goto(f"http://localhost:{port}/index.html?api={mock_server.root}")
        page.wait_for_function("document.getElementById('out').textContent !== 'running'", timeout=15000)
        text = page.inner_text("#out")
    assert not text.startswith("error"), text
    results = json.loads(text)
    assert results["account"][0] == 200 and results["account"][1].isdigit()
    assert results["created"] == 201
    assert results["clock"] == 200


def test_refused_origins_are_logged_once_each_and_at_most_a_hundred(caplog: pytest.LogCaptureFixture) -> None:
    from mockserver.cors import MAX_LOGGED_ORIGINS, CorsPolicy

    policy = CorsPolicy()
    with caplog.at_level("WARNING", logger="wacr-mock"):
        for number in range(MAX_LOGGED_ORIGINS + 50):
            policy.note_refusal(f"https://site{number}.example", "request")
            policy.note_refusal(f"https://site{number}.example", "request")
    assert len(caplog.records) == MAX_LOGGED_ORIGINS
    assert len(policy.refused_seen) == MAX_LOGGED_ORIGINS
