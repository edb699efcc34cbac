"""The meta run (``python -m contract_tests.meta``): what it runs where, and how it judges a run.

A mutant that crashes the mock must come out BROKEN, not caught (architecture review §4.1): the
counting plugin sees the 5xx answers of a real pytest process, and the meta run reads its line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from contract_tests import meta

CRASHING_CHECK = """
    import httpx

    from contract_tests import in_process


    def test_a_mock_that_crashes_fails_this_check():
        in_process.core().handlers["listSources"] = lambda ctx: 1 / 0  # the core's declared handler seam
        http = httpx.Client(transport=in_process.transport(), base_url="http://mock.test/api/v2")
        answer = http.get("/sources", headers={"Authorization": "Bearer wacr_test_full"})
        assert answer.status_code == 200
"""
HEALTHY_CHECK = """
    import httpx

    from contract_tests import in_process


    def test_a_healthy_mock_fails_this_check():
        http = httpx.Client(transport=in_process.transport(), base_url="http://mock.test/api/v2")
        answer = http.get("/sources", headers={"Authorization": "Bearer wacr_test_full"})
        assert answer.status_code == 201  # a wrong answer judged wrong: the run fails, nothing crashed
"""


def run_check(tmp_path: Path, source: str) -> meta.Run:
    path = tmp_path / "test_probe.py"
    path.write_text(textwrap.dedent(source))
    return meta.pytest_run("probe", [*meta.COUNTING, str(path), "-x", "-rf"], meta.clean_env())


def test_a_crashing_mock_is_broken_not_caught(tmp_path: Path) -> None:
    run = run_check(tmp_path, CRASHING_CHECK)
    assert run.exit_code == 1 and run.requests == 1 and run.server_errors == 1
    assert not meta.caught(run)
    assert meta.verdict(run) == "BROKEN (1 server errors)"


def test_a_wrong_answer_is_caught_and_its_requests_counted(tmp_path: Path) -> None:
    run = run_check(tmp_path, HEALTHY_CHECK)
    assert (run.exit_code, run.requests, run.server_errors) == (1, 1, 0)
    assert meta.caught(run) and meta.verdict(run) == "yes"


def test_variants_run_only_at_the_levels_where_they_are_correct() -> None:
    cases = meta.variant_cases(["laravel", "docs-letter"], ["max-attempts-on-fifth"], every_server=False)
    assert [(case.variant, case.level) for case in cases] == [
        ("laravel", "all"),
        ("laravel", "documented"),
        ("docs-letter", "documented"),
        ("max-attempts-on-fifth", "documented"),
    ]
    assert [case.server for case in cases] == [True, False, False, False]


def test_mutants_run_only_under_configurations_correct_at_level_all() -> None:
    mutants = {f"m{n}": "OTP" for n in range(6)}
    cases = meta.mutant_cases(mutants, ["laravel", "docs-letter", "minimal"], every_profile=False)
    assert [case.profile for case in cases] == [None, "laravel", "minimal", None, "laravel", "minimal"]
    every = meta.mutant_cases({"m": "OTP"}, ["docs-letter", "express"], every_profile=True)
    assert [case.profile for case in every] == [None, "express"]


def test_the_profile_report_counts_documented_bugs_against_what_the_full_documented_profile_catches(
    capsys,
) -> None:
    """At level documented a mutant only the decided checks catch is no bug: the share is also given against the
    mutants the full (default) documented profile catches; the request count is the whole profile's, live-like."""

    def run(exit_code: int, requests: int = 0) -> meta.Run:
        return meta.Run("", exit_code, 1.0, "", {}, requests)

    caught_by = {  # profile, level -> the mutants caught (of m1..m4)
        ("smoke", "documented"): {"m1"},
        ("smoke", "all"): {"m1", "m2", "m3"},
        ("default", "documented"): {"m1", "m2"},
        ("default", "all"): {"m1", "m2", "m3", "m4"},
    }
    results = [
        (meta.ProfileCase(profile, level, ""), run(0, requests))
        for profile, requests in (("smoke", 500), ("default", 9000))
        for level in meta.LEVELS
    ]
    results += [
        (meta.ProfileCase(profile, level, mutant), run(1 if mutant in caught else 0))
        for (profile, level), caught in caught_by.items()
        for mutant in ("m1", "m2", "m3", "m4")
    ]
    meta.print_profile_report(results)
    rows = {
        tuple(cells[1:3]): cells[3:]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ") and (cells := [cell.strip() for cell in line.split("|")])[1] != "profile"
    }
    assert rows[("smoke", "documented")][:3] == ["1/4 (25%)", "1/2 (50%)", "500"]
    assert rows[("smoke", "all")][:3] == ["3/4 (75%)", "-", "500"]
    assert rows[("default", "all")][:3] == ["4/4 (100%)", "-", "9,000"]
    assert rows[("smoke", "documented")][4] == "m2, m3, m4"
