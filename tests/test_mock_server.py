"""The mock as users start it (``python -m mockserver``): the README's first steps over real HTTP."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest
import yaml

from mockserver.spec import Spec
from tests.helpers import FULL_TOKEN, READONLY_TOKEN, MockServer, server_tenant
from tests.walkthrough import walk_every_operation

ORIGIN = "https://crm.example"


def test_start_up_banner_names_time_urls_and_tokens(mock_server: MockServer) -> None:
    """The ready banner gives the start-up time, the API and docs URLs and the default tokens."""
    text = "\n".join(mock_server.output)
    assert mock_server.ready_seconds >= 0
    assert f"{mock_server.root}/api/v2" in text and f"{mock_server.root}/docs" in text
    assert FULL_TOKEN in text and READONLY_TOKEN in text


def test_full_token_reads_the_demo_account(mock_server: MockServer) -> None:
    """``curl -H 'Authorization: Bearer wacr_test_full' .../account`` works from the first second."""
    with mock_server.client() as http:
        response = http.get("/account")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"]["name"] == "Demo Company"
    assert response.headers["X-Request-Id"] == body["meta"]["request_id"]
    assert response.headers["X-RateLimit-Limit"] == "60"


def test_readonly_token_reads_but_cannot_write(mock_server: MockServer) -> None:
    """``wacr_test_readonly`` has the read scopes only: list works, create is 403 INSUFFICIENT_SCOPE."""
    with mock_server.client(READONLY_TOKEN) as http:
        assert http.get("/sources").status_code == 200
        refused = http.post("/sources", json={"name": "Nope"})
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "INSUFFICIENT_SCOPE",
        "message": "Token missing sources:write scope",
    }


@pytest.mark.parametrize("token", [None, "wacr_unknown"])
def test_missing_or_unknown_token_is_401(mock_server: MockServer, token: str | None) -> None:
    with mock_server.client(token) as http:
        response = http.get("/account")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_unknown_route_is_a_json_404(mock_server: MockServer) -> None:
    response = httpx.get(f"{mock_server.api}/nowhere")
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "NOT_FOUND", "message": "Route not found"}


def test_docs_page_is_served_offline_with_its_assets(mock_server: MockServer) -> None:
    """``/docs`` is Swagger UI from local assets (no CDN), pointed at ``/openapi.yaml``; ``/`` redirects there."""
    page = httpx.get(f"{mock_server.root}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    assert '"/docs/openapi.yaml"' in page.text
    for asset in assets:
        served = httpx.get(mock_server.root + asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    home = httpx.get(mock_server.root + "/", follow_redirects=False)
    assert home.status_code in (302, 307) and home.headers["location"] == "/docs"


def test_docs_swagger_ui_renders_openapi_3_1(mock_server: MockServer) -> None:
    """The served Swagger UI is version 5 or later: version 4 refuses ``openapi: 3.1.0`` ("Unable to render")."""
    bundle = httpx.get(f"{mock_server.root}/docs/assets/swagger-ui-bundle.js").text
    assert "isOAS31" in bundle, "this Swagger UI has no OpenAPI 3.1 support"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_docs_try_it_out_calls_this_mock(mock_server: MockServer) -> None:
    """The page sends "Try it out" calls to its own origin, not to the spec's default host and port."""
    page = httpx.get(f"{mock_server.root}/docs").text
    interceptor = re.search(r"requestInterceptor: (\(req\) => \{.*?\n  \})", page, re.S)
    assert interceptor, "the docs page has no requestInterceptor"
    script = (
        f"const window = {{location: {{origin: '{mock_server.root}', href: '{mock_server.root}/docs'}}}};\n"
        f"const intercept = {interceptor.group(1)};\n"
        "for (const url of ['http://127.0.0.1:8080/api/v2/contacts?page=2', '/openapi.yaml'])\n"
        "  console.log(intercept({url}).url);\n"
    )
    finished = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert finished.stdout.split() == [f"{mock_server.api}/contacts?page=2", "/openapi.yaml"], finished.stderr


def test_openapi_yaml_is_the_contract(mock_server: MockServer, spec: Spec) -> None:
    response = httpx.get(f"{mock_server.root}/openapi.yaml")
    assert response.status_code == 200 and "yaml" in response.headers["content-type"]
    document = yaml.load(response.text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert document["openapi"].startswith("3.1")
    operations = [
        op for item in document["paths"].values() for key, op in item.items() if key != "parameters"
    ]
    assert len(operations) == len(spec.operations)


def test_cors_preflight_for_an_allowed_origin(start_server) -> None:
    """With ``--cors-origin``, a browser preflight is answered and the rate-limit headers are exposed."""
    server = start_server("--cors-origin", ORIGIN)
    preflight = httpx.options(
        f"{server.api}/contacts",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    simple = httpx.get(
        f"{server.api}/account", headers={"Origin": ORIGIN, "Authorization": f"Bearer {FULL_TOKEN}"}
    )
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    exposed = simple.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed and "x-ratelimit-remaining" in exposed
    stranger = httpx.options(
        f"{server.api}/contacts",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers


def test_no_cors_headers_without_the_option(mock_server: MockServer) -> None:
    response = httpx.get(
        f"{mock_server.api}/account", headers={"Origin": ORIGIN, "Authorization": f"Bearer {FULL_TOKEN}"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_validate_responses_mode_passes_every_operation(start_server, spec: Spec) -> None:
    """``--validate-responses``: one success of each operation, none turned into MOCK_RESPONSE_INVALID."""
    server = start_server("--validate-responses")
    tenant = server_tenant(server, rate_limit_per_minute=10_000)
    with server.client(tenant["token"]) as http:
        responses = walk_every_operation(http)
        invalid = http.get("/contacts", params={"per_page": 0})
    assert set(responses) == set(spec.operations)
    assert {r.status_code for r in responses.values()} <= {200, 201}
    assert invalid.status_code == 422  # error answers are checked too, and pass
