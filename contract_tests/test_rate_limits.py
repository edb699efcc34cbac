"""The per-token rate limit: N calls a minute, then 429 with Retry-After; what counts and
what does not (D6, D11). The tenant's clock moves through the control API (D14)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests import contract
from contract_tests.expect import assert_rate_headers, assert_rate_limited, locate
from contract_tests.operations import ID_GETS, PLAIN_GETS, Operation, fill, next_unknown_id, own_keys
from contract_tests.strategies import junk_tokens
from contract_tests.target import Control, TenantHandle


def limited_token(
    control: Control, tenant: TenantHandle, limit: int, lacking: Operation | None = None
) -> str:
    scopes = [s for s in contract.all_scopes() if lacking is None or s not in lacking.scopes]
    assert tenant.tenant_id is not None, "a tenant of the control API"
    return control.new_token(tenant.tenant_id, scopes, rate_limit_per_minute=limit)


def call(target, token: str, op: Operation, record_id: str | None = None) -> httpx.Response:
    path = fill(op.path, record_id) if record_id is not None else op.path
    return target.request(op.method, path, token=token, honour_429=False)


limits = st.integers(3, 8)
# Reads whose path and 429 row the docs give, so the documented check leans on nothing else (D1, D11).
DOCUMENTED_GETS = [op for op in PLAIN_GETS if op.error_tier(429, "RATE_LIMIT_EXCEEDED") == "documented"]


@pytest.mark.rate_limits
@pytest.mark.documented
def test_calls_beyond_the_token_limit_get_429(target, needs_control, tenant):
    """A token with rate_limit_per_minute N gets N answers within a minute, then 429 RATE_LIMIT_EXCEEDED.

    documented (Get Plan Limits: the per-token limit; 429 RATE_LIMIT_EXCEEDED on the endpoint pages of the reads
    it calls: only those whose page gives the 429 row).
    """

    @given(limit=limits, op=st.sampled_from(DOCUMENTED_GETS))
    def check(limit, op):
        token = limited_token(needs_control, tenant, limit)
        for _ in range(limit):
            assert call(target, token, op).status_code == 200
        response = call(target, token, op)
        assert response.status_code == 429 and "RATE_LIMIT_EXCEEDED" in locate(response).values, response.text

    check()


@pytest.mark.rate_limits
@pytest.mark.assumed
def test_rate_limit_headers_count_every_admitted_call(target, api, needs_control, tenant):
    """X-RateLimit-Limit is N and X-RateLimit-Remaining counts down over every admitted call (successes, 403s and
    404s alike); the call after the N-th is a 429 with Retry-After and details.retry_after.

    assumed (D11 headers, D6: the limiter comes before the scope and record checks, D4 details).
    """
    unknown = {op.operation_id: next_unknown_id(own_keys(api, op)) for op in ID_GETS}

    @given(limit=limits, data=st.data())
    def check(limit, data):
        forbidden = data.draw(st.sampled_from(PLAIN_GETS), label="op the token lacks")
        token = limited_token(needs_control, tenant, limit, lacking=forbidden)
        allowed = [op for op in PLAIN_GETS if not set(op.scopes) & set(forbidden.scopes)]
        missing = [op for op in ID_GETS if not set(op.scopes) & set(forbidden.scopes)]
        for used in range(1, limit + 1):
            kind = data.draw(st.sampled_from(["ok", "forbidden", "missing"]), label="call")
            if kind == "ok":
                response, status = call(target, token, data.draw(st.sampled_from(allowed))), 200
            elif kind == "forbidden":
                response, status = call(target, token, forbidden), 403
            else:
                absent = data.draw(st.sampled_from(missing))
                response, status = call(target, token, absent, unknown[absent.operation_id]), 404
            assert response.status_code == status, response.text
            assert assert_rate_headers(response) == (limit, limit - used), f"after {used} calls"
        assert_rate_limited(call(target, token, data.draw(st.sampled_from(allowed))), limit)

    check()


@pytest.mark.rate_limits
@pytest.mark.assumed
def test_waiting_lets_calls_through_again(target, needs_control, tenant):
    """After a 429, waiting Retry-After seconds admits the next call; a full minute later the budget is whole again.

    assumed (D11: a sliding 60-second window; the tenant's clock is moved through the control API, D14).
    """

    @given(limit=limits, op=st.sampled_from(PLAIN_GETS))
    def check(limit, op):
        token = limited_token(needs_control, tenant, limit)
        for _ in range(limit):
            call(target, token, op)
        retry_after = assert_rate_limited(call(target, token, op), limit)
        needs_control.move_clock(tenant.tenant_id, advance_seconds=retry_after)
        assert call(target, token, op).status_code == 200
        needs_control.move_clock(tenant.tenant_id, advance_seconds=60)
        response = call(target, token, op)
        assert response.status_code == 200 and assert_rate_headers(response) == (limit, limit - 1)

    check()


@pytest.mark.rate_limits
@pytest.mark.assumed
def test_refused_calls_are_not_counted(target, needs_control, tenant):
    """401s, routing errors and 429s use none of a token's budget; once it is used up, a bad token still gets
    401 and a missing scope still gets 429 (the limiter sits between them).

    assumed (D6 order and counting, D11).
    """

    @given(limit=limits, refused=st.integers(1, 5), forbidden=st.sampled_from(PLAIN_GETS), junk=junk_tokens)
    def check(limit, refused, forbidden, junk):
        token = limited_token(needs_control, tenant, limit, lacking=forbidden)
        op = next(o for o in PLAIN_GETS if not set(o.scopes) & set(forbidden.scopes))
        for _ in range(refused):
            assert call(target, junk, op).status_code == 401
            assert target.request("GET", "/no-such-path", token=token).status_code == 404
            assert target.request("PUT", op.path, token=token).status_code == 405
        for used in range(1, limit + 1):
            assert assert_rate_headers(call(target, token, op)) == (limit, limit - used)
        assert call(target, junk, op).status_code == 401
        assert_rate_limited(call(target, token, forbidden), limit)
        # 429s at +30 s would still fill the window at +61 s if they were counted.
        needs_control.move_clock(tenant.tenant_id, advance_seconds=30)
        for _ in range(refused):
            assert call(target, token, op).status_code == 429
        needs_control.move_clock(tenant.tenant_id, advance_seconds=31)
        for used in range(1, limit + 1):
            assert assert_rate_headers(call(target, token, op)) == (limit, limit - used)

    check()
