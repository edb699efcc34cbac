"""pytest plugin of the contract suite: target selection, provenance levels, fixtures, summary.

Registered by the package's ``pytest11`` entry point (``contract_tests.entry``). Options:

--base-url URL          a live implementation, URL including /api/v2 (or WACR_BASE_URL);
                        default: the project's mock, in process
--token TOKEN           full-scope token, for targets without the control API
--limited-token TOKEN   a valid token with no scopes, for the 403 checks on such targets
--otp-template NAME     an APPROVED AUTHENTICATION template, for targets without control
--contract-level LEVEL  documented: only checks resting on the docs; all (default): decisions too
--allow-send            let checks send WhatsApp messages through a live server without control
--no-send               never send, whatever the target

A target that answers the control API (D14) is a simulation: nothing it is sent
reaches WhatsApp, so checks that send run there by default.
"""

from __future__ import annotations

import contextlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings

from contract_tests import contract, gate, in_process, progress, replay, report, smoke
from contract_tests.journal import Journal
from contract_tests.pacing import SharedPacer
from contract_tests.target import (
    ANSWER_SECONDS,
    MAX_ANSWER_BYTES,
    AnswerOutOfBounds,
    Api,
    Control,
    NotWacr,
    Pacer,
    Target,
    TenantHandle,
    Traffic,
    bounded_client,
)

IN_PROCESS_URL = "http://wacr-mock.test/api/v2"
CHECKS_COLLECTED = pytest.StashKey[int]()


SUITE_DIR = Path(__file__).resolve().parent


def is_contract_check(item: pytest.Item) -> bool:
    """Whether ``item`` is one of this suite's checks (wherever the run started, and whatever its rootdir)."""
    return Path(item.path).resolve().parent == SUITE_DIR


PROVENANCE_MARKERS = ("documented", "assumed")

# The checks' idiom: a test takes its fixtures (a tenant, its records, a token) once and runs an inner
# ``@given def check(...)`` over many examples against them, then calls ``check()``. Putting ``@given`` on the
# test itself would rebuild function-scoped fixtures for no example (Hypothesis warns about exactly that), or
# share one fixture value across examples silently; the inner function makes the sharing explicit.
settings.register_profile(
    "ci",
    max_examples=20,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "smoke",  # one example per property: with --smoke, every documented check in about 500 requests
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def runs_contract_suite(config: pytest.Config) -> bool:
    """Whether this pytest run includes the contract suite (the plugin is installed for every run)."""
    return any("contract_tests" in str(arg) for arg in config.args)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wacr", "WA.cr contract suite")
    # pytest-base-url defines the same option, with the same destination: then theirs is used.
    with contextlib.suppress(ValueError):
        group.addoption(
            "--base-url",
            default=os.environ.get("WACR_BASE_URL"),
            help="implementation under test, including /api/v2 (default: the in-process mock)",
        )
    group.addoption(
        "--token",
        default=os.environ.get("WACR_TOKEN"),
        help="full-scope token for a target without the control API",
    )
    group.addoption(
        "--limited-token",
        default=os.environ.get("WACR_LIMITED_TOKEN"),
        help="a valid token with no scopes, for the 403 checks on a target without control",
    )
    group.addoption(
        "--otp-template",
        default=os.environ.get("WACR_OTP_TEMPLATE"),
        help="an APPROVED AUTHENTICATION template name, for a target without control",
    )
    group.addoption(
        "--contract-level",
        choices=("documented", "all"),
        default=None,
        help="documented: run only the checks that rest on the published docs; all (default; "
        "documented under --smoke): decisions too",
    )
    group.addoption(
        "--allow-send",
        action="store_true",
        help="allow checks that send WhatsApp messages through a live server without the control API"
        " (a target that answers the control API is a simulation, and is sent to by default)",
    )
    group.addoption(
        "--rate-limit",
        default=os.environ.get("WACR_RATE_LIMIT"),
        metavar="N/m",
        help="keep under N requests a minute (or N/s, N/h), e.g. 60/m for a live server's default limit",
    )
    group.addoption(
        "--wacr-report",
        default=os.environ.get("WACR_REPORT"),
        metavar="DIR",
        help="write a conformance report (index.html, report.json) to DIR",
    )
    group.addoption(
        "--smoke",
        action="store_true",
        help="the smoke selection (smoke-selection.json: the checks that catch the most seeded bugs per "
        "request, every operation reached), one example each, at --contract-level documented unless "
        "given: at most 600 requests, under 10 minutes at a live server's 60 a minute",
    )
    group.addoption(
        "--answer-timeout",
        type=float,
        default=float(os.environ.get("WACR_ANSWER_TIMEOUT") or ANSWER_SECONDS),
        metavar="SECONDS",
        help=f"give up on an answer not complete within SECONDS in total (default {ANSWER_SECONDS:g}); "
        f"answers are also cut off past {MAX_ANSWER_BYTES // 2**20} MiB",
    )
    group.addoption(
        "--allow-skips",
        action="store_true",
        help="accept a run in which most checks skipped or some operation was never called "
        "(by default such a run of the whole suite exits 5, naming what is missing)",
    )
    group.addoption(
        "--no-send",
        action="store_true",
        help="never run a check that sends a WhatsApp message, whatever the target",
    )


_CONFIG: list[pytest.Config] = []


def current_config() -> pytest.Config:
    """The running session's config, for modules that build their tests at import (schemathesis)."""
    return _CONFIG[-1]


MARKERS = (
    "documented: the check rests only on the published docs",
    "assumed: the check rests on a decision in docs/decisions.md (deselected by --contract-level documented)",
    "needs_control: the check needs the mock control API (D14)",
    "slow: the check waits in real time",
    "operation(id, ...): operations a check exercises (for the summary)",
    "sends: the check sends WhatsApp messages (a live server without control needs --allow-send)",
    "rate_limits: the check exhausts rate limits on purpose",
)


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG.append(config)
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if config.getoption("--contract-level") is None:  # --smoke defaults to the docs, any other run to all
        config.option.contract_level = "documented" if config.getoption("--smoke") else "all"
    if runs_contract_suite(config):
        count_schemathesis_calls()
    if config.getoption("--smoke"):
        settings.load_profile("smoke")
    # The suite's own Hypothesis profile, unless the user chose one; other projects' runs keep theirs.
    elif runs_contract_suite(config) and not config.getoption("hypothesis_profile", None):
        settings.load_profile(hypothesis_profile(config))


def hypothesis_profile(config: pytest.Config) -> str:
    """The Hypothesis profile the run uses: --smoke's, the user's, or the suite's default."""
    if config.getoption("--smoke"):
        return "smoke"
    return config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE", "ci")


_SCHEMATHESIS_COUNTED: list[bool] = []


def count_schemathesis_calls() -> None:
    """Schemathesis sends its own requests (not through ``Target``): a global hook counts them in the run's
    traffic and in the running check's, so request counts and budgets include the schema checks."""
    if _SCHEMATHESIS_COUNTED:
        return
    _SCHEMATHESIS_COUNTED.append(True)
    import schemathesis  # here, not at the top: only runs of the contract suite pay for the import

    @schemathesis.hook("after_call")
    def count(context, case, response) -> None:
        if not _CONFIG:
            return
        config = _CONFIG[-1]
        config.stash.setdefault(TRAFFIC, Traffic()).requests += 1
        trace = config.stash.setdefault(TRACE, CheckTrace())
        trace.requests += 1
        operation_id = contract.operation_for(case.method, case.formatted_path)
        if operation_id is not None:
            trace.operations.add(operation_id)


def target_problem(base_url: str, seconds: float = ANSWER_SECONDS) -> str | None:
    """Why ``base_url`` is not a WA.cr API v2 target the suite can judge, or None.

    Any WA.cr server refuses ``GET /account`` without a token with a JSON object carrying
    ``"success": false`` (the documented 401); a wrong host, port or path answers nothing or something
    else, and a server that says ``success`` to a request without a token is no WA.cr server either.
    """
    url = base_url.rstrip("/") + "/account"
    try:
        with bounded_client(seconds=seconds) as client:
            response = client.get(url)
    except AnswerOutOfBounds as exc:
        return f"--base-url {base_url} does not answer like the WA.cr API v2: {exc}"
    except httpx.HTTPError as exc:
        return (
            f"cannot reach --base-url {base_url}: {type(exc).__name__}: {exc}. Is the server running there?"
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("success") is False:
        return None
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    if isinstance(body, dict) and body.get("success") is True:
        return (
            f"--base-url {base_url} does not answer like the WA.cr API v2: GET {url} without a token gave "
            f'HTTP {response.status_code} with `"success": true`; a WA.cr server refuses a request without '
            "a token (401)"
        )
    return (
        f"--base-url {base_url} does not answer like the WA.cr API v2: GET {url} without a token gave "
        f"HTTP {response.status_code} ({kind}), not a JSON answer with `success`. "
        "The base URL must include /api/v2, e.g. https://app.example/api/v2"
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    pacer_of(config)  # a malformed --rate-limit stops the run here, with its message
    base_url = config.getoption("--base-url")
    if base_url and not hasattr(config, "workerinput") and not config.option.collectonly:
        problem = target_problem(base_url, config.getoption("--answer-timeout"))
        if problem:
            raise pytest.UsageError(problem)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    level = config.getoption("--contract-level")
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        if not is_contract_check(item):
            kept.append(item)
            continue
        marks = [m for m in PROVENANCE_MARKERS if item.get_closest_marker(m)]
        if len(marks) != 1:
            raise pytest.UsageError(
                f"{item.nodeid}: a contract check needs exactly one of @documented / @assumed"
            )
        (dropped if level == "documented" and marks[0] == "assumed" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    if config.getoption("--smoke"):
        keep_smoke_selection(config, items, level)
    config.stash[CHECKS_COLLECTED] = sum(is_contract_check(item) for item in items)


def keep_smoke_selection(config: pytest.Config, items: list[pytest.Item], level: str) -> None:
    """--smoke: only the checks of the smoke selection for ``level`` (``smoke-selection.json``)."""
    wanted = smoke.chosen(level)
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    found: set[str] = set()
    for item in items:
        check = smoke.check_id(smoke.node_id(item))
        found.add(check)
        (kept if check in wanted or not is_contract_check(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # The real-time check last: a run stopped at its first failure (-x) has not waited for it.
    items[:] = sorted(kept, key=lambda item: item.get_closest_marker("slow") is not None)
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None or hasattr(config, "workerinput"):
        return
    terminal.write_line(
        f"WA.cr contract: --smoke runs the smoke selection at level {level}: "
        f"{len(kept)} checks, {len(dropped)} others deselected (one example each)"
    )
    # Of the modules collected (a run may name some only): chosen checks that are gone (renamed or removed).
    modules = {check.split("::")[0] for check in found}
    missing = sorted(check for check in wanted - found if check.split("::")[0] in modules)
    if missing and not config.getoption("keyword") and not config.getoption("markexpr"):
        terminal.write_line(
            f"WA.cr contract: {len(missing)} checks of the smoke selection are no longer in the suite (renamed "
            f"or removed: run python -m contract_tests.smoke_selection measure): {', '.join(missing)}",
            yellow=True,
        )


PROGRESS = pytest.StashKey[progress.Progress]()


def pytest_collection_finish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        announce(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """pytest-xdist: the controller collects nothing itself. The first worker's collection tells it the checks,
    for the estimate, the progress lines and the closing verdict."""
    config = node.config
    if CHECKS_COLLECTED in config.stash:
        return
    config.stash[CHECKS_COLLECTED] = sum(
        (config.rootpath / nodeid.split("::")[0]).resolve().parent == SUITE_DIR for nodeid in ids
    )
    announce(config)


def announce(config: pytest.Config) -> None:
    """Before the first check: what the run will cost, in requests and, at --rate-limit, minutes."""
    checks = config.stash.get(CHECKS_COLLECTED, 0)
    if not checks or config.option.collectonly:
        return
    profile = hypothesis_profile(config)
    per_check = progress.requests_per_check(profile, settings().max_examples)
    pacer = pacer_of(config)
    per_minute = pacer.calls * 60 / pacer.per_seconds if pacer else None
    # WACR_PROGRESS_SECONDS: how often the progress line comes (default 30 s).
    every = float(os.environ.get("WACR_PROGRESS_SECONDS") or progress.EVERY_SECONDS)
    config.stash[PROGRESS] = progress.Progress(checks, per_check, per_minute, every)
    writer = config.pluginmanager.get_plugin("terminalreporter")
    if writer is not None:
        writer.write_line(progress.estimate_line(checks, per_check, per_minute))


# --- target ---------------------------------------------------------------------------------


TRAFFIC = pytest.StashKey[Traffic]()


def pacer_of(config: pytest.Config) -> Pacer | None:
    """The run's --rate-limit; in a pytest-xdist worker, one window shared by every worker of the run."""
    text = config.getoption("--rate-limit")
    if not text:
        return None
    try:
        pacer = Pacer.parse(text)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    worker = getattr(config, "workerinput", None)
    return SharedPacer.for_run(pacer, worker["testrunuid"]) if worker else pacer


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    base_url = config.getoption("--base-url")
    if base_url:
        live = Target(
            base_url.rstrip("/"),
            honour_retry_after=True,
            pacer=pacer_of(config),
            answer_seconds=config.getoption("--answer-timeout"),
        )
    else:
        live = Target(IN_PROCESS_URL, transport=in_process.transport())
    live.traffic = config.stash.setdefault(TRAFFIC, Traffic())
    live.on_request = _recorder(config)
    live.journal = config.stash.setdefault(JOURNAL, Journal())
    yield live
    live.close()


CONTROL_AVAILABLE = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def control(request: pytest.FixtureRequest, target: Target) -> Control | None:
    available = Control.available(target)
    request.config.stash[CONTROL_AVAILABLE] = available
    return Control(target) if available else None


def send_refusal(config: pytest.Config, control_available: bool) -> str | None:
    """Why a check that sends a WhatsApp message may not run here, or None when it may.

    Against a target with the control API nothing reaches WhatsApp; a live server without it
    needs --allow-send; --no-send forbids sending everywhere.
    """
    if config.getoption("--no-send"):
        return "sends a WhatsApp message, and --no-send forbids it"
    if control_available or not config.getoption("--base-url") or config.getoption("--allow-send"):
        return None
    return "sends a WhatsApp message through a live server without the control API: pass --allow-send"


@pytest.fixture
def needs_control(control: Control | None) -> Control:
    if control is None:
        pytest.skip("needs the mock control API (GET /__mock__/health answered no 200); run against the mock")
    return control


def new_tenant(request: pytest.FixtureRequest, control: Control | None) -> TenantHandle:
    """A fresh tenant when the target has control; else the --token tenant (or a skip saying so)."""
    if control is not None:
        # A roomy per-token limit: only the rate-limit checks exhaust limits, on their own tokens.
        return control.new_tenant(rate_limit_per_minute=100_000_000)
    token = request.config.getoption("--token")
    if not token:
        pytest.skip("needs --token (a full-scope token) on a target without the control API")
    return TenantHandle(token)


@pytest.fixture
def tenant(request: pytest.FixtureRequest, control: Control | None) -> TenantHandle:
    """A fresh tenant per check when the target has control; else the --token tenant."""
    return new_tenant(request, control)


@pytest.fixture
def api(target: Target, tenant: TenantHandle) -> Api:
    return Api(target, tenant.token)


@pytest.fixture
def token_without(request: pytest.FixtureRequest, control: Control | None, tenant: TenantHandle):
    """``token_without(scope)``: a token of the same tenant lacking ``scope``."""

    def make(scope: str) -> str:
        if control is not None and tenant.tenant_id is not None:
            return control.new_token(tenant.tenant_id, [s for s in contract.all_scopes() if s != scope])
        limited = request.config.getoption("--limited-token")
        if not limited:
            pytest.skip(
                "needs --limited-token (a valid token with no scopes) on a target without the control API"
            )
        return limited

    return make


@pytest.fixture(autouse=True)
def _send_guard(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("sends") is None:
        return
    refusal = send_refusal(request.config, request.getfixturevalue("control") is not None)
    if refusal:
        pytest.skip(refusal)


# --- summary and report --------------------------------------------------------------------------


@dataclass
class CheckTrace:
    """What the running check touched: the operations it reached and its last answer."""

    operations: set[str] = field(default_factory=set)
    last: httpx.Response | None = None
    last_operation: str | None = None  # the operation of ``last``: where a failing check's assertion looked
    requests: int = 0


TRACE = pytest.StashKey[CheckTrace]()
JOURNAL = pytest.StashKey[Journal]()
STATS = pytest.StashKey[dict[str, list[int]]]()  # operationId -> [checks run, failed]
RESULTS = pytest.StashKey[list[report.CheckResult]]()


def _recorder(config: pytest.Config) -> Callable[[str, str, httpx.Response], None]:
    def record(method: str, path: str, response: httpx.Response) -> None:
        trace = config.stash.setdefault(TRACE, CheckTrace())
        trace.last = response
        trace.requests += 1
        operation_id = contract.operation_for(method, path)
        trace.last_operation = operation_id
        if operation_id is not None:
            trace.operations.add(operation_id)

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    item.config.stash[TRACE] = CheckTrace()
    if JOURNAL in item.config.stash:
        item.config.stash[JOURNAL].clear()
    yield


def run_base_url(config: pytest.Config) -> str:
    return (config.getoption("--base-url") or IN_PROCESS_URL).rstrip("/")


def run_tokens(config: pytest.Config) -> dict[str, str]:
    """The run's own tokens and the variables that stand for them in a report."""
    return {
        config.getoption("--token") or "": "WACR_TOKEN",
        config.getoption("--limited-token") or "": "WACR_LIMITED_TOKEN",
    }


def tier_of_item(item: pytest.Item) -> str:
    return "documented" if item.get_closest_marker("documented") else "decided"


def check_result(item: pytest.Item, report_: pytest.TestReport, trace: CheckTrace) -> report.CheckResult:
    """The report's view of one check, built where the check ran (an xdist worker, maybe)."""
    # The operations a check is about (its markers); else those it reached. Calls that only make
    # fixtures (a createContact before a list check) would otherwise paint unrelated cells.
    operations = {op for marker in item.iter_markers("operation") for op in marker.args} or set(
        trace.operations
    )
    module = item.path.stem.removeprefix("test_")
    function = getattr(item, "originalname", item.name).removeprefix("test_").replace("_", " ")
    tier = tier_of_item(item)
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    provenance = {
        op_id: str(op.raw.get("x-provenance", "")) for op_id, op in contract.spec().operations.items()
    }
    rule, where = report.rule_and_provenance(doc, tier, sorted(operations), provenance)
    outcome = "failed" if report_.failed else "skipped" if report_.skipped else "passed"
    result = report.CheckResult(
        smoke.node_id(item),
        function,
        module,
        sorted(operations),
        tier,
        outcome,
        rule,
        where,
        reached=sorted(operations | trace.operations),
        requests=trace.requests,
    )
    if report_.failed:
        crash = getattr(report_.longrepr, "reprcrash", None)
        result.message = str(crash.message if crash is not None else report_.longrepr)[:3000]
        if trace.last is not None:
            placeholder = None if item.config.stash.get(CONTROL_AVAILABLE, True) else "$WACR_TOKEN"
            result.exchange = report.exchange_of(trace.last, placeholder)
        # The verdict falls on the operation whose answer the failing assertion read, not on every one reached.
        if trace.last_operation is not None and trace.last_operation in operations:
            result.failed_operations = [trace.last_operation]
        journal = item.config.stash.get(JOURNAL, None)
        if journal is not None and journal.steps:
            result.steps, result.script = replay.failure_record(
                journal, run_base_url(item.config), run_tokens(item.config)
            )
    elif report_.skipped and isinstance(report_.longrepr, tuple):
        result.message = str(report_.longrepr[2])
    return result


@pytest.hookimpl(wrapper=True)  # a new-style wrapper may stop the run (pytest.exit) after the report is made
def pytest_runtest_makereport(item: pytest.Item, call):
    report_ = yield
    if not is_contract_check(item):
        return report_
    if call.excinfo is not None and call.excinfo.errisinstance(NotWacr):
        item.config.stash[STOP_REASON] = str(call.excinfo.value)
        pytest.exit(str(call.excinfo.value), returncode=pytest.ExitCode.USAGE_ERROR)
    if report_.when == "call" or (report_.when == "setup" and (report_.skipped or report_.failed)):
        trace = item.config.stash.get(TRACE, CheckTrace())
        try:
            result = check_result(item, report_, trace)
        except Exception as exc:  # whatever the target answered, the run goes on and says so
            result = report.CheckResult(
                item.nodeid,
                item.name,
                item.path.stem,
                [],
                tier_of_item(item),
                "failed" if report_.failed else "skipped",
                message=f"{report_.longreprtext[:3000]}\n(the report could not describe this check: {exc!r})",
            )
        # Travels with the report, so pytest-xdist workers' checks reach the controller too.
        report_.user_properties.append(("wacr_check", asdict(result)))
    return report_


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _CONFIG:
        return
    config = _CONFIG[-1]
    for name, value in report.user_properties:
        if name != "wacr_check":
            continue
        result = value if isinstance(value, dict) else {}
        config.stash.setdefault(RESULTS, []).append(result_from(result))
        report_as_it_goes(config)
        if result.get("outcome") == "skipped":
            continue
        stats = config.stash.setdefault(STATS, defaultdict(lambda: [0, 0]))
        for operation_id in result.get("reached", ()):
            stats[operation_id][0] += 1
            blamed = result.get("failed_operations") or result.get("reached", ())
            stats[operation_id][1] += int(result.get("outcome") == "failed" and operation_id in blamed)


def report_as_it_goes(config: pytest.Config) -> None:
    """Progress lines, and the reports rewritten every few seconds: a killed job still has what ran."""
    tracker = config.stash.get(PROGRESS, None)
    if tracker is None:
        return
    results = config.stash.get(RESULTS, [])
    writer = config.pluginmanager.get_plugin("terminalreporter")
    if writer is not None and tracker.due():
        # Under pytest-xdist the controller sends nothing itself: its checks' own counts come from the workers.
        sent = max(config.stash.get(TRAFFIC, Traffic()).requests, sum(r.requests for r in results))
        writer.write_line(tracker.line(len(results), sent))
        writer.flush()  # to a CI log (a file or pipe) now, not when the buffer fills
    if not tracker.report_due():
        return
    if config.getoption("--wacr-report"):
        write_report(config, Path(config.getoption("--wacr-report")))
    if getattr(config.option, "xmlpath", None):
        report.write_junit(Path(config.option.xmlpath), results)


def result_from(data: dict) -> report.CheckResult:
    exchange = data.get("exchange")
    fields = {**data, "exchange": report.Exchange(**exchange) if exchange else None}
    return report.CheckResult(**fields)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: a worker's traffic joins the controller's closing line."""
    traffic = getattr(node, "workeroutput", {}).get("wacr_traffic")
    if traffic:
        node.config.stash.setdefault(TRAFFIC, Traffic()).add(traffic)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workeroutput"):
        traffic = config.stash.get(TRAFFIC, Traffic())
        config.workeroutput["wacr_traffic"] = vars(traffic).copy()
    if hasattr(config, "workerinput"):
        return
    directory = config.getoption("--wacr-report")
    if directory and config.stash.get(RESULTS, None):
        write_report(config, Path(directory))
    if config.stash.get(CHECKS_COLLECTED, 0):
        verdict = gate.judge(
            session.exitstatus,
            config.stash.get(RESULTS, []),
            list(contract.spec().operations),
            whole_suite=runs_whole_suite(config),
            allow_skips=config.getoption("--allow-skips"),
            stop_reason=config.stash.get(STOP_REASON, None),
        )
        session.exitstatus = verdict.exit_status
        config.stash[VERDICT] = verdict


VERDICT = pytest.StashKey[gate.Verdict]()
STOP_REASON = pytest.StashKey[str]()


def runs_whole_suite(config: pytest.Config) -> bool:
    """Whether the run took the whole suite: no -k or -m, and no single module or check named."""
    if config.option.keyword or config.option.markexpr or config.option.deselect:
        return False
    return not any("test_" in str(arg) or "::" in str(arg) for arg in config.args)


def write_report(config: pytest.Config, directory: Path) -> None:
    results = config.stash[RESULTS]
    facts = {
        "target": config.getoption("--base-url")
        or f"the in-process mock ({IN_PROCESS_URL}: to replay a curl "
        "command, start wacr-mock and use its address)",
        "contract level": config.getoption("--contract-level"),
        "written": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    page = report.write(
        directory, results, list(contract.spec().operations), "WA.cr API v2 conformance", facts
    )
    config.stash[REPORT_PAGE] = page


REPORT_PAGE = pytest.StashKey[Path]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    traffic = config.stash.get(TRAFFIC, None)
    # Not in a run that judged no target (the mock's own tests, say): only where checks were collected or sent.
    if traffic is not None and (traffic.requests or config.stash.get(CHECKS_COLLECTED, 0)):
        waited = traffic.paced_seconds + traffic.retry_seconds
        terminalreporter.write_line(
            f"WA.cr contract: {traffic.requests:,} requests sent; {waited:.0f} s waited "
            f"({traffic.paced_seconds:.0f} s pacing under --rate-limit, {traffic.retry_seconds:.0f} s on 429 Retry-After)"
        )
    page = config.stash.get(REPORT_PAGE, None)
    if page is not None:
        terminalreporter.write_line(f"WA.cr contract: report written to {page} (and report.json beside it)")
    stats = config.stash.get(STATS, None)
    if stats:
        terminalreporter.section("WA.cr contract: checks per operation")
        width = max(len(op) for op in stats)
        for operation_id in sorted(stats):
            run, failed = stats[operation_id]
            flag = "FAILED" if failed else "ok"
            terminalreporter.write_line(
                f"{operation_id:<{width}}  {run:5d} checks  {failed:4d} failed  {flag}"
            )
    results = config.stash.get(RESULTS, [])
    reasons = gate.skip_reasons(results)
    if reasons:
        skipped = sum(reason.count for reason in reasons)
        terminalreporter.section(f"WA.cr contract: {skipped} checks skipped, and why")
        for line in gate.skip_lines(reasons):
            terminalreporter.write_line(line)
    verdict = config.stash.get(VERDICT, None)
    if verdict is not None:
        terminalreporter.write_line(
            f"WA.cr contract: {verdict.line}", red=verdict.exit_status != 0, bold=True
        )
