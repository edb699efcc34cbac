"""The conformance report, as a person sees it: a run against a faulty mock, opened in headless Chromium.

Chromium comes from Debian (``apt-get install chromium``); ``.ci/run`` installs it and sets
``WACR_REQUIRE_BROWSER=1``, so there a missing browser fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.browser import chromium

PROJECT = Path(__file__).resolve().parent.parent
FAILED_RED = (0xCF, 0x22, 0x2E)
CURL_BLACK = (0x0D, 0x11, 0x17)
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def faulty_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a run against the mock turned into a paging mutant (pages overlap)."""
    directory = tmp_path_factory.mktemp("report")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "contract_tests/test_pagination.py",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "contract_tests.mutant_plugin",
        "-k",
        "test_pages_cover_the_list_exactly_once",
        "--wacr-report",
        str(directory),
    ]
    env = {**os.environ, "WACR_MUTANT": "page_overlap"}
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"report written to {directory / 'index.html'}" in result.stdout
    return directory


def browse(page: Path, *args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [chromium(), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def pixels(png: bytes) -> set[tuple[int, int, int]]:
    """The distinct RGB colours of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        data = png[offset + 8 : offset + 8 + length]
        header = data if kind == b"IHDR" else header
        idat += data if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
    channels = 3 if colour == 2 else 4
    raw, stride, previous, seen = zlib.decompress(idat), width * channels, bytearray(width * channels), set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                nearest = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + nearest) & 0xFF
        seen.update(tuple(line[i : i + 3]) for i in range(0, stride, channels))
        previous = line
    return seen


def test_the_report_shows_the_failing_cell_and_its_curl_command(faulty_report: Path, tmp_path: Path) -> None:
    data = json.loads((faulty_report / "report.json").read_text())
    failures = [check for check in data["checks"] if check["outcome"] == "failed"]
    assert failures, data["checks"]
    first = failures[0]
    assert "listContacts" in first["operations"] and first["exchange"]["curl"].startswith("curl -X GET ")
    assert first["provenance"] and first["rule"]

    page = faulty_report / "index.html"
    dom = browse(page, "--dump-dom", profile=tmp_path / "dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<td class="failed"' in dom.stdout and 'href="#failure-0"' in dom.stdout, dom.stdout[:2000]
    curl_in_page = first["exchange"]["curl"].replace("&", "&amp;")
    assert curl_in_page in dom.stdout

    shot = tmp_path / "report.png"
    taken = browse(page, f"--screenshot={shot}", "--window-size=1400,2600", profile=tmp_path / "shot")
    assert taken.returncode == 0 and shot.is_file(), taken.stderr[-2000:]
    colours = pixels(shot.read_bytes())
    assert FAILED_RED in colours, "no red (failed) cell is visible in the screenshot"
    assert CURL_BLACK in colours, "no curl command block is visible in the screenshot"
