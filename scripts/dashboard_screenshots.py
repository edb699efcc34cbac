"""Screenshots of the dashboard for the README: a mock with some traffic, opened in headless Chromium.

    python scripts/dashboard_screenshots.py [FOLDER]   # default: docs/

Writes dashboard.png (a refused request opened: the rule, its provenance and docs page, the
bodies with secrets masked) and dashboard-otp.png (the OTP inbox after "Expire now"), at a
laptop's 1366x800. Needs Debian's chromium and the dev extra (playwright).
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tests.browser import browser_page  # noqa: E402
from tests.helpers import start_mock  # noqa: E402

CALL = """([method, path, body]) => fetch('/api/v2' + path, {method,
  headers: {'Authorization': 'Bearer wacr_test_full', 'Content-Type': 'application/json'},
  body: body ? JSON.stringify(body) : undefined}).then(r => r.status)"""
TRAFFIC = [
    ("GET", "/account", None),
    ("GET", "/contacts?per_page=5", None),
    (
        "POST",
        "/contacts",
        {
            "firstname": "Ada",
            "lastname": "Lovelace",
            "phone": "+44 20 7946 0000",
            "type": "customer",
            "source_id": 1,
            "status_id": 1,
        },
    ),
    (
        "POST",
        "/auth/send-otp",
        {"phone": "+1 555 000 4321", "code": "482913", "template_name": "otp_verification"},
    ),
    ("POST", "/auth/verify", {"phone": "+1 555 000 4321", "code": "111111"}),
    ("POST", "/contacts", {"firstname": "Grace", "phone": "+1 555 000 9999"}),
]


def main(folder: Path) -> None:
    server = start_mock()
    try:
        with browser_page(1366, 800) as page:
            page.goto(f"{server.root}/__mock__/")
            for method, path, body in TRAFFIC:
                page.evaluate(CALL, [method, path, body])
            page.wait_for_selector("#journal tbody tr:has-text('createContact')")
            page.click("#journal tbody tr:first-child")
            page.wait_for_selector("#entry .refusal")
            page.screenshot(path=str(folder / "dashboard.png"))
            page.click("#otps button.expire")
            page.wait_for_selector("#otps td.expired")
            page.evaluate(CALL, ["POST", "/auth/verify", {"phone": "+1 555 000 4321", "code": "482913"}])
            page.wait_for_selector("#journal tbody tr:first-child:has-text('verifyOtp')")
            page.click("#journal tbody tr:first-child")
            page.wait_for_selector("#entry .refusal:has-text('OTP_EXPIRED')")
            page.screenshot(path=str(folder / "dashboard-otp.png"))
    finally:
        server.stop()
    print(f"wrote {folder / 'dashboard.png'} and {folder / 'dashboard-otp.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT / "docs")
