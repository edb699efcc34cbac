"""Meta-test: the suite is fair both ways.

    python -m contract_tests.meta                  # the CI run: both tables below
    python -m contract_tests.meta --thorough       # also every variant alone, every mutant under every profile
    python -m contract_tests.meta --smoke-power --no-specificity   # what --smoke catches
    python -m contract_tests.meta --profile-report --no-sensitivity --no-specificity  # detection per request
    python -m contract_tests.meta --mutants otp_not_consumed page_overlap --profiles minimal
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

Detection power of ``--smoke`` (every documented check once, one example each), with
``--smoke-power`` or ``--thorough``: the share of mutants a smoke run over the mutant's
area modules catches, reported, not required.

Detection per request, with ``--profile-report [smoke] [default]``: for each profile (``--smoke``, the smoke
selection; ``default``, the ``ci`` profile) and level, the mutants the profile catches over each mutant's area
modules (as the sensitivity runs) and the requests the whole profile sends against a live-like ``wacr-mock
--no-control``; reported, not required.

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

from contract_tests import in_process

ROOT = Path(__file__).resolve().parent.parent
SUITE = "contract_tests"
LEVELS = ("all", "documented")
AREA_MODULES = {
    "OTP": ["test_otp_lifecycle.py"],
    "validation": ["test_validation_messages.py"],
    "auth": ["test_authentication.py", "test_scopes.py"],
    "tenancy": ["test_crud_model.py", "test_not_found.py"],
    "CRUD": ["test_crud_model.py"],
    "pagination": ["test_pagination.py"],
    "response shape": ["test_envelopes.py", "test_schema_fuzzing.py"],
}
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header"]
TOTALS = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected)")


@dataclass
class Run:
    """One pytest process: what ran, how it ended, and the first failing check."""

    label: str
    exit_code: int
    seconds: float
    first_failure: str
    counts: dict[str, int]
    stdout: str = ""

    def count(self, outcome: str) -> int:
        return self.counts.get(outcome, 0)


def pytest_run(label: str, args: list[str], env: dict[str, str], keep_stdout: bool = False) -> Run:
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
    return Run(
        label,
        result.returncode,
        time.perf_counter() - started,
        failed.group(1) if failed else "",
        counts,
        result.stdout if keep_stdout else "",
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WACR_")}
    env.update(extra)
    return env


# --- sensitivity -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MutantCase:
    mutant: str
    area: str
    profile: str | None
    smoke: bool = False

    @property
    def label(self) -> str:
        return f"{self.mutant} [{'smoke' if self.smoke else self.profile or 'default'}]"


def run_mutant(case: MutantCase) -> Run:
    extra = {"WACR_MUTANT": case.mutant}
    if case.profile:
        extra["WACR_MOCK_VARIANTS"] = case.profile
    modules = [f"{SUITE}/{m}" for m in AREA_MODULES[case.area]]
    return pytest_run(
        case.label,
        ["-p", "contract_tests.mutant_plugin", *modules, "-x", "-rf", *(["--smoke"] if case.smoke else [])],
        clean_env(**extra),
    )


def mutant_cases(mutants: dict[str, str], profiles: list[str], every_profile: bool) -> list[MutantCase]:
    """Every mutant under every configuration (the default mock and each profile), or, for a CI run, each
    mutant once, the configurations taking turns, so that each of them serves a share of the mutants."""
    configurations: list[str | None] = [None, *profiles]
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
    """Each name at both levels. With ``every_server`` each run is a real server; otherwise, for a CI run,
    the first profile at level ``all`` is (the suite's by-URL path is judged in every run) and the rest run
    in process, where the same variants answer at about two thirds of the cost."""
    names = profiles + variants
    return [
        VariantCase(name, level, every_server or (level == "all" and index == 0))
        for level in LEVELS
        for index, name in enumerate(names)
    ]


def run_variant(case: VariantCase) -> Run:
    args = [SUITE, "--contract-level", case.level, "-rfs"]
    if not case.server:
        return pytest_run(case.label, args, clean_env(WACR_MOCK_VARIANTS=case.variant))
    server = in_process.start_server("--variant", case.variant)
    try:
        return pytest_run(case.label, [*args, "--base-url", server.api_url], clean_env())
    finally:
        server.stop()


# --- detection per profile and level (--profile-report) -------------------------------------------

PROFILES = {  # what a team runs: the smoke selection, and the full default (``ci``) profile
    "smoke": ["--smoke"],
    "default": [],
}
SENT = re.compile(r"WA\.cr contract: ([\d,]+) requests sent")


@dataclass(frozen=True)
class ProfileCase:
    profile: str
    level: str
    mutant: str  # "" for the correct mock, where the requests are counted
    area: str = ""

    @property
    def label(self) -> str:
        return f"{self.mutant or 'correct mock'} [{self.profile} @ {self.level}]"


def run_profile_case(case: ProfileCase) -> Run:
    """A profile at a level: against a mutant over its area's modules, stopping at the first failure (as the
    sensitivity runs), or the whole suite against a live-like ``wacr-mock --no-control`` (one token, no control
    API) to count the profile's requests."""
    args = [*PROFILES[case.profile], "--contract-level", case.level]
    if case.mutant:
        modules = [f"{SUITE}/{m}" for m in AREA_MODULES[case.area]]
        return pytest_run(
            case.label,
            ["-p", "contract_tests.mutant_plugin", *modules, *args, "-x"],
            clean_env(WACR_MUTANT=case.mutant),
        )
    with in_process.live_like_server() as url:
        live = [*in_process.LIVE_OPTIONS, "--base-url", url]
        return pytest_run(case.label, [SUITE, *args, *live], clean_env(), keep_stdout=True)


def profile_cases(profiles: list[str], mutants: dict[str, str]) -> list[ProfileCase]:
    return [
        ProfileCase(profile, level, mutant, area)
        for profile in profiles
        for level in LEVELS
        for mutant, area in [("", ""), *mutants.items()]
    ]


def print_profile_report(results: list[tuple[ProfileCase, Run]]) -> None:
    print("\n### Detection per request: mutants caught and requests sent, per profile and level\n")
    print("| profile | level | mutants caught | missed | requests (live-like) | at 60/min |")
    print("|---|---|---|---|---|---|")
    for profile in dict.fromkeys(case.profile for case, _ in results):
        for level in LEVELS:
            runs = [(case, run) for case, run in results if (case.profile, case.level) == (profile, level)]
            mutant_runs = [(case, run) for case, run in runs if case.mutant]
            caught = sum(run.exit_code == 1 for _, run in mutant_runs)
            missed = [case.mutant for case, run in mutant_runs if run.exit_code != 1]
            sent = [SENT.search(run.stdout) for case, run in runs if not case.mutant]
            requests = int(sent[0].group(1).replace(",", "")) if sent and sent[0] else 0
            share = 100 * caught / max(len(mutant_runs), 1)
            print(
                f"| {profile} | {level} | {caught}/{len(mutant_runs)} ({share:.0f}%) | {', '.join(missed) or '-'} "
                f"| {requests:,} | {requests / 60:.1f} min |"
            )


# --- the run ---------------------------------------------------------------------------------------


def run_all(cases: Iterable, runner: Callable, workers: int, title: str) -> list[tuple[object, Run]]:
    cases = list(cases)
    print(f"{title}: {len(cases)} runs, {workers} at a time", flush=True)
    done: list[tuple[object, Run]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for index, (case, run) in enumerate(zip(cases, pool.map(runner, cases), strict=True), start=1):
            done.append((case, run))
            print(
                f"  [{index}/{len(cases)}] {run.label}: exit {run.exit_code} in {run.seconds:.0f}s",
                flush=True,
            )
    return done


def print_sensitivity(results: list[tuple[MutantCase, Run]]) -> int:
    print("\n### Sensitivity: every mutant is caught\n")
    print("| mutant | area | mock | caught | by (first failing check) | seconds |")
    print("|---|---|---|---|---|---|")
    for case, run in results:
        by = run.first_failure.split("::", 1)[-1] if run.first_failure else "-"
        caught = "yes" if run.exit_code == 1 else f"NO (exit {run.exit_code})"
        print(
            f"| {case.mutant} | {case.area} | {case.profile or 'default'} | {caught} | {by} | {run.seconds:.0f} |"
        )
    return sum(run.exit_code == 1 for _, run in results)


def print_smoke(results: list[tuple[MutantCase, Run]]) -> None:
    caught = [case.mutant for case, run in results if run.exit_code == 1]
    missed = [case.mutant for case, run in results if run.exit_code != 1]
    print(
        f"\n### Detection power of --smoke: {len(caught)}/{len(results)} mutants caught "
        f"({100 * len(caught) / max(len(results), 1):.0f}%)\n"
    )
    print(f"missed: {', '.join(missed) or 'none'}")


def print_specificity(results: list[tuple[VariantCase, Run]]) -> int:
    print("\n### Specificity: the suite passes every legitimate variant\n")
    print(
        "| variant | level | judged as | passes | passed | failed | skipped | first failing check | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for case, run in results:
        verdict = "yes" if run.exit_code == 0 else f"NO (exit {run.exit_code})"
        by = run.first_failure.split("::", 1)[-1] if run.first_failure else "-"
        failed = run.count("failed") + run.count("error")
        print(
            f"| {case.variant} | {case.level} | {'server' if case.server else 'in process'} | {verdict} | {run.count('passed')} | {failed} "
            f"| {run.count('skipped')} | {by} | {run.seconds:.0f} |"
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
        "--profiles", nargs="*", choices=sorted(profiles), help="variant profiles (default: all)"
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
        "--profile-report",
        nargs="*",
        choices=sorted(PROFILES),
        help="also report, per profile (default: smoke and default) and level, the mutants it catches and "
        "the requests it sends against a live-like mock (not a gate)",
    )
    parser.add_argument("--list", action="store_true", help="list mutants, variants and profiles, and exit")
    parser.add_argument("--workers", type=int, default=2, help="suite runs at a time (default 2)")
    args = parser.parse_args(argv)
    if args.list:
        for name, area in mutants.items():
            print(f"mutant   {name:32} {area}")
        for name in variants:
            print(f"variant  {name}")
        for name, members in profiles.items():
            print(f"profile  {name:32} {', '.join(members)}")
        return 0
    chosen_mutants = {name: mutants[name] for name in (args.mutants or mutants)}
    chosen_profiles = list(args.profiles or profiles)
    started = time.perf_counter()

    caught = total_mutants = passed = total_variants = 0
    if not args.no_sensitivity:
        cases = mutant_cases(chosen_mutants, chosen_profiles, args.thorough)
        results = run_all(cases, run_mutant, args.workers, "sensitivity (mutants)")
        caught, total_mutants = print_sensitivity(results), len(results)
    if not args.no_sensitivity and (args.smoke_power or args.thorough):
        cases = [MutantCase(name, area, None, smoke=True) for name, area in chosen_mutants.items()]
        print_smoke(run_all(cases, run_mutant, args.workers, "detection power of --smoke (not a gate)"))
    if args.profile_report is not None:
        cases = profile_cases(args.profile_report or list(PROFILES), chosen_mutants)
        print_profile_report(
            run_all(cases, run_profile_case, args.workers, "detection per profile (not a gate)")
        )
    if not args.no_specificity:
        alone = list(variants) if args.thorough else []
        cases = variant_cases(chosen_profiles, alone, args.thorough or args.servers)
        results = run_all(cases, run_variant, args.workers, "specificity (legitimate variants)")
        passed, total_variants = print_specificity(results), len(results)

    parts = [f"{caught}/{total_mutants} mutant runs caught"] * (not args.no_sensitivity)
    parts += [f"{passed}/{total_variants} variant runs passed"] * (not args.no_specificity)
    print("\n" + "; ".join([*parts, f"{time.perf_counter() - started:.0f}s"]))
    return 0 if caught == total_mutants and passed == total_variants else 1


if __name__ == "__main__":
    sys.exit(main())
