"""CLI options of ``python -m mockserver``: --seed, --admin-secret, --no-control, binding beyond loopback."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver import cli
from mockserver.core import MockCore
from tests.helpers import MockServer, api_client, run_mock_to_exit, start_mock

SEED = """\
tenants:
  - id: 1                      # the demo tenant: add records to it
    sources: [{name: Trade fair}]
    statuses: [{name: Qualified, color: "#00AA00"}]
    groups: [{name: Newsletter}]
    contacts:
      - {firstname: Grace, lastname: Hopper, phone: "+1 (555) 010-0001", email: grace@example.com}
  - name: Second Shop           # a new tenant with its own token and plan
    limits: {contacts: 5}
    tokens:
      - {token: wacr_seeded_second, scopes: ["contacts:read", "account:read"], rate_limit_per_minute: 7}
    contacts:
      - {firstname: Alan, lastname: Turing, phone: "15550100002"}
"""


def get(server: MockServer, path: str, token: str, **params) -> httpx.Response:
    with server.client(token) as http:
        return http.get(path, params=params)


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    fixtures = tmp_path_factory.mktemp("seed") / "fixtures.yaml"
    fixtures.write_text(SEED)
    server = start_mock("--seed", str(fixtures))
    yield server
    server.stop()


def test_seed_file_adds_records_and_tenants(seeded_server: MockServer) -> None:
    """A ``--seed`` YAML adds records to the demo tenant and creates tenants with their own tokens."""
    server = seeded_server
    demo = get(server, "/contacts", "wacr_test_full", search="Grace").json()["data"]
    assert [(c["firstname"], c["phone"], c["email"]) for c in demo] == [
        ("Grace", "15550100001", "grace@example.com")
    ]
    assert "Trade fair" in {s["name"] for s in get(server, "/sources", "wacr_test_full").json()["data"]}
    assert "Qualified" in {s["name"] for s in get(server, "/statuses", "wacr_test_full").json()["data"]}
    assert "Newsletter" in {g["name"] for g in get(server, "/groups", "wacr_test_full").json()["data"]}

    second = get(server, "/contacts", "wacr_seeded_second")
    assert [c["firstname"] for c in second.json()["data"]] == ["Alan"]
    assert second.headers["X-RateLimit-Limit"] == "7"
    limits = get(server, "/account/limits", "wacr_seeded_second").json()["data"]["limits"]
    assert limits["contacts"]["limit"] == 5
    assert get(server, "/sources", "wacr_seeded_second").status_code == 403  # only the scopes it was given


def test_seed_file_sets_the_plan_of_an_existing_tenant(tmp_path: Path) -> None:
    """Limits and features given for the demo tenant (id 1) apply to it, as they do to a new tenant."""
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text("tenants:\n  - id: 1\n    limits: {contacts: -1}\n    features: {chatbot: true}\n")
    with api_client(MockCore(fixtures=[fixtures])) as http:
        plan = http.get("/account/limits").json()["data"]
    assert plan["limits"]["contacts"] == {"limit": -1, "feature_name": "Total Contacts", "is_unlimited": True}
    assert plan["features"]["chatbot"] is True


def test_seed_survives_reset(seeded_server: MockServer) -> None:
    """``POST /__mock__/reset`` returns to the seed, fixtures included."""
    with seeded_server.client() as http:
        added = http.post("/groups", json={"name": "Added after start"})
        assert added.status_code == 201
    assert httpx.post(f"{seeded_server.root}/__mock__/reset").status_code == 200
    groups = {g["name"] for g in get(seeded_server, "/groups", "wacr_test_full").json()["data"]}
    assert groups == {"Newsletter"}
    assert get(seeded_server, "/contacts", "wacr_seeded_second").json()["meta"]["total"] == 1


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("tenants: [\n  {id: 1", "not valid YAML"),
        ("- just\n- a list\n", "'tenants' list"),
        ('tenants: "oops"\n', "'tenants' list"),
        ("tenants:\n  - tokens: [{scopes: ['*']}]\n", "'token'"),
        ("tenants:\n  - contacts: [not-a-mapping]\n", "not valid"),
        ("foo: bar\n", "the file: Additional properties are not allowed ('foo' was unexpected)"),
        (
            "tenants:\n  - contacts:\n      - {phone: '15550001111', type: bogus}\n",
            "tenants[0].contacts[0].type: 'bogus' is not one of",
        ),
        (
            "tenants:\n  - contacts:\n      - {firstname: Ada}\n",
            "tenants[0].contacts[0]: 'phone' is a required property",
        ),
        ("tenants:\n  - sources: [{name: A, colour: red}]\n", "tenants[0].sources[0]: Additional properties"),
        (
            "tenants:\n  - contacts:\n      - {phone: '15550001111', source_id: 999}\n",
            "tenants[0].contacts[0]: source_id 999 names no source of the tenant",
        ),
    ],
    ids=[
        "yaml-syntax",
        "not-a-mapping",
        "tenants-not-a-list",
        "token-without-value",
        "record-not-a-mapping",
        "unknown-key",
        "bad-enum",
        "missing-phone",
        "extra-record-key",
        "unknown-source",
    ],
)
def test_bad_seed_file_is_refused_with_a_clear_message(tmp_path: Path, content: str, says: str) -> None:
    """In process (fast): building the app from the options exits with one line naming the place (the file is
    checked against mockserver/seed-schema.yaml and its references), not a traceback, and serves nothing."""
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text(content)
    with pytest.raises(SystemExit) as refused:
        cli.build(cli.parser().parse_args(["--seed", str(fixtures)]))
    message = str(refused.value)
    assert (
        message.startswith("wacr-mock: a --seed file is not valid")
        and says in message
        and "\n" not in message
    )


def test_bad_seed_file_exits_non_zero(tmp_path: Path) -> None:
    """The real command: exit status 1 and the message on stderr."""
    fixtures = tmp_path / "fixtures.yaml"
    fixtures.write_text("tenants: [\n  {id: 1")
    finished = run_mock_to_exit("--seed", str(fixtures))
    assert finished.returncode == 1
    assert "wacr-mock: a --seed file is not valid" in finished.stderr and "Traceback" not in finished.stderr


@pytest.mark.parametrize("port", ["70000", "-1", "eighty"])
def test_a_port_outside_0_to_65535_is_refused_with_one_line(port: str) -> None:
    finished = run_mock_to_exit("--port", port)
    assert finished.returncode == 2
    assert "argument --port" in finished.stderr and "port number" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_a_state_file_in_a_missing_folder_is_refused_with_one_line(tmp_path: Path) -> None:
    finished = run_mock_to_exit("--state-file", str(tmp_path / "absent" / "state.pkl"))
    assert finished.returncode == 1
    assert "does not exist; create it first" in finished.stderr and "Traceback" not in finished.stderr


def test_missing_seed_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no such file"):
        cli.build(cli.parser().parse_args(["--seed", str(tmp_path / "absent.yaml")]))


def test_explicit_admin_secret_guards_the_control_api(start_server) -> None:
    """``--admin-secret``: control calls need ``X-Mock-Admin-Secret``; the WA.cr API does not."""
    server = start_server("--admin-secret", "s3cret")
    assert httpx.get(f"{server.root}/__mock__/health").status_code == 403
    wrong = httpx.get(f"{server.root}/__mock__/health", headers={"X-Mock-Admin-Secret": "guess"})
    assert wrong.status_code == 403
    right = httpx.get(f"{server.root}/__mock__/health", headers={"X-Mock-Admin-Secret": "s3cret"})
    assert right.status_code == 200 and right.json()["status"] == "ok"
    assert get(server, "/account", "wacr_test_full").status_code == 200


def test_admin_secret_from_the_environment_stays_out_of_the_command_line(start_server, monkeypatch) -> None:
    monkeypatch.setenv("WACR_ADMIN_SECRET", "from-env")
    server = start_server()
    assert httpx.get(f"{server.root}/__mock__/health").status_code == 403
    right = httpx.get(f"{server.root}/__mock__/health", headers={"X-Mock-Admin-Secret": "from-env"})
    assert right.status_code == 200


def test_a_loopback_mock_refuses_control_calls_from_other_pages_and_host_names(start_server) -> None:
    """DNS rebinding and cross-site requests cannot reach the control API; the WA.cr API is unaffected."""
    server = start_server("--cors-origin", "https://app.example")
    health = f"{server.root}/__mock__/health"
    assert httpx.get(health).status_code == 200
    assert httpx.get(health, headers={"Origin": "https://app.example"}).status_code == 200
    assert httpx.get(health, headers={"Origin": "https://evil.example"}).status_code == 403
    assert httpx.get(health, headers={"Host": f"rebound.example:{server.port}"}).status_code == 403
    assert get(server, "/account", "wacr_test_full").status_code == 200


def test_no_control_turns_the_control_api_off(start_server) -> None:
    server = start_server("--no-control")
    assert httpx.get(f"{server.root}/__mock__/health").status_code == 404
    assert get(server, "/account", "wacr_test_full").status_code == 200


def can_bind_all_interfaces() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", 0))
        except OSError:
            return False
    return True


@pytest.mark.skipif(not can_bind_all_interfaces(), reason="this sandbox may not bind 0.0.0.0")
def test_binding_beyond_loopback_generates_an_admin_secret() -> None:
    """Bound to 0.0.0.0 without ``--admin-secret``, the mock prints a generated secret and requires it.

    Reached through 127.0.0.1 only.
    """
    server = start_mock("--host", "0.0.0.0")
    try:
        assert server.admin_secret, "\n".join(server.output)
        assert httpx.get(f"{server.root}/__mock__/health").status_code == 403
        allowed = httpx.get(
            f"{server.root}/__mock__/health", headers={"X-Mock-Admin-Secret": server.admin_secret}
        )
        assert allowed.status_code == 200
        assert get(server, "/account", "wacr_test_full").status_code == 200
    finally:
        server.stop()


def test_help_lists_the_options() -> None:
    text = cli.parser().format_help()
    for option in (
        "--seed",
        "--state-file",
        "--cors-origin",
        "--validate-responses",
        "--admin-secret",
        "--no-control",
    ):
        assert option in text


def test_each_request_is_logged_in_one_line_at_the_default_level() -> None:
    """Method, path, status, time and operation id, as frontend developers know from Prism and WireMock."""
    server = start_mock("--log-level", "info")
    try:
        with server.client() as http:
            assert http.get("/contacts", params={"per_page": 2}).status_code == 200
            assert http.get("/nowhere").status_code == 404
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any("/api/v2/nowhere" in line for line in server.output):
            time.sleep(0.05)
    finally:
        server.stop()
    logged = [line for line in server.output if "wacr-mock:" in line and "/api/v2/" in line]
    assert any(
        re.search(r"INFO wacr-mock: GET /api/v2/contacts\?per_page=2 200 \d+\.\dms listContacts$", line)
        for line in logged
    ), server.output
    assert any(re.search(r"GET /api/v2/nowhere 404 \d+\.\dms -$", line) for line in logged), server.output
