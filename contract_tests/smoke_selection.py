"""The smoke selection: which checks ``--smoke`` runs, chosen by the seeded bugs they catch per request.

    python -m contract_tests.smoke_selection measure     # measure and select (long: one run per mutant)
    python -m contract_tests.smoke_selection select      # select again from the saved measurement
    python -m contract_tests.smoke_selection show        # the selection's figures per level

``measure`` runs the suite with one example per property (the ``smoke`` Hypothesis profile) at
``--contract-level all``, always as against a live server: a fresh ``wacr-mock --no-control`` on
loopback, one tenant, the options a team passes (``--token``, ``--limited-token``, ``--allow-send``;
``in_process.live_like_server``), so no check can use the control API (D14):
- once over the whole suite against the correct server: what each check costs in requests there, the
  operations it reaches, and which checks pass there at all;
- per mutant area (the meta run's ``AREA_MODULES``), once against the correct server and once against
  each of the area's mutants (``wacr-mock --mutant NAME``), over the area's modules, two runs at a time:
  which checks each seeded bug makes fail. Checks that fail or skip live, or cost more than a quarter of
  the budget, are left out of these runs: they are never chosen.
A check catches a mutant when it fails against the mutant and passes against the correct server in the
same run of its area's modules.

``select`` then picks, per level (``documented``: documented checks only; ``all``), under the request budget:
first the checks that reach every operation some check reaches (a gate fails a run in which an operation
was never called), then, greedily, the checks that catch the most mutants not caught yet per request, then,
where affordable, one check of each error-code module still missing, then the cheapest checks left until the
planned budget is spent (more rules judged, for bugs no mutant seeds). The measurement and the chosen checks
are saved in ``smoke-selection.json`` beside this module, with the date, the commit and the planned request
total; ``--smoke`` reads it.

As a pytest plugin (``-p contract_tests.smoke_selection``, ``WACR_SMOKE_CANDIDATES``: a file of check ids,
one a line) it runs only those checks: the mutant runs skip checks that cannot be chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from contract_tests.in_process import LIVE_OPTIONS, live_like_server, mutant_catalogue
from contract_tests.meta import AREA_MODULES
from contract_tests.smoke import BUDGET, LEVELS, SELECTION_FILE, check_id, node_id

ROOT = Path(__file__).resolve().parent.parent
PLANNED = 540  # what the selection may plan: live counts vary a little with the order checks find records in
# A check costing more than this share of the budget is never chosen: the mutant runs skip it.
MOST_PER_CHECK = BUDGET // 4
# The modules whose checks each judge one documented error code (or two), kept where affordable.
ERROR_CODE_MODULES = (
    "test_authentication.py",  # 401
    "test_scopes.py",  # 403
    "test_not_found.py",  # 404
    "test_validation_messages.py",  # 422
    "test_routing_and_bodies.py",  # 405, 400
    "test_rate_limits.py",  # 429
)
AREA_FILES = {module for modules in AREA_MODULES.values() for module in modules}
# One example per property; every check, the real-time OTP expiry check included (``-m slow`` or ``--smoke`` runs
# it: at 60 requests a minute its wait costs no time).
SMOKE_RUN = ["--hypothesis-profile", "smoke", "--contract-level", "all", "-m", "slow or not slow"]
RUN_SECONDS = 1800  # one measuring run; a mutant that makes the suite hang gets no verdict


# --- measure -------------------------------------------------------------------------------------


@dataclass
class Check:
    """One check as measured: its tier, what it costs and reaches live, and the mutants it catches."""

    tier: str
    requests: int  # as against a live server
    operations: list[str]  # operations it calls there
    module: str
    caught: list[str] = field(default_factory=list)


def suite_run(args: list[str], env: dict[str, str]) -> tuple[int, list[dict]]:
    """Runs the suite with ``args``; its exit code and its report's checks."""
    with tempfile.TemporaryDirectory() as directory:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--allow-skips"]
        try:
            result = subprocess.run(
                [*command, *args, "--wacr-report", directory],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_SECONDS,
            )
        except subprocess.TimeoutExpired:
            sys.stderr.write(f"no end within {RUN_SECONDS} s: {' '.join(args)}\n")
            return -1, []
        report = Path(directory, "report.json")
        if result.returncode not in (0, 1) or not report.exists():
            sys.stderr.write(f"exit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-2000:]}\n")
            return result.returncode, []
        return result.returncode, json.loads(report.read_text(encoding="utf-8"))["checks"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WACR_", "HYPOTHESIS_"))}
    return {**env, **extra}


def outcomes(checks: Iterable[dict]) -> dict[str, str]:
    return {check_id(c["nodeid"]): c["outcome"] for c in checks}


def live_run(modules: list[str], server_args: list[str], extra: list[str], env: dict[str, str]):
    """One run of ``modules`` against a fresh live-like server started with ``server_args``."""
    with live_like_server(*server_args) as url:
        return suite_run([*modules, *SMOKE_RUN, *LIVE_OPTIONS, *extra, "--base-url", url], env)


def measure_live() -> dict[str, Check]:
    """Every check that runs against a live-like server and passes there, with its live cost."""
    _, checks = live_run(["contract_tests"], [], [], clean_env())
    return {
        check_id(c["nodeid"]): Check(
            c["tier"], c["requests"], c["reached"], Path(c["nodeid"].split("::")[0]).name
        )
        for c in checks
        if c["outcome"] == "passed"
    }


def measure_mutant(area: str, name: str, candidates_file: str) -> tuple[int, dict[str, str]]:
    """How each candidate check of ``area``'s modules ends against a live-like server serving mutant
    ``name`` (the correct server for ``""``)."""
    plugin = ["-p", "contract_tests.smoke_selection"]
    code, checks = live_run(
        [f"contract_tests/{module}" for module in AREA_MODULES[area]],
        ["--mutant", name] if name else [],
        plugin,
        clean_env(WACR_SMOKE_CANDIDATES=candidates_file),
    )
    return code, outcomes(checks)


def measure(workers: int) -> dict:
    started = time.perf_counter()
    print("live-like run (wacr-mock --no-control): requests per check ...", flush=True)
    checks = measure_live()
    candidates = {cid: c for cid, c in checks.items() if c.requests <= MOST_PER_CHECK}
    print(
        f"  {len(checks)} checks pass there; {len(candidates)} cost at most {MOST_PER_CHECK} requests "
        f"({elapsed(started)})",
        flush=True,
    )
    mutants = mutant_catalogue()
    # Each area's modules against the correct server first: a check failing there catches nothing.
    runs = [(area, "") for area in AREA_MODULES] + [(area, name) for name, area in mutants.items()]
    ends: dict[tuple[str, str], dict[str, str]] = {}
    broken: list[str] = []
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
        listing.write("\n".join(sorted(candidates)))
        listing.flush()
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            done = pool.map(lambda run: measure_mutant(run[0], run[1], listing.name), runs)
            for index, ((area, name), (code, outcome)) in enumerate(zip(runs, done, strict=True), start=1):
                ends[(area, name)] = outcome
                broken += [name] * (bool(name) and code not in (0, 1))
                failing = sorted(cid for cid, end in outcome.items() if end == "failed")
                print(
                    f"  [{index}/{len(runs)}] {name or 'correct server'} ({area}): exit {code}, "
                    f"{len(failing)} checks failed ({elapsed(started)}) {' '.join(failing[:3])}",
                    flush=True,
                )
    fair = {area: {cid for cid, end in ends[(area, "")].items() if end == "passed"} for area in AREA_MODULES}
    for (area, name), outcome in ends.items():
        for cid, end in outcome.items():
            if name and end == "failed" and cid in fair[area]:
                candidates[cid].caught.append(name)
    judged = set().union(*fair.values())
    return {
        "measured": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "configuration": "live-like: wacr-mock --no-control (and --mutant NAME), "
        + " ".join([*SMOKE_RUN, *LIVE_OPTIONS]),
        "budget": BUDGET,
        "mutants": list(mutants),
        "broken_mutants": broken,
        # Checks of no area's modules (routing, rate limits, ...) are judged against no mutant: they catch none.
        "checks": {
            cid: asdict(c)
            for cid, c in sorted(candidates.items())
            if cid in judged or c.module not in AREA_FILES
        },
    }


def elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.0f} s"


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


# --- select --------------------------------------------------------------------------------------


@dataclass
class Selection:
    checks: list[str]
    requests: int
    caught: set[str]
    operations: set[str]

    def add(self, cid: str, check: Check) -> None:
        self.checks.append(cid)
        self.requests += check.requests
        self.caught |= set(check.caught)
        self.operations |= set(check.operations)


def select(checks: dict[str, Check], level: str, planned: int = PLANNED) -> Selection:
    """Greedy weighted set cover under ``planned`` requests (see the module's docstring)."""
    pool = {cid: c for cid, c in checks.items() if level == "all" or c.tier == "documented"}
    chosen = Selection([], 0, set(), set())

    def best(gain) -> str | None:
        """The affordable check not chosen yet with the highest gain per request (ties: the cheaper)."""
        scored = [
            (gain(c) / max(c.requests, 1), -c.requests, cid)
            for cid, c in pool.items()
            if cid not in chosen.checks and chosen.requests + c.requests <= planned and gain(c) > 0
        ]
        return max(scored)[2] if scored else None

    def new_operations(c: Check) -> float:
        # Operations first; the mutants a check catches break ties between checks reaching as many.
        return len(set(c.operations) - chosen.operations) + 0.01 * len(set(c.caught) - chosen.caught)

    def new_mutants(c: Check) -> float:
        return len(set(c.caught) - chosen.caught)

    for gain in (new_operations, new_mutants):
        while (cid := best(gain)) is not None:
            chosen.add(cid, pool[cid])
    for module in ERROR_CODE_MODULES:
        if not any(pool[cid].module == module for cid in chosen.checks):
            cid = best(lambda c, module=module: float(c.module == module))
            if cid is not None:
                chosen.add(cid, pool[cid])
    # The budget left: the cheapest checks not chosen yet, each a rule more judged, for bugs no mutant seeds.
    for cid in sorted(set(pool) - set(chosen.checks), key=lambda cid: (pool[cid].requests, cid)):
        if chosen.requests + pool[cid].requests <= planned:
            chosen.add(cid, pool[cid])
    chosen.checks.sort()
    return chosen


def with_selection(data: dict) -> dict:
    checks = {cid: Check(**fields) for cid, fields in data["checks"].items()}
    data["selection"] = {}
    for level in LEVELS:
        picked = select(checks, level)
        reachable = {
            op for c in checks.values() if level == "all" or c.tier == "documented" for op in c.operations
        }
        data["selection"][level] = {
            "checks": picked.checks,
            "planned_requests": picked.requests,
            "mutants_caught": sorted(picked.caught),
            "operations_not_reached": sorted(reachable - picked.operations),
        }
    return data


def summary(data: dict) -> str:
    total = len(data["mutants"])
    lines = [f"measured {data['measured']} at {data['commit'][:12]}; {len(data['checks'])} candidate checks"]
    for level, sel in data["selection"].items():
        missed = sorted(set(data["mutants"]) - set(sel["mutants_caught"]))
        lines.append(
            f"level {level}: {len(sel['checks'])} checks, {sel['planned_requests']} requests planned, "
            f"{len(sel['mutants_caught'])}/{total} mutants caught; missed: {', '.join(missed) or 'none'}"
        )
    return "\n".join(lines)


def save(data: dict, path: Path = SELECTION_FILE) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contract_tests.smoke_selection", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=("measure", "select", "show"))
    parser.add_argument("--workers", type=int, default=2, help="mutant runs at a time (default 2)")
    args = parser.parse_args(argv)
    if args.command == "measure":
        save(with_selection(measure(args.workers)))
    elif args.command == "select":
        save(with_selection(json.loads(SELECTION_FILE.read_text(encoding="utf-8"))))
    print(summary(json.loads(SELECTION_FILE.read_text(encoding="utf-8"))))
    return 0


# --- as a pytest plugin: only the candidate checks -----------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(Path(os.environ["WACR_SMOKE_CANDIDATES"]).read_text(encoding="utf-8").splitlines())
    kept = [item for item in items if check_id(node_id(item)) in wanted]
    dropped = [item for item in items if check_id(node_id(item)) not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


if __name__ == "__main__":
    sys.exit(main())
