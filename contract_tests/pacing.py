"""One ``--rate-limit`` for the whole run, however many processes send: pytest-xdist's workers share
their window of sent requests through one file, under a lock, instead of each keeping its own."""

from __future__ import annotations

import fcntl
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from contract_tests.target import Pacer


class SharedPacer(Pacer):
    """A :class:`Pacer` whose window is the file ``path``: every process of a run that names the same
    file keeps under the same ``calls`` per ``per_seconds`` together."""

    def __init__(
        self,
        calls: int,
        per_seconds: float,
        path: Path,
        clock: Callable[[], float] = time.time,  # shared by processes, unlike each one's monotonic start
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(calls, per_seconds, clock, sleep)
        self.path = path

    @classmethod
    def for_run(cls, pacer: Pacer, run_id: str) -> SharedPacer:
        """The shared form of ``pacer`` for the run ``run_id`` (its window file in the temp folder)."""
        return cls(pacer.calls, pacer.per_seconds, Path(tempfile.gettempdir()) / f"wacr-rate-{run_id}.json")

    def wait(self) -> float:
        waited = 0.0
        while True:
            with self.path.with_suffix(".lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                now = self.clock()
                sent = [t for t in self.read() if t > now - self.per_seconds]
                if len(sent) < self.calls:
                    self.path.write_text(json.dumps([*sent, now]))
                    return waited
                pause = sent[0] + self.per_seconds - now
            self.sleep(pause)
            waited += pause

    def read(self) -> list[float]:
        try:
            return sorted(json.loads(self.path.read_text()))
        except (OSError, ValueError):
            return []
