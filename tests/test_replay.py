"""Every failure reproduces from the report: its whole sequence of requests, the values Hypothesis drew, a
verdict on the one operation that failed, and ``wacr-contract replay`` against a fresh server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import start_mock

# A stateful check (the state machine) and a documented one with a drawn value, both caught by the mutant.
CHECKS = "tenant_matches_its_model or taken_phone_or_email"
MUTANT = "duplicate_phone_allowed"


def wacr_contract(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "contract_tests.cli", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def mutant_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A run of two checks against a mock with a seeded bug (two contacts may share a phone): its report
    folder and its console output."""
    directory = tmp_path_factory.mktemp("replay")
    server = start_mock("--mutant", MUTANT)
    try:
        run = wacr_contract(server.api, "--report", str(directory / "out"), "--", "-k", CHECKS, cwd=directory)
    finally:
        server.stop()
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    yield directory / "out", run.stdout


def failures(directory: Path) -> dict[str, dict]:
    checks = json.loads((directory / "report.json").read_text())["checks"]
    return {check["nodeid"].rsplit("::", 1)[1]: check for check in checks if check["outcome"] == "failed"}


def replay(directory: Path, ident: str, base_url: str) -> subprocess.CompletedProcess:
    return wacr_contract("replay", str(directory), ident, "--base-url", base_url, cwd=directory)


@pytest.mark.parametrize(
    "check", ["test_tenant_matches_its_model", "test_taken_phone_or_email_gets_the_documented_message"]
)
def test_a_reported_failure_replays_against_the_same_bug_and_not_against_a_correct_server(
    mutant_run: tuple[Path, str], check: str, start_server
) -> None:
    directory, _ = mutant_run
    failed = failures(directory)[check]
    steps = failed["steps"]
    # The sequence starts with the D14 call that made the check's tenant; its token is linked, not copied.
    assert steps[0]["url"].endswith("/__mock__/tenants") or steps[1]["url"].endswith("/__mock__/tenants")
    assert any(use["in"] == "header" for use in steps[-1]["uses"]), steps[-1]
    assert failed["script"].count("curl -sS -X ") == len(steps), failed["script"]

    same_bug = start_server("--mutant", MUTANT)
    again = replay(directory, failed["id"], same_bug.api)
    assert again.returncode == 1, again.stdout + again.stderr
    lines = again.stdout.strip().splitlines()
    assert len(lines) == len(steps) + 2 and lines[-1].startswith("reproduced: "), again.stdout
    assert re.search(r"^\s+1\. \w+ .* recorded \d{3}  now \d{3}$", lines[1]), lines[1]

    correct = start_server()
    fixed = replay(directory, failed["nodeid"], correct.api)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert fixed.stdout.strip().splitlines()[-1].startswith("not reproduced: "), fixed.stdout


def test_the_replay_script_runs_as_a_shell_script(mutant_run: tuple[Path, str], start_server) -> None:
    """The report's curl lines, run by bash against a fresh server with the bug, make the clashing contact."""
    directory, _ = mutant_run
    failed = failures(directory)["test_taken_phone_or_email_gets_the_documented_message"]
    server = start_server("--mutant", MUTANT)
    run = subprocess.run(
        ["bash", "-e", "-c", failed["script"]],
        env={"WACR_BASE_URL": server.api, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("-> HTTP 201"), run.stdout


def test_the_report_shows_the_values_hypothesis_drew(mutant_run: tuple[Path, str]) -> None:
    directory, _ = mutant_run
    message = failures(directory)["test_taken_phone_or_email_gets_the_documented_message"]["message"]
    assert re.search(r"clash=\{'(phone|email)'(, '(phone|email)')?\}", message), message


def test_a_stateful_failure_marks_only_the_operation_whose_answer_failed(
    mutant_run: tuple[Path, str],
) -> None:
    directory, console = mutant_run
    machine = failures(directory)["test_tenant_matches_its_model"]
    assert len(machine["reached"]) > 5 and machine["failed_operations"] == ["createContact"], machine
    flagged = re.findall(r"^(\w+)\s+\d+ checks\s+\d+ failed\s+FAILED$", console, re.MULTILINE)
    assert flagged == ["createContact"], console[-3000:]
    page = (directory / "index.html").read_text()
    red = re.findall(r"<td class=failed title='([^']*)'", page)
    assert len(red) == 2 and all(cell.startswith("createContact × ") for cell in red), red


def test_a_streamed_upload_is_part_of_the_reported_sequence(tmp_path: Path, start_server) -> None:
    """A media upload (multipart, sent as a stream) that fails is kept in the sequence with its bytes."""
    server = start_server()
    fault = {"operation_id": "sendMediaMessage", "status": 503, "times": 1}
    assert httpx.post(server.root + "/__mock__/faults", json=fault).status_code == 200
    run = wacr_contract(
        server.api,
        "--report",
        str(tmp_path / "out"),
        "--",
        "-k",
        "media_file_over_its_size and image",
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    (failed,) = failures(tmp_path / "out").values()
    upload = failed["steps"][-1]
    assert upload["url"] == "$WACR_BASE_URL/messages/media" and upload["status"] == 503, upload
    assert upload["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="media_file"; filename="upload.' in upload["body"] and upload["body_kept"], upload
    assert upload["body_bytes"] == len(upload["body"].encode()) > 0
    last_command = failed["script"].rsplit("\n# ", 1)[-1]
    assert (
        "/messages/media" in last_command
        and "--data-raw" in last_command
        and 'name="media_file"' in last_command
    )


def test_replay_says_why_it_cannot_replay(mutant_run: tuple[Path, str], tmp_path: Path) -> None:
    directory, _ = mutant_run
    unknown = replay(directory, "99", "http://127.0.0.1:9/api/v2")
    assert unknown.returncode == 2 and not unknown.stdout, unknown.stdout
    assert "has no failed check '99'; its failed checks: 1 " in unknown.stderr, unknown.stderr
    assert "test_tenant_matches_its_model" in unknown.stderr
    missing = wacr_contract("replay", str(tmp_path / "nowhere"), "1", cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read the report" in missing.stderr, missing.stderr
