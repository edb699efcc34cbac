"""What a run will cost before it starts, and how far it got while it goes.

The estimate rests on the request counts ``python benchmarks/requests.py --live`` measured against a
``wacr-mock --no-control`` (as a live server: one token, the live options), per check on average;
at a ``--rate-limit`` those requests take their time, whatever the target's speed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# benchmarks/requests.py --live (README, "A live server's request budget"): requests / checks. smoke: the smoke
# selection at level documented, 2026-12-06; ci: level documented, 2026-12-02 (stale: not measured again).
MEASURED = {"smoke": (551, 279), "ci": (10_814, 336)}
EVERY_SECONDS = 30.0  # a progress line this often
CI_EXAMPLES = 20  # the ci profile's max_examples: other profiles scale its count by theirs


def requests_per_check(profile: str, max_examples: int) -> float:
    sent, checks = MEASURED.get(profile) or MEASURED["ci"]
    per_check = sent / checks
    return per_check if profile in MEASURED else per_check * max_examples / CI_EXAMPLES


def estimate_line(checks: int, per_check: float, per_minute: float | None) -> str:
    requests = round(checks * per_check)
    text = f"WA.cr contract: {checks} checks, about {requests:,} requests"
    if per_minute:
        text += f", about {requests / per_minute:.0f} min at {per_minute:g} a minute"
    return text + " (from the request counts benchmarks/requests.py measured)"


@dataclass
class Progress:
    """Prints a line every ``every`` seconds: checks done, requests sent, time used and left."""

    total: int
    per_check: float
    per_minute: float | None
    every: float = EVERY_SECONDS
    report_every: float = 5.0
    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)
    last_report: float = 0.0

    def due(self) -> bool:
        """Whether a progress line is due (and, if so, it counts as printed)."""
        now = time.monotonic()
        if now - self.last < self.every:
            return False
        self.last = now
        return True

    def report_due(self) -> bool:
        """Whether the reports are due to be rewritten (and, if so, they count as written)."""
        now = time.monotonic()
        if now - self.last_report < self.report_every:
            return False
        self.last_report = now
        return True

    def line(self, done: int, requests: int) -> str:
        elapsed = (time.monotonic() - self.started) / 60
        left = max(self.total - done, 0) * self.per_check
        text = f"WA.cr contract: {done}/{self.total} checks, {requests:,} requests, {elapsed:.0f} min so far"
        if self.per_minute:
            text += f", about {left / self.per_minute:.0f} min left at {self.per_minute:g} a minute"
        return text
