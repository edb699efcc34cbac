"""``wacr-mock`` / ``python -m mockserver``: run the mock on uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from mockserver.http import BODY_SECONDS, HEAD_SECONDS

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_TOKEN_LIMIT = 60


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wacr-contract")
    except PackageNotFoundError:
        return "unknown (not installed)"


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free port); anything else is refused with one line."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port number: ports run from 0 (any free one) to 65535"
        )
    return port


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 and at most 3600")
    return seconds


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wacr-mock", description="Stateful mock of the WA.cr APP API v2.")
    p.add_argument("--version", action="version", version=f"wacr-mock {package_version()}")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=port_number, default=8080, help="port to bind (default 8080; 0 picks a free one)"
    )
    p.add_argument("--spec", type=Path, default=None, help="openapi.yaml to serve (default: the project's)")
    p.add_argument("--seed", type=Path, action="append", default=[], help="YAML fixtures file; repeatable")
    p.add_argument("--state-file", type=Path, default=None, help="keep state in this file across restarts")
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        help="a browser origin allowed besides loopback pages (allowed on a loopback bind); repeatable; '*' for any",
    )
    p.add_argument(
        "--token-limit",
        type=positive_int,
        default=DEFAULT_TOKEN_LIMIT,
        metavar="N",
        help=f"requests per minute of the banner's tokens (default {DEFAULT_TOKEN_LIMIT}, as D11 gives every token)",
    )
    p.add_argument(
        "--public-url",
        default=None,
        help="origin for the links in answers, e.g. http://mock.example:8080 (default: the bound address)",
    )
    p.add_argument("--validate-responses", action="store_true", help="check every answer against the spec")
    p.add_argument(
        "--admin-secret",
        default=None,
        help="require X-Mock-Admin-Secret on /__mock__ calls (or set WACR_ADMIN_SECRET, which stays out of ps)",
    )
    p.add_argument("--no-control", action="store_true", help="turn the /__mock__ control API off")
    p.add_argument(
        "--mutant",
        "--fault",
        dest="mutant",
        default=None,
        help="serve a named bug, for testing test suites (see --list-mutants)",
    )
    p.add_argument(
        "--list-mutants",
        "--list-faults",
        dest="list_mutants",
        action="store_true",
        help="list the mutants and exit",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="answer as a legitimate variant (a variant or profile name, see --list-variants); repeatable",
    )
    p.add_argument("--list-variants", action="store_true", help="list the variants and profiles and exit")
    p.add_argument(
        "--head-timeout",
        type=positive_seconds,
        default=HEAD_SECONDS,
        metavar="SECONDS",
        help=f"close a connection that sends no complete request head within SECONDS of opening or of its last "
        f"answer (default {HEAD_SECONDS:g})",
    )
    p.add_argument(
        "--body-timeout",
        type=positive_seconds,
        default=BODY_SECONDS,
        metavar="SECONDS",
        help=f"answer 408 and close when a request body is still arriving after SECONDS (default {BODY_SECONDS:g})",
    )
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return p


def chosen_variants(args: argparse.Namespace):
    """The ``--variant`` names (each may also be a comma-separated list), resolved; ValueError when bad."""
    from mockserver.variants import resolve

    return resolve(name for value in args.variant for name in value.split(","))


def load_spec(path: Path | None):
    """The spec, or one line saying why it cannot be read."""
    import yaml

    from mockserver.spec import Spec

    if path is not None and not path.is_file():
        raise SystemExit(f"wacr-mock: --spec {path}: no such file")
    try:
        return Spec.load(path)
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise SystemExit(
            f"wacr-mock: --spec {path}: not an OpenAPI document the mock can read: {problem}"
        ) from None


def banner_token_seed(spec, limit: int) -> Path:
    """A seed file giving the banner's two tokens ``limit`` requests a minute (read again on every reset);
    it is removed when the process ends."""
    import atexit
    import json
    import tempfile

    from mockserver.seed import FULL_TOKEN, READONLY_TOKEN

    read_scopes = sorted(
        {scope for op in spec.operations.values() for scope in op.scopes if scope.endswith(":read")}
    )
    tokens = [(FULL_TOKEN, ["*"]), (READONLY_TOKEN, read_scopes)]
    seed = {
        "tenants": [
            {
                "id": 1,
                "tokens": [
                    {"token": t, "scopes": scopes, "rate_limit_per_minute": limit} for t, scopes in tokens
                ],
            }
        ]
    }
    handle, name = tempfile.mkstemp(prefix="wacr-token-limit-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(seed, out)
    atexit.register(Path(name).unlink, missing_ok=True)
    return Path(name)


def build(args: argparse.Namespace):
    from mockserver.asgi import MockApp
    from mockserver.core import ControlSettings, MockCore
    from mockserver.cors import CorsPolicy
    from mockserver.store import Database, StateFileRefused, StoreError

    for path in args.seed:
        if not path.is_file():
            raise SystemExit(f"wacr-mock: --seed {path}: no such file")
    if args.public_url:
        parts = urlsplit(args.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/") or parts.query:
            raise SystemExit(
                f"wacr-mock: --public-url {args.public_url}: give scheme://host[:port], e.g. http://mock.example:8080"
            )
    spec = load_spec(args.spec)
    fixtures = list(args.seed)
    if args.token_limit != DEFAULT_TOKEN_LIMIT:
        fixtures.insert(0, banner_token_seed(spec, args.token_limit))
    secret = args.admin_secret or os.environ.get("WACR_ADMIN_SECRET") or None
    if args.host not in LOOPBACK and not secret and not args.no_control:
        secret = secrets.token_urlsafe(16)
        print(f"wacr-mock: bound beyond loopback, so the control API needs X-Mock-Admin-Secret: {secret}")
    try:
        core = MockCore(
            spec,
            variants=chosen_variants(args),
            fixtures=fixtures,
            validate_responses=args.validate_responses,
            control=ControlSettings(
                enabled=not args.no_control,
                admin_secret=secret,
                hosts=frozenset(LOOPBACK) if args.host in LOOPBACK else None,
                origins=frozenset(origin for origin in args.cors_origin if origin != "*"),
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = f"a required key is missing: {exc}" if isinstance(exc, KeyError) else exc
        raise SystemExit(f"wacr-mock: a --seed file is not valid: {problem}") from None
    if args.mutant:
        from mockserver.mutants import apply_mutant

        try:
            apply_mutant(core, args.mutant)
        except ValueError as exc:
            raise SystemExit(f"wacr-mock: --mutant: {exc}") from None
    if args.state_file:
        folder = args.state_file.resolve().parent
        if not folder.is_dir():
            raise SystemExit(
                f"wacr-mock: --state-file {args.state_file}: the folder {folder} does not exist; create it first"
            )
        try:
            core.use_database(Database.open_file(args.state_file))
        except StateFileRefused as exc:
            raise SystemExit(f"wacr-mock: {exc}") from None
        except StoreError as exc:
            raise SystemExit(f"wacr-mock: --state-file {args.state_file} cannot be written ({exc})") from None
    cors = CorsPolicy(loopback=args.host in LOOPBACK, origins=frozenset(args.cors_origin))
    return MockApp(
        core, spec_path=args.spec, cors=cors, public_url=args.public_url, body_seconds=args.body_timeout
    )


def main(argv: list[str] | None = None) -> int:
    from mockserver.variants import listing

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["proxy"]:
        return proxy_main(argv[1:])
    args = parser().parse_args(argv)
    if args.list_variants:
        print("\n".join(listing()))
        return 0
    try:
        chosen_variants(args)
    except ValueError as exc:
        print(f"wacr-mock: --variant: {exc}", file=sys.stderr)
        return 2
    if args.list_mutants:
        from mockserver.mutants import MUTANTS

        for mutant in MUTANTS.values():
            print(f"{mutant.name:32} {mutant.area:15} {mutant.description}")
        return 0
    started = time.perf_counter()
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = build(args)

    def banner(base: str) -> str:
        return (
            f"wacr-mock ready in {time.perf_counter() - started:.2f}s\n"
            f"  API:   {base}/api/v2\n  Docs:  {base}/docs\n  Dashboard: {base}/__mock__/\n"
            f"  Token: wacr_test_full (all scopes), wacr_test_readonly (read scopes); "
            f"{args.token_limit} requests/min each (--token-limit N)\n"
            f"  CORS:  {app.cors.describe()}\n"
            f"  Try:   curl -H 'Authorization: Bearer wacr_test_full' {base}/api/v2/account"
        )

    serve(app, args, banner)
    return 0


def server_config(app, host: str, port: int, log_level: str, head_seconds: float = HEAD_SECONDS):
    """The uvicorn settings the mock runs with (``benchmarks/http_load.py`` serves its baseline with them too):
    uvicorn's HTTP protocol with a deadline on each request head (``mockserver/connections.py``)."""
    import uvicorn

    from mockserver.connections import with_head_deadline

    # A request waiting out an injected delay must not hold up Ctrl-C or SIGTERM for long.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=3,
        http=with_head_deadline(head_seconds),
    )


def serve(app, args: argparse.Namespace, banner) -> None:
    """Runs ``app`` on uvicorn and prints ``banner(base URL)`` once the port is bound."""
    import uvicorn

    config = server_config(app, args.host, args.port, args.log_level, args.head_timeout)

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            port = self.servers[0].sockets[0].getsockname()[1] if self.servers else args.port
            print(banner(f"http://{args.host}:{port}"), flush=True)

    AnnouncingServer(config).run()


def proxy_main(argv: list[str]) -> int:
    """``wacr-mock proxy --upstream URL [--level documented|all] [--fallback-to-mock] [wacr-mock options]``."""
    from mockserver.conformance import LEVELS
    from mockserver.proxy import ProxyApp

    own = argparse.ArgumentParser(
        prog="wacr-mock proxy",
        description="Validating proxy: every API call goes to --upstream unchanged, and both sides are "
        "checked against the spec; violations go in the journal and the dashboard (/__mock__/) and are "
        "counted when it stops.",
        epilog="Every wacr-mock option (--port, --host, --spec, --seed, --cors-origin, --log-level, ...) "
        "applies too; the mock behind --fallback-to-mock and the control API use them.",
    )
    own.add_argument(
        "--upstream", required=True, help="the server's API base URL, e.g. https://staging.example/api/v2"
    )
    own.add_argument(
        "--level", choices=LEVELS, default="all", help="judge documented rules only, or decided ones too"
    )
    own.add_argument(
        "--fallback-to-mock",
        action="store_true",
        help="answer from the stateful mock where the upstream answers 501, or a 404 the operation does not document",
    )
    proxy_args, rest = own.parse_known_args(argv)
    if not proxy_args.upstream.startswith(("http://", "https://")):
        own.error(f"--upstream {proxy_args.upstream!r} is not an http:// or https:// URL")
    args = parser().parse_args(rest)
    started = time.perf_counter()
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = ProxyApp(build(args), proxy_args.upstream, proxy_args.level, proxy_args.fallback_to_mock)

    def banner(base: str) -> str:
        fallback = "on (the mock answers what the upstream has not built)" if app.fallback else "off"
        return (
            f"wacr-mock proxy ready in {time.perf_counter() - started:.2f}s\n"
            f"  API:   {base}/api/v2 -> {app.upstream} (every call forwarded unchanged)\n"
            f"  Judged at level {app.level}; fallback to the mock {fallback}\n"
            f"  Dashboard: {base}/__mock__/ (violations in the journal)\n"
            f"  CORS:  {app.cors.describe()}"
        )

    serve(app, args, banner)
    return 0


if __name__ == "__main__":
    sys.exit(main())
