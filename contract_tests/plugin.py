"""pytest plugin of the contract suite: target selection, provenance levels, fixtures, summary.

Loaded by the repository's root ``conftest.py``. Options:

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

import os
from collections import defaultdict
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings

from contract_tests import contract, in_process
from contract_tests.target import Control, Pacer, Target, TenantHandle, Traffic

IN_PROCESS_URL = "http://wacr-mock.test/api/v2"
CHECKS_COLLECTED = pytest.StashKey[int]()
CHECKS_RUN = pytest.StashKey[int]()


def is_contract_check(nodeid: str) -> bool:
    return "contract_tests" in nodeid.replace("\\", "/")


PROVENANCE_MARKERS = ("documented", "assumed")

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
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wacr", "WA.cr contract suite")
    group.addoption("--base-url", default=os.environ.get("WACR_BASE_URL"),
                    help="implementation under test, including /api/v2 (default: the in-process mock)")
    group.addoption("--token", default=os.environ.get("WACR_TOKEN"),
                    help="full-scope token for a target without the control API")
    group.addoption("--limited-token", default=os.environ.get("WACR_LIMITED_TOKEN"),
                    help="a valid token with no scopes, for the 403 checks on a target without control")
    group.addoption("--otp-template", default=os.environ.get("WACR_OTP_TEMPLATE"),
                    help="an APPROVED AUTHENTICATION template name, for a target without control")
    group.addoption("--contract-level", choices=("documented", "all"), default="all",
                    help="documented: run only the checks that rest on the published docs")
    group.addoption("--allow-send", action="store_true",
                    help="allow checks that send WhatsApp messages through a live server without the control API"
                    " (a target that answers the control API is a simulation, and is sent to by default)")
    group.addoption("--rate-limit", default=os.environ.get("WACR_RATE_LIMIT"), metavar="N/m",
                    help="keep under N requests a minute (or N/s, N/h), e.g. 60/m for a live server's default limit")
    group.addoption("--no-send", action="store_true",
                    help="never run a check that sends a WhatsApp message, whatever the target")


_CONFIG: list[pytest.Config] = []


def current_config() -> pytest.Config:
    """The running session's config, for modules that build their tests at import (schemathesis)."""
    return _CONFIG[-1]


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG.append(config)
    config.addinivalue_line("markers", "operation(id, ...): operations a check exercises (for the summary)")
    config.addinivalue_line("markers", "sends: the check sends WhatsApp messages (a live server without control needs --allow-send)")
    config.addinivalue_line("markers", "rate_limits: the check exhausts rate limits on purpose")
    config._wacr_stats = defaultdict(lambda: [0, 0])  # operationId -> [checks run, failed]


def target_problem(base_url: str) -> str | None:
    """Why ``base_url`` is not a WA.cr API v2 target the suite can judge, or None.

    Any WA.cr server answers ``GET /account`` without a token with a JSON object carrying
    ``success`` (the documented 401); a wrong host, port or path answers nothing or something else.
    """
    url = base_url.rstrip("/") + "/account"
    try:
        response = httpx.get(url, timeout=15.0)
    except httpx.HTTPError as exc:
        return f"cannot reach --base-url {base_url}: {type(exc).__name__}: {exc}. Is the server running there?"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("success"), bool):
        return None
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return (f"--base-url {base_url} does not answer like the WA.cr API v2: GET {url} without a token gave "
            f"HTTP {response.status_code} ({kind}), not a JSON answer with `success`. "
            "The base URL must include /api/v2, e.g. https://app.example/api/v2")


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    pacer_of(config)  # a malformed --rate-limit stops the run here, with its message
    base_url = config.getoption("--base-url")
    if base_url and not hasattr(config, "workerinput") and not config.option.collectonly:
        problem = target_problem(base_url)
        if problem:
            raise pytest.UsageError(problem)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    level = config.getoption("--contract-level")
    kept, dropped = [], []
    for item in items:
        if not is_contract_check(item.nodeid):
            kept.append(item)
            continue
        marks = [m for m in PROVENANCE_MARKERS if item.get_closest_marker(m)]
        if len(marks) != 1:
            raise pytest.UsageError(f"{item.nodeid}: a contract check needs exactly one of @documented / @assumed")
        (dropped if level == "documented" and marks[0] == "assumed" else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    config.stash[CHECKS_COLLECTED] = sum(is_contract_check(item.nodeid) for item in items)


# --- target ---------------------------------------------------------------------------------


TRAFFIC = pytest.StashKey[Traffic]()


def pacer_of(config: pytest.Config) -> Pacer | None:
    text = config.getoption("--rate-limit")
    if not text:
        return None
    try:
        return Pacer.parse(text)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    base_url = config.getoption("--base-url")
    if base_url:
        live = Target(base_url.rstrip("/"), honour_retry_after=True, pacer=pacer_of(config))
    else:
        live = Target(IN_PROCESS_URL, transport=in_process.transport())
    live.traffic = config.stash.setdefault(TRAFFIC, Traffic())
    live.on_request = _recorder(config)
    yield live
    live.close()


def _recorder(config: pytest.Config):
    def record(method: str, path: str, status: int) -> None:
        operation_id = contract.operation_for(method, path)
        if operation_id is not None:
            config._wacr_current_ops.add(operation_id)

    config._wacr_current_ops = set()
    return record


@pytest.fixture(scope="session")
def is_live(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--base-url"))


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
            pytest.skip("needs --limited-token (a valid token with no scopes) on a target without the control API")
        return limited

    return make


@pytest.fixture
def otp_template(request: pytest.FixtureRequest, api: Api) -> str:
    """An APPROVED AUTHENTICATION template name, found through List Authentication Templates."""
    given = request.config.getoption("--otp-template")
    if given:
        return given
    response = api.get("/auth/templates", params={"per_page": 100})
    assert response.status_code == 200, response.text
    names = [t["template_name"] for t in response.json()["data"]]
    if not names:
        pytest.skip("the target lists no authentication template; pass --otp-template")
    return names[0]


@pytest.fixture(autouse=True)
def _send_guard(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("sends") is None:
        return
    refusal = send_refusal(request.config, request.getfixturevalue("control") is not None)
    if refusal:
        pytest.skip(refusal)


class Api:
    """A target bound to one token: ``api.post("/contacts", json=...)``."""

    def __init__(self, target: Target, token: str) -> None:
        self.target = target
        self.token = token

    def request(self, method: str, path: str, **kwargs):
        return self.target.request(method, path, token=kwargs.pop("token", self.token), **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)


# --- summary ------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    item.config._wacr_current_ops = set()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    ops = set(getattr(item.config, "_wacr_current_ops", set()))
    for marker in item.iter_markers("operation"):
        ops.update(marker.args)
    # Travels with the report, so pytest-xdist workers' checks are counted by the controller too.
    report.user_properties.append(("wacr_operations", sorted(ops)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" or not _CONFIG:
        return
    if is_contract_check(report.nodeid) and not report.skipped:
        stash = _CONFIG[-1].stash
        stash[CHECKS_RUN] = stash.get(CHECKS_RUN, 0) + 1
    stats = _CONFIG[-1]._wacr_stats
    for name, value in report.user_properties:
        if name == "wacr_operations":
            for operation_id in value:
                stats[operation_id][0] += 1
                stats[operation_id][1] += int(report.failed)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: a worker's traffic joins the controller's closing line."""
    traffic = getattr(node, "workeroutput", {}).get("wacr_traffic")
    if traffic:
        node.config.stash.setdefault(TRAFFIC, Traffic()).add(traffic)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that collected contract checks but ran none of them (all skipped) has judged nothing."""
    config = session.config
    if hasattr(config, "workeroutput"):
        traffic = config.stash.get(TRAFFIC, Traffic())
        config.workeroutput["wacr_traffic"] = vars(traffic).copy()
    if hasattr(config, "workerinput") or exitstatus != pytest.ExitCode.OK:
        return
    if config.stash.get(CHECKS_COLLECTED, 0) and not config.stash.get(CHECKS_RUN, 0):
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    traffic = config.stash.get(TRAFFIC, None)
    if traffic is not None and not hasattr(config, "workerinput"):
        waited = traffic.paced_seconds + traffic.retry_seconds
        terminalreporter.write_line(
            f"WA.cr contract: {traffic.requests:,} requests sent; {waited:.0f} s waited "
            f"({traffic.paced_seconds:.0f} s pacing under --rate-limit, {traffic.retry_seconds:.0f} s on 429 Retry-After)"
        )
    collected = config.stash.get(CHECKS_COLLECTED, 0)
    if collected and not config.stash.get(CHECKS_RUN, 0) and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            f"WA.cr contract: none of the {collected} checks ran (all skipped; the skip reasons are in the summary), "
            "so nothing was judged: exit 5. Give the target's --token, or point at a target with the control API.",
            red=True,
        )
    stats = getattr(config, "_wacr_stats", None)
    if not stats:
        return
    terminalreporter.section("WA.cr contract: checks per operation")
    untouched = sorted(set(contract.spec().operations) - set(stats))
    width = max(len(op) for op in stats)
    for operation_id in sorted(stats):
        run, failed = stats[operation_id]
        flag = "FAILED" if failed else "ok"
        terminalreporter.write_line(f"{operation_id:<{width}}  {run:5d} checks  {failed:4d} failed  {flag}")
    if untouched:
        terminalreporter.write_line(f"operations no check reached: {', '.join(untouched)}")
