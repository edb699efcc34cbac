"""Routing and bodies: unknown paths are 404 and wrong methods 405 before any token check;
literal segments beat parameters; a body that is not a JSON object is 400 (D5, D6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests.expect import assert_allow, assert_error_envelope, assert_routing_error, expect
from contract_tests.operations import (
    HTTP_METHODS,
    JSON_OPS,
    ROUTES,
    body_kwargs,
    cases,
    existing_request,
    fill,
    literal_siblings,
)
from contract_tests.strategies import not_json_objects, unknown_paths


@pytest.mark.assumed
def test_unknown_path_is_404(target, tenant):
    """A path the API does not have is 404 NOT_FOUND before any token check, without rate-limit headers.

    assumed (D5, D6).
    """

    @given(
        path=unknown_paths(),
        method=st.sampled_from(HTTP_METHODS),
        token=st.sampled_from([None, tenant.token, "junk"]),
    )
    def check(path, method, token):
        assert_routing_error(target.request(method, path, token=token), "NOT_FOUND", comments_style=False)

    check()


def wrong_method_cases() -> list:
    return [
        pytest.param(template, id=template, marks=pytest.mark.assumed)
        for template in sorted(ROUTES)
        if set(HTTP_METHODS) - set(ROUTES[template])
    ]


@pytest.mark.parametrize("template", wrong_method_cases())
def test_wrong_method_is_405(target, tenant, template):
    """A known path with a method it lacks is 405 METHOD_NOT_ALLOWED with an Allow header, before the token check,
    without rate-limit headers (Comments: D12 style).

    assumed (D5, D6).
    """
    allowed = set(ROUTES[template])
    comments_style = any(op.flat for op in ROUTES[template].values())

    @given(
        method=st.sampled_from(sorted(set(HTTP_METHODS) - allowed)),
        number=st.integers(1, 10**12),
        token=st.sampled_from([None, tenant.token, "junk"]),
    )
    def check(method, number, token):
        response = target.request(method, fill(template, f"91{number:010d}"), token=token)
        assert_routing_error(response, "METHOD_NOT_ALLOWED", comments_style)
        assert_allow(response, allowed, method)

    check()


def literal_cases() -> list:
    """(literal path, method) where the literal path also fits a parameter path that has the method."""
    found = []
    for template, methods in sorted(ROUTES.items()):
        for sibling in sorted(literal_siblings(template)):
            literal = template.split("{")[0] + sibling + (template.split("}")[-1])
            found += [
                pytest.param(literal, method, id=f"{method} {literal}", marks=pytest.mark.assumed)
                for method in sorted(set(methods) - set(ROUTES[literal]))
            ]
    return found


@pytest.mark.parametrize(("path", "method"), literal_cases())
def test_literal_segment_beats_parameter(api, path, method):
    """``GET /contacts/batch`` is the batch path with a wrong method (405), not a contact called "batch".

    assumed (D6).
    """
    response = api.request(method, path)
    assert_routing_error(response, "METHOD_NOT_ALLOWED", comments_style=False)
    assert_allow(response, set(ROUTES[path]), method)


@pytest.mark.parametrize("op", cases(JSON_OPS, "decided"))
def test_malformed_or_non_object_json_is_400(api, tenant, op):
    """A body that is not JSON, or JSON that is not an object (an array, a string, ...), is 400 INVALID_JSON.

    assumed (D5).
    """
    path, _ = existing_request(api, tenant, op)

    @given(content=not_json_objects(op))
    def check(content):
        response = api.request(op.method, path, **body_kwargs(content))
        expect(response, op, 400, "INVALID_JSON")
        assert_error_envelope(response, "INVALID_JSON", op.flat, authenticated=True)

    check()
