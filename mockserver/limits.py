"""One sliding-window limiter, for the per-token limit (D11) and the OTP limits (D10)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class SlidingWindow:
    """The times of the calls it admitted; at most ``calls`` fit in any ``seconds``."""

    hits: deque[float] = field(default_factory=deque)

    def admit(self, now: float, calls: int, seconds: float) -> int | None:
        """Counts a call at ``now``; or, when the window is full, counts nothing and returns the
        seconds until a slot frees (the ``Retry-After`` of D11)."""
        while self.hits and self.hits[0] <= now - seconds:
            self.hits.popleft()
        # A clock moved back (D14) leaves calls "in the future": they are not in this window, so a
        # Retry-After never says more than ``seconds`` (not the day the clock went back).
        while self.hits and self.hits[-1] > now:
            self.hits.pop()
        if len(self.hits) >= calls:
            return max(1, math.ceil(self.hits[0] + seconds - now))
        self.hits.append(now)
        return None

    def give_back(self) -> None:
        """Uncounts the last admitted call: a call another limiter refused is not counted (D6)."""
        if self.hits:
            self.hits.pop()

    def used(self) -> int:
        return len(self.hits)


def prune_idle(windows: dict[str, SlidingWindow], now: float, seconds: float, prefix: str) -> None:
    """Drops the windows under ``prefix`` that admitted no call in the last ``seconds``: without
    this, a limiter per phone ever seen would stay in memory (and in the state file) for good."""
    idle = [
        key
        for key, window in windows.items()
        if key.startswith(prefix) and (not window.hits or window.hits[-1] <= now - seconds)
    ]
    for key in idle:
        del windows[key]
