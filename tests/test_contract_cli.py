"""``wacr-contract`` as a CI job uses it: every option a flag, and skips that are never silent."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from contract_tests import cli
from contract_tests.in_process import start_server

# The plugin's options that the command line spells otherwise, or gives as its positional argument.
SPELLED_OTHERWISE = {"--base-url": "base_url", "--contract-level": "--level", "--wacr-report": "--report"}


def wacr_contract(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "contract_tests.cli", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def plugin_options() -> list[str]:
    """The long options of the suite's pytest plugin, as ``pytest --help`` lists them."""
    text = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    section = text.split("WA.cr contract suite:")[1].split("\n\n")[0]
    return re.findall(r"^\s+(--[a-z-]+)", section, re.MULTILINE)


def test_every_option_of_the_plugin_is_a_flag_of_the_command_and_listed_by_help() -> None:
    help_text = cli.parser().format_help()
    options = plugin_options()
    assert "--smoke" in options and "--allow-skips" in options
    for option in options:
        spelled = SPELLED_OTHERWISE.get(option, option)
        assert spelled in help_text, f"wacr-contract --help does not list {spelled}"


def test_every_flag_reaches_the_run(tmp_path: Path) -> None:
    """All the flags at once, before the URL as a newcomer types them; pytest collects with each applied."""
    flags = [
        "--smoke",
        "--token",
        "t",
        "--limited-token",
        "l",
        "--otp-template",
        "otp",
        "--rate-limit",
        "600/m",
        "--answer-timeout",
        "5",
        "--report",
        str(tmp_path / "r"),
        "--junitxml",
        str(tmp_path / "j.xml"),
        "--allow-send",
        "--allow-skips",
    ]
    result = wacr_contract(*flags, "http://127.0.0.1:9/api/v2", "--", "--collect-only", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # --smoke: the documented level, so the decided checks are deselected.
    assert re.search(r"\d+ deselected", result.stdout), result.stdout[-2000:]


def test_skips_are_counted_with_the_flag_that_lifts_them_and_a_gate_that_judged_little_fails(
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "tenants:\n  - id: 1\n    tokens:\n"
        '      - {token: staging_full, scopes: ["*"], rate_limit_per_minute: 100000}\n'
    )
    server = start_server("--no-control", "--seed", str(seed))
    try:
        gate = wacr_contract(server.api_url, "--token", "staging_full", "--smoke", cwd=tmp_path)
        accepted = wacr_contract(
            server.api_url, "--token", "staging_full", "--smoke", "--allow-skips", cwd=tmp_path
        )
    finally:
        server.stop()
    out = gate.stdout
    assert gate.returncode == 5, out[-3000:]
    skipped = out.split("checks skipped, and why")[1]
    assert re.search(r"\d+ × .*pass --allow-send.*\[lifted by --allow-send\]", skipped), skipped
    assert re.search(r"\d+ × .*needs --limited-token.*\[lifted by --limited-token\]", skipped), skipped
    closing = [line for line in out.splitlines() if line.startswith("WA.cr contract: ") and "exit" in line]
    assert len(closing) == 1 and "exit 5" in closing[0] and "--allow-skips" in closing[0], closing
    # Without --allow-send every check of Send Text skips: an operation the run had checks for, never called.
    assert "operations no check called: " in closing[0] and "sendTextMessage" in closing[0]
    assert accepted.returncode == 0, accepted.stdout[-3000:]
    assert "exit 0" in accepted.stdout


@pytest.mark.parametrize("args", [["--smoke", "URL"], ["URL", "--smoke"]])
def test_smoke_is_a_flag_anywhere_on_the_line(args: list[str]) -> None:
    parsed = cli.parser().parse_args(args)
    assert "--smoke" in cli.pytest_args(parsed, [])


def test_a_killed_run_leaves_the_reports_of_what_ran_and_printed_its_estimate(tmp_path: Path) -> None:
    report, junit, log = tmp_path / "report", tmp_path / "contract.xml", tmp_path / "console.txt"
    command = [sys.executable, "-m", "contract_tests.cli", "--report", str(report), "--junitxml", str(junit)]
    with log.open("w") as out:
        run = subprocess.Popen(command, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while not junit.exists() and time.monotonic() < deadline and run.poll() is None:
                time.sleep(0.5)
        finally:
            run.kill()  # as a CI runner's hard timeout: no chance to write anything more
            run.wait()
    assert run.returncode == -signal.SIGKILL, log.read_text()[-2000:]
    checks = json.loads((report / "report.json").read_text())["checks"]
    cases = ElementTree.parse(junit).getroot().findall("testcase")
    assert checks and cases and len(cases) <= len(checks) + 50
    assert re.search(r"WA\.cr contract: \d+ checks, about [\d,]+ requests", log.read_text())


@pytest.mark.parametrize(("args", "level"), [([], "documented"), (["--level", "all"], "all")])
def test_smoke_runs_its_selection_at_the_documented_level_unless_one_is_given(
    tmp_path: Path, args: list[str], level: str
) -> None:
    result = wacr_contract("--smoke", *args, "--", "--collect-only", "-q", cwd=tmp_path)
    assert f"--smoke runs the smoke selection at level {level}:" in result.stdout, result.stdout[-2000:]


def test_parallel_workers_show_the_estimate_the_progress_with_their_requests_and_the_verdict() -> None:
    """Under pytest-xdist the controller collects nothing itself: it still prints the estimate, progress lines
    counting the workers' requests, and the closing verdict."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "contract_tests/test_account.py",
        ],
        cwd=Path(cli.__file__).resolve().parent.parent,
        env={**os.environ, "WACR_PROGRESS_SECONDS": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout
    assert re.search(r"WA\.cr contract: \d+ checks, about [\d,]+ requests", out), out[-2000:]
    progress = re.findall(r"WA\.cr contract: \d+/\d+ checks, ([\d,]+) requests", out)
    assert progress and int(progress[-1].replace(",", "")) > 0, out[-2000:]
    assert re.search(r"WA\.cr contract: .*exit 0", out), out[-2000:]
