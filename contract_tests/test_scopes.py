"""Scopes: a valid token without the operation's scope answers 403, and the scope alone decides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests import contract
from contract_tests.expect import expect
from contract_tests.operations import OPS, SCOPED, cases, existing_request
from contract_tests.reader import weakest
from contract_tests.target import Control, TenantHandle


@pytest.mark.parametrize(
    "op", cases(SCOPED, lambda op: weakest(op.scope_tier, op.error_tier(403, "INSUFFICIENT_SCOPE")))
)
def test_token_lacking_the_scope_is_403(api, tenant, token_without, op):
    """A valid token without the operation's scope gets 403 INSUFFICIENT_SCOPE.

    The tier is the weaker of the scope's (documented where the endpoint page names it, D7 where guessed, D1 where
    the operation is only named in the docs' sidebar) and the 403 entry's (documented where the page gives the
    INSUFFICIENT_SCOPE row, D6/D7 elsewhere).
    """
    path, body = existing_request(api, tenant, op)
    for scope in op.scopes:
        expect(
            api.request(op.method, path, json=body, token=token_without(scope)), op, 403, "INSUFFICIENT_SCOPE"
        )


@pytest.mark.parametrize("op", cases(SCOPED, "decided"))
def test_the_scope_alone_decides_403(api, tenant, needs_control, op):
    """Whatever else a token holds, it gets 403 INSUFFICIENT_SCOPE exactly when it lacks the scope (``*`` holds all).

    assumed (D7: the scope list, ``*``); never 401 for a valid token.
    """
    path, body = existing_request(api, tenant, op)
    pool = sorted(set(contract.all_scopes()) | {"*"})

    @given(scopes=st.sets(st.sampled_from(pool), max_size=len(pool)))
    def check(scopes):
        token = needs_control.new_token(tenant.tenant_id, sorted(scopes))
        # An admitted call may meet the operation's own limiter (resend: 3 per 5 min): its 429 is an answer here.
        response = api.request(op.method, path, json=body, token=token, honour_429=False)
        lacking = "*" not in scopes and not set(op.scopes) <= scopes
        if lacking:
            expect(response, op, 403, "INSUFFICIENT_SCOPE")
        else:
            refused = response.status_code == 403 and response.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
            assert response.status_code != 401 and not refused, (
                f"{sorted(scopes)}: {response.status_code} {response.text}"
            )

    check()


@pytest.fixture
def scopeless_token(request: pytest.FixtureRequest, control: Control | None, tenant: TenantHandle) -> str:
    """A valid token of the tenant with no scope at all."""
    if control is not None and tenant.tenant_id is not None:
        return control.new_token(tenant.tenant_id, [])
    limited = request.config.getoption("--limited-token")
    if not limited:
        pytest.skip(
            "needs --limited-token (a valid token with no scopes) on a target without the control API"
        )
    return limited


@pytest.mark.parametrize("op", cases([op for op in OPS if op.flat], "decided"))
def test_comments_need_no_scope(api, tenant, scopeless_token, op):
    """Any valid token, even one without scopes, may use the Comments endpoints.

    assumed (D7: "Comments need a valid token and no scope"; the docs name none).
    """
    path, body = existing_request(api, tenant, op)
    response = api.request(op.method, path, json=body, token=scopeless_token)
    assert response.status_code == op.success_status, response.text
