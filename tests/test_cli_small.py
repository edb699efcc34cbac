"""Small things of the command line: the banner token's limit, one-line errors for --spec."""

from __future__ import annotations

import httpx

from tests.helpers import run_mock_to_exit


def test_token_limit_sets_the_banner_tokens_limit_and_survives_a_reset(start_server) -> None:
    server = start_server("--token-limit", "600")
    banner = next(line for line in server.output if "Token:" in line)
    assert "600 requests/min each (--token-limit N)" in banner
    with server.client() as http:
        assert http.get("/account").headers["X-RateLimit-Limit"] == "600"
    assert httpx.post(f"{server.root}/__mock__/reset").status_code == 200
    with server.client("wacr_test_readonly") as http:
        assert http.get("/account/limits").json()["data"]["limits"]["api_calls_per_minute"]["limit"] == 600


def test_the_default_banner_states_the_limit(mock_server) -> None:
    banner = next(line for line in mock_server.output if "Token:" in line)
    assert "60 requests/min each" in banner
    assert any(
        line.strip().startswith("Dashboard:") and line.strip().endswith("/__mock__/")
        for line in mock_server.output
    )


def test_a_missing_spec_is_one_line() -> None:
    finished = run_mock_to_exit("--spec", "nothere.yaml")
    assert finished.returncode == 1
    assert finished.stderr.strip() == "wacr-mock: --spec nothere.yaml: no such file"


def test_an_unreadable_spec_is_one_line(tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.1.0\npaths: [\n")
    finished = run_mock_to_exit("--spec", str(broken))
    assert finished.returncode == 1
    assert finished.stderr.startswith(
        f"wacr-mock: --spec {broken}: not an OpenAPI document the mock can read:"
    )
    assert len(finished.stderr.strip().splitlines()) == 1


def test_a_bad_token_limit_is_refused() -> None:
    finished = run_mock_to_exit("--token-limit", "0")
    assert finished.returncode == 2 and "'0' is not a whole number of at least 1" in finished.stderr
