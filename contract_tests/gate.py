"""The run's verdict as a CI gate: its exit status and the one closing line that explains it.

A gate must not look green when it judged little: a run in which most checks skipped, or in which some
operation was never called, exits 5 by default and names what is missing; ``--allow-skips`` accepts
that on purpose. Skips are never silent: their reasons are counted, each with the option that lifts it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from contract_tests.report import CheckResult

OK, FAILED, INTERRUPTED, USAGE_ERROR, JUDGED_TOO_LITTLE = 0, 1, 2, 4, 5
OPTION = re.compile(r"(?<![\w-])(?:--[a-z][a-z-]+|-m [a-z]+)")


@dataclass(frozen=True)
class SkipReason:
    reason: str
    count: int
    lifted_by: tuple[str, ...]  # the options named in the reason, which lift it


@dataclass(frozen=True)
class Verdict:
    exit_status: int
    line: str


def skip_reasons(results: Iterable[CheckResult]) -> list[SkipReason]:
    """The reasons checks skipped, most frequent first, each with the options that lift it."""
    counts = Counter(r.message.strip() or "(no reason given)" for r in results if r.outcome == "skipped")
    return [
        SkipReason(reason, count, tuple(dict.fromkeys(OPTION.findall(reason))))
        for reason, count in counts.most_common()
    ]


def uncalled_operations(results: Iterable[CheckResult], operations: Iterable[str]) -> list[str]:
    """The operations no check that ran called (fixtures' calls included), among those the run had a check for:
    an operation with no check at the chosen level (``--contract-level documented`` has none for the operations
    the docs only name in their sidebar, D1) is out of the run's scope, not missed."""
    chosen = list(results)
    in_scope = {op for r in chosen for op in r.operations}
    called = {op for r in chosen if r.outcome != "skipped" for op in (*r.reached, *r.operations)}
    return sorted((set(operations) & in_scope) - called)


def judge(
    exit_status: int,
    results: list[CheckResult],
    operations: list[str],
    *,
    whole_suite: bool,
    allow_skips: bool,
    stop_reason: str | None = None,
) -> Verdict:
    """The run's exit status and closing line. ``whole_suite``: no -k, -m or file narrowed the run, so
    every operation should have been called."""
    failed = sum(r.outcome == "failed" for r in results)
    ran = sum(r.outcome != "skipped" for r in results)
    skipped = len(results) - ran
    if exit_status == USAGE_ERROR:
        return Verdict(exit_status, f"stopped: {stop_reason or 'the target cannot be judged'}; exit 4")
    if exit_status == FAILED:
        return Verdict(exit_status, f"{failed} of {ran} checks that ran failed; exit 1")
    if exit_status != OK:
        return Verdict(exit_status, f"the run did not finish (pytest exit {exit_status}); exit {exit_status}")
    if results and not ran:
        return Verdict(
            JUDGED_TOO_LITTLE,
            f"none of the {len(results)} checks ran (all skipped; reasons above), so nothing was judged: "
            "exit 5. Give the target's --token, or point at a target with the control API.",
        )
    if whole_suite and not allow_skips:
        problems = []
        if skipped > ran:
            problems.append(f"most checks skipped ({skipped} of {len(results)}; reasons above)")
        missing = uncalled_operations(results, operations)
        if missing:
            problems.append(f"{len(missing)} operations no check called: {', '.join(missing)}")
        if problems:
            return Verdict(
                JUDGED_TOO_LITTLE,
                f"{'; '.join(problems)}: exit 5. Pass the options named above, or --allow-skips to accept it.",
            )
    return Verdict(OK, f"{ran} checks passed, {skipped} skipped; exit 0")


def skip_lines(reasons: list[SkipReason]) -> list[str]:
    """The console's account of the skips: counted, each with the option that lifts it."""
    lines = []
    for skip in reasons:
        lift = f"  [lifted by {', '.join(skip.lifted_by)}]" if skip.lifted_by else "  [no option lifts it]"
        lines.append(f"{skip.count:5d} × {skip.reason}{lift}")
    return lines
