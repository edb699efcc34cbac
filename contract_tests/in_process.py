"""The default target: the project's mock, in this process.

This is the one module of the suite that imports ``mockserver``. Everything else
reaches the target over HTTP (an httpx transport here) and the D14 control calls.

``WACR_MOCK_VARIANTS`` (comma-separated variant or profile names, see
``wacr-mock --list-variants``) starts the in-process mock as one of the legitimate
variants. The meta run turns it into a mutant (``mutate``, from its own plugin).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import httpx


def _names(variable: str) -> list[str]:
    return [name.strip() for name in os.environ.get(variable, "").split(",") if name.strip()]


@lru_cache(maxsize=1)
def core():
    """The one in-process mock of this test session (shared by the target and schemathesis)."""
    from mockserver.core import MockCore

    variants = _names("WACR_MOCK_VARIANTS")
    if variants:
        from mockserver.variants import resolve

        return MockCore(variants=resolve(variants))
    return MockCore()


def transport() -> httpx.BaseTransport:
    from mockserver.transport import MockTransport

    return MockTransport(core())


def asgi_app():
    """The same mock as an ASGI app, for schemathesis."""
    from mockserver.asgi import MockApp

    return MockApp(core())


# --- for the meta run: the mock's catalogues, its mutants, and the mock as a real server ----------------------


def mutant_catalogue() -> dict[str, str]:
    """The mock's mutants (seeded bugs): name -> area."""
    from mockserver.mutants import MUTANTS

    return {mutant.name: mutant.area for mutant in MUTANTS.values()}


def mutate(name: str) -> None:
    """Turns this session's in-process mock into the named mutant (the meta run only)."""
    from mockserver.mutants import apply_mutant

    apply_mutant(core(), name)


def variant_catalogue() -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The mock's legitimate variants, and its profiles (name -> the variants it bundles)."""
    from mockserver.variants import PROFILES, VARIANTS

    return list(VARIANTS), {name: tuple(profile.variants) for name, profile in PROFILES.items()}


def variant_levels(name: str) -> tuple[str, ...]:
    """The ``--contract-level`` values at which the variant or profile ``name`` is a correct server."""
    from mockserver.variants import levels_of

    return levels_of([name])


@dataclass
class AnswerCount:
    """What this session's in-process mock answered: every API answer, and those with a 5xx status
    that nobody asked for (a crash of the mock, or a mutant that answers 500)."""

    answers: int = 0
    server_errors: int = 0


def count_answers() -> AnswerCount:
    """Starts counting the in-process mock's answers (the meta run only, through its plugin)."""
    from mockserver.steps import INJECTED_HEADER

    count = AnswerCount()

    def note(exchange, response) -> None:
        count.answers += 1
        if response.status >= 500 and INJECTED_HEADER not in response.headers:
            count.server_errors += 1

    core().after_dispatch.append(note)
    return count


@dataclass
class Server:
    """One ``python -m mockserver`` process on 127.0.0.1, ready to answer."""

    process: subprocess.Popen
    api_url: str

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen) -> None:
    """Ends a server process: SIGTERM, and SIGKILL if it has not gone within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


API_LINE = re.compile(r"API:\s+(http://\S+/api/v2)")


def start_server(*args: str, timeout: float = 30.0) -> Server:
    """Starts the mock with CLI ``args`` on a free loopback port and waits for its banner."""
    command = [
        sys.executable,
        "-m",
        "mockserver",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-level",
        "warning",
        *args,
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    found: list[str] = []
    seen: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            match = API_LINE.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(timeout) or not found:
        Server(process, "").stop()
        raise RuntimeError(f"the mock did not start ({' '.join(args)}): {''.join(seen)[-2000:]}")
    return Server(process, found[0])


# As against a live server: the tokens a team passes, with a limit the run never reaches.
LIVE_SEED = """tenants:
  - id: 1
    limits: {contacts: -1, conversations: -1}  # a run makes more contacts than a plan's 1000
    tokens:
      - {token: live_full, scopes: ["*"], rate_limit_per_minute: 1000000}
      - {token: live_none, scopes: [], rate_limit_per_minute: 1000000}
"""
LIVE_OPTIONS = ["--token", "live_full", "--limited-token", "live_none", "--allow-send"]


@contextmanager
def live_like_server(*args: str) -> Iterator[str]:
    """A fresh ``wacr-mock --no-control`` on loopback seeded with LIVE_SEED's tokens (and CLI ``args``, such as
    ``--mutant NAME``), as a live server is to a team: no control API, one tenant; yields its API URL."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as seed:
        seed.write(LIVE_SEED)
        seed.flush()
        server = start_server("--no-control", "--seed", seed.name, *args)
        try:
            yield server.api_url
        finally:
            server.stop()
