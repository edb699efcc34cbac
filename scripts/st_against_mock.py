"""Runs the plain schemathesis CLI on openapi.yaml against a fresh mock, with the repository's schemathesis.toml.

    python scripts/st_against_mock.py                      # the default mock
    python scripts/st_against_mock.py --variant laravel    # a legitimate variant or profile (repeatable)
    python scripts/st_against_mock.py --mutant error_without_success_flag   # a seeded bug: the run fails
    python scripts/st_against_mock.py --max-examples 25 --seed 1 -- --workers 2   # after --: more st options

The mock is started on a free 127.0.0.1 port (``contract_tests.in_process.start_server``) and stopped
afterwards. Its control API (D14) gives the run a full-scope token of the default tenant with a rate
limit no run reaches, so answers are not hidden behind 429s (D11's default of 60 a minute would turn
most of a run into 429s). The CLI reads the repository's ``schemathesis.toml`` (``--config-file``, the
file a plain ``st run`` in the repository finds) and runs in a temporary folder.
The exit status is the CLI's; the last line printed is a one-line summary.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contract_tests.in_process import start_server  # noqa: E402

# High enough that no run reaches it; the mock takes any positive integer (D14's rate_limit_per_minute).
RATE_LIMIT = 1_000_000
DEFAULT_TENANT = 1


def run_token(api_url: str) -> str:
    """A full-scope token with a rate limit no run reaches: the default tenant's if it exists, else a new tenant's."""
    control = api_url.removesuffix("/api/v2") + "/__mock__"
    body = {"scopes": ["*"], "rate_limit_per_minute": RATE_LIMIT}
    with httpx.Client(timeout=10) as client:
        answer = client.post(f"{control}/tenants/{DEFAULT_TENANT}/tokens", json=body)
        if answer.status_code == 404:
            answer = client.post(f"{control}/tenants", json=body)
        answer.raise_for_status()
        return answer.json()["token"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="start the mock as this variant or profile (repeatable; wacr-mock --list-variants)",
    )
    parser.add_argument(
        "--mutant", metavar="NAME", help="start the mock with this seeded bug (wacr-mock --list-mutants)"
    )
    parser.add_argument(
        "--max-examples", type=int, default=10, help="examples per operation and phase (default 10)"
    )
    parser.add_argument("--seed", type=int, default=1, help="schemathesis's random seed (default 1)")
    parser.add_argument("st_args", nargs="*", help="further options for `st run`, after --")
    args = parser.parse_args(argv)

    mock_args = [item for name in args.variant for item in ("--variant", name)]
    if args.mutant:
        mock_args += ["--mutant", args.mutant]
    label = " ".join(mock_args) or "default"
    started = time.monotonic()
    server = start_server(*mock_args)
    try:
        token = run_token(server.api_url)
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            server.api_url,
            "-H",
            f"Authorization: Bearer {token}",
            "--max-examples",
            str(args.max_examples),
            "--seed",
            str(args.seed),
            *args.st_args,
        ]
        # A folder of its own, so the CLI's crash cache (.schemathesis/) neither replays another run's
        # failures nor is shared by runs side by side.
        with tempfile.TemporaryDirectory(prefix="st-run-") as workdir:
            code = subprocess.run(command, cwd=workdir).returncode
    finally:
        server.stop()
    verdict = "no failure" if code == 0 else "FAILED"
    print(
        f"st_against_mock: mock {label}, --max-examples {args.max_examples} --seed {args.seed}: "
        f"{verdict} (st exit {code}) in {time.monotonic() - started:.1f}s",
        flush=True,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
