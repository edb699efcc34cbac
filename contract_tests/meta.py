"""Meta-test: the suite is fair both ways.

    python -m contract_tests.meta                  # the CI run: both tables below
    python -m contract_tests.meta --thorough       # also every variant alone, every mutant under every profile
    python -m contract_tests.meta --smoke-power --no-specificity   # what --smoke catches
    python -m contract_tests.meta --profile-report --no-sensitivity --no-specificity   # detection per request
    python -m contract_tests.meta --mutants otp_not_consumed page_overlap --profiles minimal
    python -m contract_tests.meta --no-sensitivity --variants phone-as-sent other-error-layout
    python -m contract_tests.meta --list

Sensitivity: every mutant of the mock (a seeded bug) must be caught. Each mutant runs
in a pytest process of its own against the in-process mock, turned into the mutant by
the meta run's own plugin (``-p contract_tests.mutant_plugin``, ``WACR_MUTANT``),
over the suite's modules for the mutant's area (``AREA_MODULES``), stopping at
the first failure: once, on the default mock or with a variant profile on
(``WACR_MOCK_VARIANTS``), the configurations taking turns from one mutant to the
next; with ``--thorough``, under every configuration.

Specificity: the suite must pass every legitimate variant of the mock. The whole
suite runs against each profile (and with ``--thorough`` each variant alone) at
``--contract-level all`` and at ``documented``: the first profile at ``all`` as a
real server (``wacr-mock --variant NAME`` on 127.0.0.1, judged by URL), the other
runs against the in-process mock with the variants on (``WACR_MOCK_VARIANTS``),
the same core without the HTTP server; with ``--servers`` or ``--thorough``,
every run as a real server.

Each variant and profile declares the levels where it is a correct server
(``mockserver/variants/``): one that breaks a decided rule (D4's error layout, D10's attempt
boundary) is run at ``documented`` only, and mutants run only under configurations correct at
level ``all``. The specificity table is summed up per level.

A mutant run that got a 5xx answer no check asked for (``contract_tests/answers_plugin.py``
counts them) is reported as BROKEN, not caught: the mutant crashed the mock, so its failing
check proves nothing about the check (architecture review §4.1).

Detection power of ``--smoke`` (every documented check once, one example each), with
``--smoke-power`` or ``--thorough``, and of the ``thorough`` Hypothesis profile with
``--thorough-power``: the share of mutants such a run over the mutant's area modules catches,
reported, not required. Every sensitivity run also counts the requests it sent (stopping at the
first failure), so the closing table gives, per suite profile, mutants caught and requests sent.

Detection per request, with ``--profile-report [smoke] [smoke-control] [default]``: per suite profile and
level, the mutants caught out of all 53, and at level ``documented`` also out of those the full documented
profile catches (a mutant that only breaks a decided rule Dn is no bug at that level), next to the requests
the whole profile sends against a live-like ``wacr-mock --no-control`` (one tenant, a team's tokens), as
``benchmarks/requests.py --live`` counts them. Each configuration says where it was measured (``PROFILE_RUNS``):
``smoke`` is ``--smoke`` against a live-like server serving the mutant (``wacr-mock --mutant``: no control
API, as the CI recipe runs it); ``smoke-control`` the same selection against the in-process mock, whose control
API lets the checks read OTP codes and move clocks; ``default`` the ``ci`` profile over the mutant's area
modules on the in-process mock, as the sensitivity runs. Each mutant run stops at its first failure. Reported,
not required.

Exit status: 0 when every mutant was caught and every variant passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from contract_tests import in_process

Case = TypeVar("Case")
ROOT = Path(__file__).resolve().parent.parent
SUITE = "contract_tests"
LEVELS = ("all", "documented")
AREA_MODULES = {
    "OTP": ["test_otp_lifecycle.py"],
    "messages": ["test_messages_templates.py"],
    "validation": ["test_validation_messages.py"],
    "auth": ["test_authentication.py", "test_scopes.py"],
    "tenancy": ["test_crud_model.py", "test_not_found.py"],
    "CRUD": ["test_crud_model.py"],
    "pagination": ["test_pagination.py"],
    "response shape": ["test_envelopes.py", "test_schema_fuzzing.py"],
}
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header"]
TOTALS = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected)")
COUNTING = ["-p", "contract_tests.answers_plugin"]
ANSWERS = re.compile(r"^wacr-meta: (\d+) answers, (\d+) server errors", re.MULTILINE)
SENT = re.compile(r"^WA\.cr contract: ([\d,]+) requests sent", re.MULTILINE)


@dataclass
class Run:
    """One pytest process: what ran, how it ended, and the first failing check."""

    label: str
    exit_code: int
    seconds: float
    first_failure: str
    counts: dict[str, int]
    requests: int = 0  # answers of the in-process mock, or the suite's own count against a server
    server_errors: int = 0  # 5xx answers no check asked for (in-process runs only)

    def count(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)

    @property
    def broken(self) -> bool:
        return self.server_errors > 0


def pytest_run(label: str, args: list[str], env: dict[str, str]) -> Run:
    started = time.perf_counter()
    result = subprocess.run([*PYTEST, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE)
    tail = result.stdout.strip().splitlines()[-1:] or [""]
    counts = {
        outcome.rstrip("s") if outcome.startswith("error") else outcome: int(n)
        for n, outcome in TOTALS.findall(tail[0])
    }
    if result.returncode not in (0, 1):
        sys.stderr.write(
            f"--- {label}: exit {result.returncode}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    answers, sent = ANSWERS.search(result.stdout), SENT.search(result.stdout)
    requests = int(answers.group(1)) if answers else int(sent.group(1).replace(",", "")) if sent else 0
    return Run(
        label,
        result.returncode,
        time.perf_counter() - started,
        failed.group(1) if failed else "",
        counts,
        requests,
        int(answers.group(2)) if answers else 0,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WACR_")}
    env.update(extra)
    return env


# --- sensitivity -----------------------------------------------------------------------------------


SUITE_PROFILES = ("smoke", "default", "thorough")  # --smoke, the ci Hypothesis profile, the thorough one


@dataclass(frozen=True)
class MutantCase:
    mutant: str
    area: str
    profile: str | None
    suite_profile: str = "default"

    @property
    def label(self) -> str:
        configuration = self.profile or "default"
        if self.suite_profile != "default":
            configuration = self.suite_profile
        return f"{self.mutant} [{configuration}]"


def run_mutant(case: MutantCase) -> Run:
    extra = {"WACR_MUTANT": case.mutant}
    if case.profile:
        extra["WACR_MOCK_VARIANTS"] = case.profile
    if case.suite_profile == "thorough":
        extra["HYPOTHESIS_PROFILE"] = "thorough"
    modules = [f"{SUITE}/{m}" for m in AREA_MODULES[case.area]]
    smoke = ["--smoke"] if case.suite_profile == "smoke" else []
    return pytest_run(
        case.label,
        ["-p", "contract_tests.mutant_plugin", *COUNTING, *modules, "-x", "-rf", *smoke],
        clean_env(**extra),
    )


def mutant_cases(mutants: dict[str, str], profiles: list[str], every_profile: bool) -> list[MutantCase]:
    """Every mutant under every configuration (the default mock and each profile correct at level ``all``,
    the suite's default level), or, for a CI run, each mutant once, the configurations taking turns, so
    that each of them serves a share of the mutants."""
    configurations: list[str | None] = [None, *(p for p in profiles if "all" in in_process.variant_levels(p))]
    if every_profile:
        return [
            MutantCase(name, area, profile) for name, area in mutants.items() for profile in configurations
        ]
    return [
        MutantCase(name, area, configurations[index % len(configurations)])
        for index, (name, area) in enumerate(mutants.items())
    ]


# --- specificity -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantCase:
    variant: str
    level: str
    server: bool  # a real wacr-mock judged by URL, or the in-process mock (the same core, no HTTP server)

    @property
    def label(self) -> str:
        return f"{self.variant} @ {self.level} ({'server' if self.server else 'in process'})"


def variant_cases(profiles: list[str], variants: list[str], every_server: bool) -> list[VariantCase]:
    """Each name at each level where it is a correct server. With ``every_server`` each run is a real
    server; otherwise, for a CI run, the first profile at level ``all`` is (the suite's by-URL path is
    judged in every run) and the rest run in process, where the same variants answer at about two thirds
    of the cost."""
    cases = []
    for level in LEVELS:
        names = [name for name in profiles + variants if level in in_process.variant_levels(name)]
        cases += [
            VariantCase(name, level, every_server or (level == "all" and index == 0))
            for index, name in enumerate(names)
        ]
    return cases


def run_variant(case: VariantCase) -> Run:
    args = [
        SUITE,
        "--contract-level",
        case.level,
        "-rfs",
        "--allow-skips",
    ]  # judged for false failures, not reach
    if not case.server:
        return pytest_run(case.label, [*COUNTING, *args], clean_env(WACR_MOCK_VARIANTS=case.variant))
    server = in_process.start_server("--variant", case.variant)
    try:
        return pytest_run(case.label, [*args, "--base-url", server.api_url], clean_env())
    finally:
        server.stop()


# --- detection per request (--profile-report) ------------------------------------------------------

PROFILE_RUNS = {  # each configuration of a profile the report measures, and how
    "smoke": "--smoke, whole suite, against wacr-mock --no-control --mutant NAME (live-like: no control API)",
    "smoke-control": "--smoke, whole suite, against the in-process mock (control API available)",
    "default": "ci profile, the mutant's area modules (as the sensitivity runs), against the in-process mock "
    "(control API available)",
}
BUDGET_PROFILE = {"smoke": ["--smoke"], "smoke-control": ["--smoke"], "default": []}


@dataclass(frozen=True)
class ProfileCase:
    profile: str
    level: str
    mutant: str  # "": the correct live-like server, the whole profile, where its requests are counted
    area: str = ""

    @property
    def label(self) -> str:
        return f"{self.mutant or 'correct server, live-like'} [{self.profile} @ {self.level}]"


def run_profile_case(case: ProfileCase) -> Run:
    """A mutant under one configuration (``PROFILE_RUNS``), stopping at the first failure; or, for ``""``,
    the whole profile against a correct live-like server, for its request count."""
    level = [*BUDGET_PROFILE[case.profile], "--contract-level", case.level]
    if not case.mutant or case.profile == "smoke":
        server = ["--mutant", case.mutant] if case.mutant else []
        stop = ["-x"] if case.mutant else ["--allow-skips"]
        with in_process.live_like_server(*server) as url:
            live = [*in_process.LIVE_OPTIONS, "--base-url", url, *stop]
            return pytest_run(case.label, [SUITE, *level, *live], clean_env())
    modules = (
        [SUITE] if case.profile == "smoke-control" else [f"{SUITE}/{m}" for m in AREA_MODULES[case.area]]
    )
    mutant = ["-p", "contract_tests.mutant_plugin", *COUNTING]
    return pytest_run(case.label, [*mutant, *modules, *level, "-x"], clean_env(WACR_MUTANT=case.mutant))


def profile_cases(profiles: list[str], mutants: dict[str, str]) -> list[ProfileCase]:
    """Each profile at each level against every mutant; the request count once per budget profile and level."""
    counted = dict.fromkeys(tuple(BUDGET_PROFILE[p]) for p in profiles)
    cases = [
        ProfileCase(next(p for p in profiles if tuple(BUDGET_PROFILE[p]) == key), level, "")
        for key in counted
        for level in LEVELS
    ]
    return cases + [
        ProfileCase(profile, level, mutant, area)
        for profile in profiles
        for level in LEVELS
        for mutant, area in mutants.items()
    ]


def profile_caught(case: ProfileCase, run: Run) -> bool:
    """Caught: a check failed; against a live-like server also a run the suite refused to judge (exit 4: the mutant
    answers like no WA.cr server, which fails a CI job as surely)."""
    return caught(run) or (case.profile == "smoke" and run.exit_code == 4)


def print_profile_report(results: list[tuple[ProfileCase, Run]]) -> None:
    """Per profile and level: mutants caught (of all; at ``documented`` also of those the full documented
    profile catches) and the requests the whole profile sends live-like."""
    sent = {
        (tuple(BUDGET_PROFILE[case.profile]), case.level): run.requests
        for case, run in results
        if not case.mutant
    }
    keys = dict.fromkeys((case.profile, case.level) for case, _ in results if case.mutant)
    hits = {
        key: {
            c.mutant
            for c, run in results
            if c.mutant and (c.profile, c.level) == key and profile_caught(c, run)
        }
        for key in keys
    }
    total = len({case.mutant for case, _ in results if case.mutant})
    documented_bugs = hits.get(("default", "documented"))
    print("\n### Detection per request: mutants caught and requests sent, per profile and level\n")
    for profile in dict.fromkeys(case.profile for case, _ in results):
        print(f"- `{profile}`: {PROFILE_RUNS[profile]}")
    print(
        "\n| profile | level | caught of all mutants | caught of those the full documented profile catches "
        "| requests (whole profile, live-like) | at 60/min | missed |"
    )
    print("|---|---|---|---|---|---|---|")
    for (profile, level), found in hits.items():
        of_documented = "-"
        if level == "documented" and documented_bugs is not None:
            share = 100 * len(found & documented_bugs) / max(len(documented_bugs), 1)
            of_documented = f"{len(found & documented_bugs)}/{len(documented_bugs)} ({share:.0f}%)"
        requests = sent.get((tuple(BUDGET_PROFILE[profile]), level), 0)
        missed = [
            c.mutant
            for c, _ in results
            if (c.profile, c.level) == (profile, level) and c.mutant and c.mutant not in found
        ]
        print(
            f"| {profile} | {level} | {len(found)}/{total} ({100 * len(found) / max(total, 1):.0f}%) | {of_documented} "
            f"| {requests:,} | {requests / 60:.1f} min | {', '.join(missed) or '-'} |"
        )


# --- the run ---------------------------------------------------------------------------------------


def run_all(
    cases: Iterable[Case], runner: Callable[[Case], Run], workers: int, title: str
) -> list[tuple[Case, Run]]:
    chosen = list(cases)
    print(f"{title}: {len(chosen)} runs, {workers} at a time", flush=True)
    done: list[tuple[Case, Run]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for index, (case, run) in enumerate(zip(chosen, pool.map(runner, chosen), strict=True), start=1):
            done.append((case, run))
            print(
                f"  [{index}/{len(chosen)}] {run.label}: exit {run.exit_code} in {run.seconds:.0f}s",
                flush=True,
            )
    return done


def caught(run: Run) -> bool:
    """The suite failed on the mutant without the mock crashing: a wrong answer was judged wrong."""
    return run.exit_code == 1 and not run.broken


def verdict(run: Run) -> str:
    if run.broken:
        return f"BROKEN ({run.server_errors} server errors)"
    return "yes" if caught(run) else f"NO (exit {run.exit_code})"


def print_sensitivity(results: list[tuple[MutantCase, Run]]) -> int:
    print("\n### Sensitivity: every mutant is caught\n")
    print("| mutant | area | mock | caught | by (first failing check) | requests | seconds |")
    print("|---|---|---|---|---|---|---|")
    for case, run in results:
        by = run.first_failure.split("::", 1)[-1] if run.first_failure else "-"
        print(
            f"| {case.mutant} | {case.area} | {case.profile or 'default'} | {verdict(run)} | {by} "
            f"| {run.requests} | {run.seconds:.0f} |"
        )
    broken = [case.mutant for case, run in results if run.broken]
    if broken:
        print(f"\nBROKEN (the mock crashed, so nothing was proven): {', '.join(broken)}")
    return sum(caught(run) for _, run in results)


def print_power(suite_profile: str, results: list[tuple[MutantCase, Run]]) -> None:
    missed = [case.mutant for case, run in results if not caught(run)]
    print(
        f"\n### Detection power of the {suite_profile} profile: {len(results) - len(missed)}/{len(results)} "
        f"mutants caught ({100 * (len(results) - len(missed)) / max(len(results), 1):.0f}%)\n"
    )
    print(f"missed: {', '.join(missed) or 'none'}")


def print_cost(by_profile: dict[str, list[tuple[MutantCase, Run]]]) -> None:
    """Per suite profile: mutants caught, requests sent to catch them (each run stops at its first
    failure), and requests per caught mutant, so checks can be ranked by bugs caught per request."""
    print("\n### Detection and cost per suite profile\n")
    print(
        "| suite profile | mutants caught | broken | requests sent | requests per caught mutant | seconds |"
    )
    print("|---|---|---|---|---|---|")
    for profile, results in by_profile.items():
        hits = sum(caught(run) for _, run in results)
        requests = sum(run.requests for _, run in results)
        print(
            f"| {profile} | {hits}/{len(results)} | {sum(run.broken for _, run in results)} | {requests:,} "
            f"| {requests / hits if hits else 0:,.0f} | {sum(run.seconds for _, run in results):.0f} |"
        )


def print_specificity(results: list[tuple[VariantCase, Run]]) -> int:
    print("\n### Specificity: the suite passes every legitimate variant, at each level where it is correct\n")
    print(
        "| variant | level | judged as | passes | passed | failed | skipped | first failing check "
        "| requests | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case, run in results:
        passes = "yes" if run.exit_code == 0 else f"NO (exit {run.exit_code})"
        by = run.first_failure.split("::", 1)[-1] if run.first_failure else "-"
        failed = run.count("failed") + run.count("error")
        print(
            f"| {case.variant} | {case.level} | {'server' if case.server else 'in process'} | {passes} "
            f"| {run.count('passed')} | {failed} | {run.count('skipped')} | {by} | {run.requests} | {run.seconds:.0f} |"
        )
    print()
    for level in LEVELS:
        at_level = [run for case, run in results if case.level == level]
        failing = [case.variant for case, run in results if case.level == level and run.exit_code != 0]
        print(
            f"level {level}: {sum(run.exit_code == 0 for run in at_level)}/{len(at_level)} variant runs passed"
            + (f"; failing: {', '.join(failing)}" if failing else "")
        )
    return sum(run.exit_code == 0 for _, run in results)


def main(argv: list[str] | None = None) -> int:
    mutants = in_process.mutant_catalogue()
    variants, profiles = in_process.variant_catalogue()
    parser = argparse.ArgumentParser(prog="python -m contract_tests.meta", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--mutants",
        "--faults",
        dest="mutants",
        nargs="*",
        choices=sorted(mutants),
        help="mutants to run (default: all)",
    )
    parser.add_argument(
        "--profiles",
        nargs="*",
        choices=sorted(profiles),
        help="variant profiles (default: all; the option alone: none)",
    )
    parser.add_argument(
        "--variants",
        nargs="*",
        choices=variants,
        help="also run these variants alone, at their levels (without --profiles: these and no profile)",
    )
    parser.add_argument(
        "--thorough",
        action="store_true",
        help="also each variant alone, and every mutant on the default mock and under every profile",
    )
    parser.add_argument(
        "--servers",
        action="store_true",
        help="judge every variant as a real server by URL (part of --thorough)",
    )
    parser.add_argument("--no-sensitivity", action="store_true", help="skip the mutants")
    parser.add_argument("--no-specificity", action="store_true", help="skip the variants")
    parser.add_argument(
        "--smoke-power",
        action="store_true",
        help="also measure the share of mutants --smoke catches (part of --thorough)",
    )
    parser.add_argument(
        "--thorough-power",
        action="store_true",
        help="also measure the share of mutants the thorough Hypothesis profile catches (slow; not in --thorough)",
    )
    parser.add_argument(
        "--profile-report",
        nargs="*",
        choices=sorted(PROFILE_RUNS),
        help="also report, per profile configuration (default: all three) and level, the mutants caught and "
        "the requests the whole profile sends against a live-like mock (not a gate)",
    )
    parser.add_argument("--list", action="store_true", help="list mutants, variants and profiles, and exit")
    parser.add_argument("--workers", type=int, default=2, help="suite runs at a time (default 2)")
    args = parser.parse_args(argv)
    if args.list:
        for name, area in mutants.items():
            print(f"mutant   {name:32} {area}")
        for name in variants:
            print(f"variant  {name:32} levels: {', '.join(in_process.variant_levels(name))}")
        for name, members in profiles.items():
            levels = ", ".join(in_process.variant_levels(name))
            print(f"profile  {name:32} levels: {levels}; {', '.join(members)}")
        return 0
    chosen_mutants = {name: mutants[name] for name in (args.mutants or mutants)}
    # ``--profiles`` with no names: none (the mutants then all run on the default mock).
    chosen_profiles = list(args.profiles if args.profiles is not None else [] if args.variants else profiles)
    started = time.perf_counter()

    hits = total_mutants = passed = total_variants = 0
    if not args.no_sensitivity:
        cases = mutant_cases(chosen_mutants, chosen_profiles, args.thorough)
        results = run_all(cases, run_mutant, args.workers, "sensitivity (mutants)")
        hits, total_mutants = print_sensitivity(results), len(results)
        by_profile = {"default": results}
        powers = [("smoke", args.smoke_power or args.thorough), ("thorough", args.thorough_power)]
        for suite_profile, wanted in powers:
            if wanted:
                cases = [MutantCase(name, area, None, suite_profile) for name, area in chosen_mutants.items()]
                title = f"detection power of the {suite_profile} profile (not a gate)"
                by_profile[suite_profile] = run_all(cases, run_mutant, args.workers, title)
                print_power(suite_profile, by_profile[suite_profile])
        print_cost(by_profile)
    if args.profile_report is not None:
        profile_runs = profile_cases(args.profile_report or list(PROFILE_RUNS), chosen_mutants)
        print_profile_report(
            run_all(profile_runs, run_profile_case, args.workers, "detection per profile (not a gate)")
        )
    if not args.no_specificity:
        alone = list(variants) if args.thorough else list(args.variants or [])
        variant_runs = variant_cases(chosen_profiles, alone, args.thorough or args.servers)
        checked = run_all(variant_runs, run_variant, args.workers, "specificity (legitimate variants)")
        passed, total_variants = print_specificity(checked), len(checked)

    parts = [f"{hits}/{total_mutants} mutant runs caught"] * (not args.no_sensitivity)
    parts += [f"{passed}/{total_variants} variant runs passed"] * (not args.no_specificity)
    print("\n" + "; ".join([*parts, f"{time.perf_counter() - started:.0f}s"]))
    return 0 if hits == total_mutants and passed == total_variants else 1


if __name__ == "__main__":
    sys.exit(main())
