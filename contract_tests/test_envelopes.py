"""Envelopes: every error answer is the D4 envelope and every successful read the D2 one
(Comments: the flat D12 style), with the request id and rate-limit headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from contract_tests.expect import assert_error_envelope, assert_success_envelope
from contract_tests.operations import (
    OPS,
    Operation,
    body_kwargs,
    cases,
    existing_request,
    fill,
    has_required_body_field,
    unknown_key,
)
from contract_tests.target import Api, TenantHandle


def provoked_errors(
    target, api: Api, tenant: TenantHandle, token_without, op: Operation
) -> Iterator[tuple[str, httpx.Response, bool]]:
    """(expected code, answer, authenticated?) for each error the operation can cheaply be driven into."""
    path, body = existing_request(api, tenant, op)
    yield "UNAUTHORIZED", target.request(op.method, path, json=body), False
    yield "UNAUTHORIZED", target.request(op.method, path, token="unknown-" + tenant.token, json=body), False
    if op.scopes:
        yield (
            "INSUFFICIENT_SCOPE",
            api.request(op.method, path, json=body, token=token_without(op.scopes[0])),
            True,
        )
    if op.record:
        yield "NOT_FOUND", api.request(op.method, fill(op.path, unknown_key(api, op)), json=body), True
    if op.takes_json:
        yield "INVALID_JSON", api.request(op.method, path, **body_kwargs(b"{")), True
        if has_required_body_field(op):
            yield "VALIDATION_ERROR", api.request(op.method, path, json={}), True
    if op.sort_fields:
        yield "VALIDATION_ERROR", api.request(op.method, path, params={"per_page": 0}), True


@pytest.mark.parametrize("op", cases(OPS, "decided"))
def test_error_envelope_shape(target, api, tenant, token_without, op):
    """Every error answer is the D4 envelope (Comments: D12's flat success/message[/errors]).

    assumed (D4, D12, D2, D11): success false, message == error.message, UPPER_SNAKE code, details only for the
    codes D4 lists, meta.request_id a uuid4 equal to X-Request-Id, second-precision +00:00 timestamp, and the
    rate-limit headers on authenticated errors.
    """
    for code, response, authenticated in provoked_errors(target, api, tenant, token_without, op):
        assert_error_envelope(response, code, op.flat, authenticated)


@pytest.mark.parametrize("op", cases([op for op in OPS if op.method == "GET"], "decided"))
def test_success_envelope_shape(api, tenant, op):
    """A successful read is the D2 envelope: success true, message, data, meta (request_id == X-Request-Id,
    timestamp), rate-limit headers; Comments are flat and without meta (D12).

    assumed (D2, D11, D12); documented success messages are compared exactly.
    """
    path, _ = existing_request(api, tenant, op)
    assert_success_envelope(api.get(path), op)
