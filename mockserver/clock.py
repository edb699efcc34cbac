"""Controllable clocks (D14): one per tenant, falling back to a shared default.

A clock runs with wall time plus an offset until it is frozen; moving a clock
never freezes it, and unfreezing lets it run on from where it stands.
"""

from __future__ import annotations

import copy
import time
from datetime import datetime, timezone


class Clock:
    def __init__(self, wall=time.time, offset: float = 0.0, frozen_at: float | None = None) -> None:
        self._wall = wall
        self._offset = offset
        self._frozen_at = frozen_at

    def now(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return self._wall() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, seconds: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    def set(self, epoch: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at = epoch
        else:
            self._offset = epoch - self._wall()

    def freeze(self, frozen: bool) -> None:
        if frozen and self._frozen_at is None:
            self._frozen_at = self.now()
        elif not frozen and self._frozen_at is not None:
            self._offset = self._frozen_at - self._wall()
            self._frozen_at = None

    def copy(self) -> Clock:
        """A clock that reads the same now, and moves on its own from here."""
        return copy.copy(self)

    def state(self) -> dict[str, float | None]:
        """What a state file keeps of the clock: its offset from wall time, or where it stands frozen."""
        return {"offset": self._offset, "frozen_at": self._frozen_at}

    @classmethod
    def restored(cls, state: dict[str, float | None]) -> Clock:
        frozen_at = state.get("frozen_at")
        return cls(
            offset=float(state.get("offset") or 0.0),
            frozen_at=None if frozen_at is None else float(frozen_at),
        )

    def describe(self) -> dict:
        return {"now": iso(self.now()), "frozen": self.frozen}


def iso(epoch: float) -> str:
    """ISO 8601 with second precision and a +00:00 offset (D2)."""
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).isoformat()


def parse_iso(text: str) -> float:
    """Accepts ISO dates and datetimes; naive values are UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()
