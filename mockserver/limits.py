"""The limiters: a sliding window for the per-token limit (D11) and, by default, the OTP limits (D10);
a fixed window for the OTP limits of the ``fixed-window-otp-limits`` variant (D10 leaves the shape free)."""

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

    def idle(self, now: float, seconds: float) -> bool:
        """No call admitted in the last ``seconds``: the window holds nothing that still counts."""
        return not self.hits or self.hits[-1] <= now - seconds


@dataclass
class FixedWindow:
    """A window opened by its first counted call and closed ``seconds`` later, as a framework's usual
    limiter counts (Laravel's RateLimiter): ``calls`` fit in it, and the next window opens with the
    first call after it closed."""

    opened: float | None = None
    count: int = 0

    def admit(self, now: float, calls: int, seconds: float) -> int | None:
        """As ``SlidingWindow.admit``; the ``Retry-After`` is the time until the window closes."""
        opened = self.opened
        if opened is None or self.idle(now, seconds):
            opened = self.opened = now
            self.count = 0
        if self.count >= calls:
            return max(1, math.ceil(opened + seconds - now))
        self.count += 1
        return None

    def give_back(self) -> None:
        self.count = max(0, self.count - 1)

    def used(self) -> int:
        return self.count

    def idle(self, now: float, seconds: float) -> bool:
        return self.opened is None or now >= self.opened + seconds


Window = SlidingWindow | FixedWindow


def window_state(window: Window) -> list[float] | dict[str, float | int | None]:
    """A window as data for the store: a sliding one's call times, a fixed one's opening and count."""
    if isinstance(window, SlidingWindow):
        return list(window.hits)
    return {"opened": window.opened, "count": window.count}


def restored_window(state: list[float] | dict[str, float | int | None]) -> Window:
    """The window ``window_state`` gave."""
    if isinstance(state, list):
        return SlidingWindow(deque(state))
    opened, count = state["opened"], state["count"]
    return FixedWindow(None if opened is None else float(opened), int(count or 0))


def prune_idle(windows: dict[str, Window], now: float, seconds: float, prefix: str) -> None:
    """Drops the windows under ``prefix`` that admitted no call in the last ``seconds``: without
    this, a limiter per phone ever seen would stay in memory (and in the state file) for good."""
    idle = [key for key, window in windows.items() if key.startswith(prefix) and window.idle(now, seconds)]
    for key in idle:
        del windows[key]
