"""Order of checks: with several faults at once, the earliest check of D6 answers."""

from __future__ import annotations

import pytest
from hypothesis import given

from contract_tests.expect import STATUS_OF, assert_error_envelope, expect
from contract_tests.operations import (
    OPS,
    authorization_headers,
    body_kwargs,
    cases,
    fill,
    own_keys,
)
from contract_tests.strategies import bad_authorizations, bad_bodies, unknown_ids


@pytest.mark.parametrize(
    "op", cases([op for op in OPS if op.bodies or op.record], "decided", makes_path_record=False)
)
def test_checks_come_in_d6_order(target, api, tenant, token_without, op):
    """With several faults at once the earliest check of D6 answers: a bad token (401) beats a missing scope,
    an unknown id and a bad body; a missing scope (403) beats an unknown id and a bad body; an unknown id (404)
    beats a bad body.

    assumed (D6).
    """
    lacking = token_without(op.scopes[0]) if op.scopes else None
    own = own_keys(api, op)

    @given(
        authorization=bad_authorizations(tenant.token), content=bad_bodies(op), record_id=unknown_ids(op, own)
    )
    def check(authorization, content, record_id):
        path = fill(op.path, record_id) if op.record else op.path
        levels = [("UNAUTHORIZED", authorization_headers(authorization), False)]
        if lacking is not None:
            levels.append(("INSUFFICIENT_SCOPE", {"Authorization": f"Bearer {lacking}"}, True))
        if op.record:
            levels.append(("NOT_FOUND", {"Authorization": f"Bearer {tenant.token}"}, True))
        for code, headers, authenticated in levels:
            kwargs = body_kwargs(content)
            response = target.request(
                op.method, path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs
            )
            expect(response, op, STATUS_OF[code], code)
            assert_error_envelope(response, code, op.flat, authenticated)

    check()
