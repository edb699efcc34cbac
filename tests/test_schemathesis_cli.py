"""The plain schemathesis CLI on openapi.yaml, with the repository's schemathesis.toml (scripts/st_against_mock.py).

The config must leave no failure on a correct implementation, and must not hide a real one: a mock
serving a seeded response-shape bug has to fail the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "st_against_mock.py"
# Few examples keep each run near 10 s on two cores; the coverage phase still sends its systematic cases.
EXAMPLES = ("--max-examples", "3", "--seed", "1")


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=180
    )


@pytest.mark.parametrize("profile", [None, "laravel", "minimal", "express"], ids=lambda p: p or "default")
def test_the_config_leaves_no_failure_on_a_correct_mock(profile: str | None) -> None:
    """The default mock and each profile of legitimate variants: a correct implementation passes the plain CLI."""
    result = run_script(*(["--variant", profile] if profile else []), *EXAMPLES)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    label = f"--variant {profile}" if profile else "default"
    assert summary.startswith(f"st_against_mock: mock {label}") and "no failure (st exit 0)" in summary, (
        summary
    )


def test_a_seeded_response_shape_bug_fails_the_run() -> None:
    """error_without_success_flag drops `success` from every error answer, which ErrorEnvelope requires (D4)."""
    result = run_script("--mutant", "error_without_success_flag", *EXAMPLES)
    assert result.returncode != 0, result.stdout[-4000:]
    assert "Response violates schema" in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]
    assert "FAILED (st exit" in result.stdout.strip().splitlines()[-1]
