"""The README's "first ten minutes" commands, run as written against a started mock.

Each ``curl`` command of that section (continuation lines joined) runs in bash with the mock's
real port in place of 8080; the ``# →`` line after it is a fragment its output must contain.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.helpers import PROJECT, MockServer

SECTION = "### The first ten minutes: a write and the OTP flow"


def walkthrough() -> list[tuple[str, str]]:
    """(command, expected fragment) pairs of the README section's bash block."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    pairs: list[tuple[str, str]] = []
    command = ""
    for line in block.splitlines():
        if command.endswith("\\"):
            command = command[:-1] + " " + line.strip()
        elif line.startswith("curl "):
            command = line
        elif line.startswith("# → "):
            pairs.append((command, line[len("# → ") :]))
            command = ""
    return pairs


def test_the_section_has_a_write_and_the_otp_flow() -> None:
    commands = " ".join(command for command, _ in walkthrough())
    assert "POST localhost:8080/api/v2/contacts" in commands and "Content-Type: application/json" in commands
    for step in ("/auth/send-otp", "/__mock__/inbox", "/auth/verify", "/__mock__/clock"):
        assert step in commands


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's commands use curl")
def test_every_command_runs_as_written(start_server) -> None:
    server: MockServer = start_server()
    pairs = walkthrough()
    assert len(pairs) >= 8
    for command, expected in pairs:
        real = command.replace("localhost:8080", f"127.0.0.1:{server.port}")
        finished = subprocess.run(["bash", "-c", real], capture_output=True, text=True, timeout=30)
        assert finished.returncode == 0, (command, finished.stderr)
        assert expected in finished.stdout, (command, expected, finished.stdout)
