"""Meta-test: the contract suite must fail on every seeded fault and pass on the correct mock.

    python -m contract_tests.meta                 # every fault, two at a time
    python -m contract_tests.meta otp_not_consumed page_overlap
    python -m contract_tests.meta --list

Each run is a separate pytest process against the in-process mock with
``WACR_MOCK_FAULT=<name>``; it runs the suite's modules for the fault's area
(``AREA_MODULES``) and stops at the first failure. Exit status: 0 when every
fault was caught and the clean run passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mockserver.faults import FAULTS

ROOT = Path(__file__).resolve().parent.parent
SUITE = "contract_tests"
AREA_MODULES = {
    "OTP": ["test_otp_lifecycle.py"],
    "validation": ["test_validation_messages.py"],
    "auth": ["test_auth_and_errors.py"],
    "tenancy": ["test_crud_model.py", "test_auth_and_errors.py"],
    "CRUD": ["test_crud_model.py"],
    "pagination": ["test_pagination.py"],
    "response shape": ["test_auth_and_errors.py", "test_schema_fuzzing.py"],
}


@dataclass
class Run:
    name: str
    area: str
    exit_code: int
    seconds: float
    first_failure: str

    @property
    def detected(self) -> bool:
        return self.exit_code == 1


def run_suite(fault: str | None, modules: list[str]) -> Run:
    env = dict(os.environ)
    env.pop("WACR_BASE_URL", None)
    if fault:
        env["WACR_MOCK_FAULT"] = fault
    else:
        env.pop("WACR_MOCK_FAULT", None)
    paths = [f"{SUITE}/{m}" for m in modules] if modules else [SUITE]
    command = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", "-rf", "--no-header"]
    if fault:
        command.append("-x")
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    failed = re.search(r"^FAILED (\S+)", result.stdout, re.MULTILINE)
    area = FAULTS[fault].area if fault else "-"
    if result.returncode not in (0, 1):
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
    return Run(fault or "(no fault)", area, result.returncode, time.perf_counter() - started,
               failed.group(1) if failed else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract_tests.meta", description=__doc__.split("\n")[0])
    parser.add_argument("faults", nargs="*", help="faults to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    parser.add_argument("--workers", type=int, default=2, help="suite runs at a time (default 2)")
    args = parser.parse_args(argv)
    if args.list:
        for fault in FAULTS.values():
            print(f"{fault.name:32} {fault.area:15} {fault.description}")
        return 0
    unknown = sorted(set(args.faults) - set(FAULTS))
    if unknown:
        parser.error(f"unknown faults: {', '.join(unknown)} (see --list)")
    chosen = args.faults or list(FAULTS)
    print(f"running the suite on the correct mock, then against {len(chosen)} seeded faults", flush=True)
    clean = run_suite(None, [])
    print(f"  correct mock: exit {clean.exit_code} in {clean.seconds:.0f}s", flush=True)
    runs: list[Run] = []
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        futures = [pool.submit(run_suite, name, AREA_MODULES[FAULTS[name].area]) for name in chosen]
        for index, future in enumerate(futures, start=1):
            run = future.result()
            runs.append(run)
            verdict = "caught" if run.detected else f"MISSED (exit {run.exit_code})"
            print(f"  [{index}/{len(chosen)}] {run.name}: {verdict} in {run.seconds:.0f}s", flush=True)
    print_table(runs)
    caught = sum(r.detected for r in runs)
    print(f"\n{caught}/{len(runs)} faults caught; correct mock {'passed' if clean.exit_code == 0 else 'FAILED'}")
    return 0 if caught == len(runs) and clean.exit_code == 0 else 1


def print_table(runs: list[Run]) -> None:
    print("\n| fault | area | caught | by (first failing check) | seconds |")
    print("|---|---|---|---|---|")
    for run in runs:
        by = run.first_failure.split("::", 1)[-1] if run.first_failure else "-"
        print(f"| {run.name} | {run.area} | {'yes' if run.detected else 'NO'} | {by} | {run.seconds:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
