"""How many API requests a contract-suite run sends, per Hypothesis profile and contract level.

    python benchmarks/requests.py            # against the in-process mock (a simulation: a tenant per check)
    python benchmarks/requests.py --live     # as against a live server: wacr-mock --no-control, one token
    python benchmarks/requests.py --base-url http://127.0.0.1:8080/api/v2
    python benchmarks/requests.py --live --only smoke    # only the runs whose label holds "smoke"

A live server allows 60 requests a minute by default (D11), so the count is what decides how long
a run against it takes: the table gives that time at 60 a minute next to each count. The counts
come from the suite's own closing line ("N requests sent"); control calls (D14) are not API
requests and are not counted.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from contract_tests.in_process import LIVE_OPTIONS, live_like_server

ROOT = Path(__file__).resolve().parent.parent
RUNS = {
    "ci profile, level all": ["--contract-level", "all"],
    "ci profile, level documented": ["--contract-level", "documented"],
    "--smoke (the smoke selection), level documented": ["--smoke"],
    "--smoke (the smoke selection), level all": ["--smoke", "--contract-level", "all"],
}
SENT = re.compile(r"WA\.cr contract: ([\d,]+) requests sent")
OUTCOMES = re.compile(r"(\d+) (passed|failed|skipped)")


def run_live(args: list[str]) -> tuple[int, dict[str, int], float]:
    """One run against a fresh ``wacr-mock --no-control`` on loopback: no control API, one tenant, as live."""
    with live_like_server() as url:
        return run([*args, *LIVE_OPTIONS], url)


def run(args: list[str], base_url: str | None) -> tuple[int, dict[str, int], float]:
    command = [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider", *args]
    if base_url:
        command += ["--base-url", base_url]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    sent = SENT.search(result.stdout)
    if sent is None:
        raise SystemExit(
            f"no request count in the run's output:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    last = result.stdout.strip().splitlines()[-1]
    return (
        int(sent.group(1).replace(",", "")),
        {k: int(n) for n, k in OUTCOMES.findall(last)},
        time.perf_counter() - started,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", help="a running target (default: the in-process mock)")
    parser.add_argument(
        "--live", action="store_true", help="a fresh wacr-mock --no-control per run, as a live server"
    )
    parser.add_argument("--only", default="", help="only the runs whose label contains this text")
    args = parser.parse_args()
    print("| run | checks passed | failed | skipped | requests | at 60/min | wall time here |")
    print("|---|---|---|---|---|---|---|")
    for label, extra in RUNS.items():
        if args.only not in label:
            continue
        sent, outcomes, seconds = run_live(extra) if args.live else run(extra, args.base_url)
        print(
            f"| {label} | {outcomes.get('passed', 0)} | {outcomes.get('failed', 0)} | {outcomes.get('skipped', 0)} "
            f"| {sent:,} | {sent / 60:.0f} min | {seconds:.0f} s |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
