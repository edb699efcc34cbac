"""``wacr-contract``: run the contract suite against a server, for people who need not know pytest.

    wacr-contract https://staging.example/api/v2 --token "$TOKEN" --smoke --report out/
    wacr-contract                    # against the project's mock, in process
    wacr-contract URL -- -k pagination -x   # anything after -- goes to pytest as it is
    wacr-contract st URL -H "Authorization: Bearer $TOKEN" --max-examples 25   # the plain schemathesis CLI
    wacr-contract replay out/report.json 1 --base-url URL   # send a reported failure's requests again

Exit status: 0 every check that ran passed; 1 a check failed; 4 the target is unreachable or answers
like no WA.cr server; 5 the run judged too little (no check ran, most checks skipped, or an operation
no check called; --allow-skips accepts the last two).
``replay`` exits 1 when the recorded failure happened again, 0 when it did not, 2 when it cannot replay.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from importlib import resources
from pathlib import Path

import pytest


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wacr-contract",
        description="Judge a WA.cr API v2 implementation by URL.",
        epilog="Anything after -- is passed to pytest unchanged. "
        "`wacr-contract st URL [options]` runs `st run` on the packaged spec with the packaged schemathesis.toml. "
        "`wacr-contract replay REPORT ID [--base-url URL] [--token T]` sends a reported failure's requests "
        "again and says whether it reproduced (exit 1) or not (exit 0).",
    )
    p.add_argument("base_url", nargs="?", help="the target, including /api/v2 (default: the in-process mock)")
    p.add_argument("--token", help="full-scope token, for a target without the control API")
    p.add_argument(
        "--limited-token", help="a valid token with no scopes, for the 403 checks on such a target"
    )
    p.add_argument(
        "--level",
        choices=("documented", "all"),
        help="documented: only what the published docs say; all (default; documented under --smoke): "
        "the decisions too",
    )
    p.add_argument("--rate-limit", metavar="N/m", help="keep under N requests a minute, e.g. 60/m")
    p.add_argument("--report", metavar="DIR", help="write the HTML and JSON conformance report to DIR")
    p.add_argument("--allow-send", action="store_true", help="send WhatsApp messages through a live server")
    p.add_argument("--no-send", action="store_true", help="never send a WhatsApp message")
    p.add_argument("--junitxml", metavar="FILE", help="also write JUnit XML, for CI")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="the smoke selection: the checks that catch the most seeded bugs per request, every operation "
        "reached, one example each, at most 600 requests (--level documented unless given)",
    )
    p.add_argument(
        "--otp-template",
        metavar="NAME",
        help="an APPROVED AUTHENTICATION template, for a target without control",
    )
    p.add_argument(
        "--allow-skips",
        action="store_true",
        help="accept a run in which most checks skipped or some operation was never called (else exit 5)",
    )
    p.add_argument(
        "--answer-timeout",
        metavar="SECONDS",
        help="give up on an answer not complete within SECONDS in total (default 30)",
    )
    return p


def pytest_args(args: argparse.Namespace, extra: list[str]) -> list[str]:
    out = ["--pyargs", "contract_tests", "-p", "no:cacheprovider"]
    for flag, value in (
        ("--contract-level", args.level),
        ("--base-url", args.base_url),
        ("--token", args.token),
        ("--limited-token", args.limited_token),
        ("--rate-limit", args.rate_limit),
        ("--wacr-report", args.report),
        ("--junitxml", args.junitxml),
        ("--otp-template", args.otp_template),
        ("--answer-timeout", args.answer_timeout),
    ):
        if value:
            out += [flag, value]
    for flag in ("allow_send", "no_send", "smoke", "allow_skips"):
        if getattr(args, flag):
            out.append("--" + flag.replace("_", "-"))
    return out + extra


def run_schemathesis(args: list[str]) -> int:
    """``wacr-contract st URL [st run options]``: ``st run`` on the packaged spec, with the packaged
    schemathesis.toml (the statuses a correct server may give), from any folder."""
    if not args or args[0].startswith("-"):
        print("usage: wacr-contract st URL [st run options], URL including /api/v2", file=sys.stderr)
        return 2
    from schemathesis.cli import schemathesis as st

    package = resources.files("contract_tests")
    with (
        resources.as_file(package / "schemathesis.toml") as config,
        resources.as_file(package / "openapi.yaml") as spec,
    ):
        command = ["--config-file", str(config), "run", str(spec), "--url", args[0], *args[1:]]
        try:
            st.main(command, prog_name="wacr-contract st")
        except SystemExit as exit_:
            return int(exit_.code or 0)
    return 0


def replay_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wacr-contract replay",
        description="Send a failed check's requests again, as the report recorded them, and judge the answers.",
        epilog="Exit status: 1 the recorded failure happened again; 0 it did not; 2 it cannot be replayed.",
    )
    p.add_argument("report", help="the report's report.json, or the folder holding it (--report DIR)")
    p.add_argument("id", help="the failure's number in the report, or the check's pytest node id")
    p.add_argument(
        "--base-url",
        default=os.environ.get("WACR_BASE_URL"),
        help="the target, including /api/v2 (default: WACR_BASE_URL, else the report's target)",
    )
    p.add_argument(
        "--token", default=os.environ.get("WACR_TOKEN"), help="for $WACR_TOKEN (default: WACR_TOKEN)"
    )
    p.add_argument(
        "--limited-token",
        default=os.environ.get("WACR_LIMITED_TOKEN"),
        help="for $WACR_LIMITED_TOKEN (default: WACR_LIMITED_TOKEN)",
    )
    return p


def run_replay(argv: list[str]) -> int:
    from contract_tests import replay

    args = replay_parser().parse_args(argv)
    try:
        check = replay.load_failure(Path(args.report), args.id)
        base_url = args.base_url or check["target"]
        if not base_url.startswith(("http://", "https://")) or "wacr-mock.test" in base_url:
            raise replay.ReplayError(
                "the report's target was the in-process mock: start wacr-mock and pass its --base-url"
            )
        tokens = {"WACR_TOKEN": args.token or "", "WACR_LIMITED_TOKEN": args.limited_token or ""}
        return replay.replay(check, base_url, tokens)
    except replay.ReplayError as exc:
        print(f"wacr-contract replay: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["st"]:
        return run_schemathesis(argv[1:])
    if argv[:1] == ["replay"]:
        return run_replay(argv[1:])
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    # A CI job's timeout sends SIGTERM: end as on Ctrl-C, so the reports of what ran are written.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return int(pytest.main(pytest_args(parser().parse_args(own), extra)))


if __name__ == "__main__":
    sys.exit(main())
