"""The dashboard at ``/__mock__/``, used in headless Chromium as a frontend developer would.

Everything the page does goes through the control API; the page comes from package data with no
build step and no CDN.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.browser import browser_page
from tests.helpers import MockServer

PHONE = "+1 555 000 4321"
CODE = "482913"

SEND = """([phone, code]) => fetch('/api/v2/auth/send-otp', {method: 'POST',
  headers: {'Authorization': 'Bearer wacr_test_full', 'Content-Type': 'application/json'},
  body: JSON.stringify({phone, code, template_name: 'otp_verification'})}).then(r => r.status)"""
VERIFY = """([phone, code]) => fetch('/api/v2/auth/verify', {method: 'POST',
  headers: {'Authorization': 'Bearer wacr_test_full', 'Content-Type': 'application/json'},
  body: JSON.stringify({phone, code})}).then(r => r.json())"""


def test_the_page_is_offline_and_same_origin(mock_server: MockServer) -> None:
    page = httpx.get(f"{mock_server.root}/__mock__/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/__mock__/ui/") or a.startswith("data:") for a in assets), assets
    for asset in assets:
        if asset.startswith("/"):
            assert httpx.get(mock_server.root + asset).status_code == 200, asset
    script = httpx.get(f"{mock_server.root}/__mock__/ui/app.js").text
    assert "http://" not in script and "https://" not in script  # no CDN, no other origin
    assert (
        httpx.get(f"{mock_server.root}/__mock__", follow_redirects=False).headers["location"] == "/__mock__/"
    )


def test_no_control_means_no_dashboard(start_server) -> None:
    server = start_server("--no-control")
    assert httpx.get(f"{server.root}/__mock__/").status_code == 404


def test_otp_inbox_expire_verify_and_export_in_a_browser(start_server, tmp_path: Path) -> None:
    """Send an OTP from the page's own fetch, read the code in the inbox, expire it with the button,
    see OTP_EXPIRED on verify, create a tenant, export the state and start a mock from the file."""
    server = start_server()
    with browser_page() as page:
        page.goto(f"{server.root}/__mock__/")
        assert page.evaluate(SEND, [PHONE, CODE]) == 200
        row = page.wait_for_selector(f"#otps tbody tr:has-text('{CODE}')", timeout=10000)
        assert row.query_selector(".code").inner_text() == CODE
        assert "authentication" in row.inner_text() and "0/5" in row.inner_text()
        row.query_selector("button.expire").click()
        page.wait_for_selector("#otps td.expired", timeout=10000)
        verified = page.evaluate(VERIFY, [PHONE, CODE])
        assert verified["error"]["code"] == "OTP_EXPIRED", verified

        # The refused verify in the journal: the rule, its provenance, its docs page; the code masked.
        page.wait_for_selector("#journal tbody tr:has-text('verifyOtp')", timeout=10000).click()
        page.wait_for_selector("#entry .refusal", timeout=10000)
        refusal = page.inner_text("#entry .refusal")
        assert "422 OTP_EXPIRED" in refusal and "documented (Verify OTP)" in refusal
        assert (
            page.get_attribute("#entry .refusal a", "href") == "https://docs.app.wa.cr/verify-otp-28559798e0"
        )
        request_body = page.inner_text("#entry .request-body")
        assert CODE not in request_body and "••••" in request_body
        assert "Bearer ••••" in page.inner_text("#entry")

        # Tenants and tokens: a new one with its limit; its token shown to copy.
        page.fill("#new-tenant [name=name]", "Shop")
        page.fill("#new-tenant [name=limit]", "900")
        page.click("#new-tenant button:has-text('New tenant')")
        token = page.wait_for_selector("#created-token", timeout=10000).inner_text()
        assert token.startswith("wacr_")

        with page.expect_download() as download:
            page.click("#export")
        seed = tmp_path / "session.json"
        download.value.save_as(seed)
    exported = json.loads(seed.read_text())
    assert [t["name"] for t in exported["tenants"]] == ["Demo Company", "Shop"]

    again = start_server("--seed", str(seed))
    with again.client(token) as http:
        account = http.get("/account")
        assert account.status_code == 200, account.text
        assert account.headers["X-RateLimit-Limit"] == "900"
    with again.client() as http:  # the OTP's contact was exported too
        phones = [c["phone"] for c in http.get("/contacts").json()["data"]]
    assert "15550004321" in phones


def test_faults_and_the_clock_from_the_page(start_server) -> None:
    server = start_server()
    clock = f"{server.root}/__mock__/clock"
    with browser_page() as page:
        page.goto(f"{server.root}/__mock__/")
        page.wait_for_selector("#operations option[value='listContacts']", state="attached", timeout=10000)
        page.fill("#new-fault [name=operation_id]", "listContacts")
        page.fill("#new-fault [name=status]", "503")
        page.fill("#new-fault [name=times]", "1")
        page.click("#new-fault button:has-text('Add')")
        page.wait_for_selector("#faults li:has-text('listContacts')", timeout=10000)
        status = page.evaluate(
            "fetch('/api/v2/contacts', {headers: {Authorization: 'Bearer wacr_test_full'}}).then(r => r.status)"
        )
        assert status == 503
        page.click("#clock-freeze")
        page.wait_for_selector("#clock-frozen:has-text('frozen')", timeout=10000)
        assert httpx.get(clock).json()["frozen"] is True
        before = httpx.get(clock).json()["now"]
        page.click("button[data-advance='3600']")
        page.wait_for_function(
            f"document.getElementById('clock-now').textContent !== '{before}'", timeout=10000
        )
        assert httpx.get(clock).json()["now"] > before
        page.click("#clock-reset")
        page.wait_for_selector("#clock-frozen:has-text('running')", timeout=10000)
        assert httpx.get(clock).json()["frozen"] is False
