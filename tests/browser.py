"""Headless Chromium for the tests that look at pages as a person would.

Chromium comes from Debian (``apt-get install chromium``), driven by Playwright for Python (no
browser download). ``.ci/run`` installs it and sets ``WACR_REQUIRE_BROWSER=1``, so there a missing
browser fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Quiet, sandbox-free flags: no first-run screens, no calls home, no GPU in a container.
BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The Chromium binary, or a skip (a failure where ``WACR_REQUIRE_BROWSER`` is set)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("WACR_REQUIRE_BROWSER"):
            pytest.fail("WACR_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium)")
        pytest.skip("needs Chromium (apt-get install chromium)")
    return found


@contextmanager
def browser_page(width: int = 1366, height: int = 800) -> Iterator:
    """A Playwright page in headless Chromium, laptop-sized by default."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("WACR_REQUIRE_BROWSER"):
            pytest.fail(
                "WACR_REQUIRE_BROWSER is set but playwright is not installed (pip install -e '.[dev]')"
            )
        pytest.skip("needs playwright (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


@contextmanager
def static_site(folder: Path) -> Iterator[int]:
    """Serves ``folder`` on 127.0.0.1 at a free port (a frontend dev server's stand-in); yields the port."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
