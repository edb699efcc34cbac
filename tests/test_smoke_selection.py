"""The smoke selection (``contract_tests/smoke-selection.json``): it stays within its budget, every check it
names is still in the suite (a rename cannot silently shrink ``--smoke``), and ``--smoke`` runs exactly it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.smoke import BUDGET, LEVELS, SELECTION_FILE
from contract_tests.smoke_selection import Check, select

ROOT = Path(__file__).resolve().parent.parent
DATA = json.loads(SELECTION_FILE.read_text(encoding="utf-8"))
RUNS = re.compile(r"--smoke runs the smoke selection at level (\w+): (\d+) checks, (\d+) others deselected")


@pytest.mark.parametrize("level", LEVELS)
def test_the_saved_selection_records_its_own_request_total_within_the_budget(level: str) -> None:
    selection = DATA["selection"][level]
    total = sum(DATA["checks"][check]["requests"] for check in selection["checks"])
    assert selection["planned_requests"] == total <= BUDGET
    assert DATA["commit"] and DATA["measured"]


@pytest.mark.parametrize("level", LEVELS)
def test_smoke_collects_every_chosen_check_and_says_how_many_it_deselected(level: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + ["--smoke", "--contract-level", level],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    # --collect-only runs no check, so the suite's "nothing was judged" exit 5 is expected here.
    assert result.returncode in (0, 5), result.stdout[-2000:] + result.stderr[-2000:]
    assert "no longer in the suite" not in result.stdout
    runs = RUNS.search(result.stdout)
    assert runs is not None, result.stdout[-2000:]
    assert (runs.group(1), int(runs.group(2))) == (level, len(DATA["selection"][level]["checks"]))
    assert int(runs.group(3)) > 0


def test_smoke_defaults_to_the_documented_level() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + ["--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    runs = RUNS.search(result.stdout)
    assert runs is not None and runs.group(1) == "documented", result.stdout[-2000:]


def check(requests: int, operations: list[str], caught: list[str], tier: str = "documented") -> Check:
    return Check(tier, requests, operations, "test_x.py", caught)


def test_selection_reaches_every_operation_then_buys_the_most_bugs_per_request() -> None:
    checks = {
        "cheap_a": check(2, ["a"], []),
        "dear_a": check(50, ["a"], ["m1"]),
        "b": check(3, ["b"], ["m1"]),
        "bulk": check(40, ["a"], ["m2", "m3"]),
        "per_request": check(5, ["a"], ["m2"]),
        "decided": check(1, ["c"], ["m4"], tier="decided"),
    }
    documented = select(checks, "documented", planned=60)
    assert set(documented.checks) == {"cheap_a", "b", "per_request", "bulk"}
    assert documented.caught == {"m1", "m2", "m3"} and documented.requests == 50
    everything = select(checks, "all", planned=60)
    assert "decided" in everything.checks and "c" in everything.operations


def test_selection_never_plans_beyond_its_budget() -> None:
    checks = {f"c{n}": check(10, [f"op{n}"], [f"m{n}"]) for n in range(10)}
    assert select(checks, "all", planned=35).requests == 30


def test_selection_spends_the_budget_left_on_the_cheapest_checks() -> None:
    checks = {
        "catches": check(10, ["a"], ["m1"]),
        "cheap": check(2, ["a"], []),
        "middling": check(5, ["a"], []),
        "dear": check(30, ["a"], []),
    }
    chosen = select(checks, "documented", planned=20)
    assert set(chosen.checks) == {"catches", "cheap", "middling"} and chosen.requests == 17
