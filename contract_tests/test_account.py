"""Property: the Account pages report the tenant's plan as Get Plan Limits and Get Usage Statistics document it.

Documented (Get Plan Limits, Get Usage Statistics): each limit entry is unlimited exactly when its ``limit`` is
-1, and then uses 0 percent; ``api_calls_per_minute`` is the calling token's ``rate_limit_per_minute``, 60 when
none was set; ``features.api_access`` is true for any caller. The checks that give a tenant an unlimited feature or
a token a known limit need the control API (D14); the others read whatever tenant the token has.

Not checked, for want of a D14 call that drives them: Get Account Info's plan ``Free`` without a subscription and
its ``name`` falling back to the subdomain (D14 names neither a subscription nor a tenant name).
"""

from __future__ import annotations

import pytest

from contract_tests import records
from contract_tests.target import Api, Control, Target, TenantHandle

DEFAULT_RATE_LIMIT = 60  # Get Plan Limits: "taken from the token's rate_limit_per_minute (default: 60)"
UNLIMITED = -1


def data_of(api: Api, path: str, token: str | None = None) -> dict:
    response = api.get(path, **({"token": token} if token else {}))
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()["data"]


def limit_entries(api: Api) -> dict[str, dict]:
    """Every entry of Get Plan Limits' ``limits`` and of Get Usage Statistics, by where it was read."""
    limits = data_of(api, "/account/limits")["limits"]
    usage = data_of(api, "/account/usage")
    return {**{f"limits.{k}": v for k, v in limits.items()}, **{f"usage.{k}": v for k, v in usage.items()}}


@pytest.mark.documented
@pytest.mark.operation("getLimits", "getUsage")
def test_limit_entries_are_unlimited_exactly_at_minus_one(api: Api) -> None:
    """Get Plan Limits and Get Usage Statistics (documented): ``is_unlimited`` is true exactly when ``limit`` is
    -1 ("true when limit === -1"), and an unlimited usage entry has ``percentage_used`` 0."""
    for where, entry in limit_entries(api).items():
        assert entry["is_unlimited"] is (entry["limit"] == UNLIMITED), (where, entry)
        if where.startswith("usage.") and entry["is_unlimited"]:
            assert entry["percentage_used"] == 0, (where, entry)


@pytest.mark.documented
@pytest.mark.operation("getLimits", "getUsage")
def test_an_unlimited_feature_in_use_reports_zero_percent(target: Target, needs_control: Control) -> None:
    """Get Usage Statistics (documented): a feature whose limit is -1 is unlimited and reports ``percentage_used`` 0
    however much is used (here: one contact, on a tenant made with ``limits.contacts`` -1, D14)."""
    tenant = needs_control.new_tenant(rate_limit_per_minute=100_000_000, limits={"contacts": UNLIMITED})
    api = Api(target, tenant.token)

    records.contact(api, tenant)
    usage = data_of(api, "/account/usage")["contacts"]
    assert usage["current"] >= 1 and usage["limit"] == UNLIMITED, usage
    assert usage["is_unlimited"] is True and usage["percentage_used"] == 0, usage
    limits = data_of(api, "/account/limits")["limits"]["contacts"]
    assert limits["limit"] == UNLIMITED and limits["is_unlimited"] is True, limits


@pytest.mark.documented
@pytest.mark.operation("getLimits")
def test_api_calls_per_minute_is_the_tokens_limit(
    api: Api, tenant: TenantHandle, needs_control: Control
) -> None:
    """Get Plan Limits (documented): ``api_calls_per_minute`` is the calling token's ``rate_limit_per_minute``, and
    60 for a token made without one (two tokens of one tenant, made through D14)."""
    assert tenant.tenant_id is not None
    scopes = ["account:read"]
    chosen = needs_control.new_token(tenant.tenant_id, scopes, rate_limit_per_minute=37)
    default = needs_control.new_token(tenant.tenant_id, scopes)
    for token, expected in ((chosen, 37), (default, DEFAULT_RATE_LIMIT)):
        entry = data_of(api, "/account/limits", token)["limits"]["api_calls_per_minute"]
        assert entry["limit"] == expected and entry["is_unlimited"] is False, entry


@pytest.mark.documented
@pytest.mark.operation("getLimits")
def test_api_access_is_true_for_any_caller(api: Api) -> None:
    """Get Plan Limits (documented): ``features.api_access`` is "always true if you are making this request"."""
    features = data_of(api, "/account/limits")["features"]
    assert features["api_access"] is True, features
