"""``/docs`` in a real browser: the real host, the banner's token filled in, and ``Prefer`` from the page."""

from __future__ import annotations

import httpx

from tests.browser import browser_page
from tests.helpers import FULL_TOKEN, MockServer


def test_the_docs_spec_names_the_real_host(mock_server: MockServer) -> None:
    served = httpx.get(f"{mock_server.root}/docs/openapi.yaml").text
    assert f"default: '127.0.0.1:{mock_server.port}'" in served
    assert (
        "default: 127.0.0.1:8080" in httpx.get(f"{mock_server.root}/openapi.yaml").text
    )  # the contract as written


def test_try_it_out_shows_the_host_uses_the_token_and_sends_prefer(start_server) -> None:
    server = start_server()
    with browser_page() as page:
        page.goto(f"{server.root}/docs")
        page.wait_for_selector("#operations-Account-getAccount", timeout=20000)
        assert f"127.0.0.1:{server.port}" in page.inner_text("#mockbar")
        assert FULL_TOKEN in page.inner_text("#mockbar")
        page.select_option("#prefer", "code=404")
        page.click("#operations-Account-getAccount .opblock-summary-control")
        page.click("#operations-Account-getAccount button.try-out__btn")
        page.click("#operations-Account-getAccount button.execute")
        cell = "#operations-Account-getAccount .live-responses-table tbody .response-col_status"
        page.wait_for_selector(cell, timeout=20000)
        status = page.inner_text(cell)
        computed = page.inner_text("#operations-Account-getAccount .request-url")
    # 404 (not 401): the token was sent, and the Prefer header chose the documented 404.
    assert status.strip().startswith("404"), status
    assert f"http://127.0.0.1:{server.port}/api/v2/account" in computed
