"""Nothing a client sends makes the mock fail: random requests never get a 5xx, and always get JSON.

Hypothesis throws random methods, paths under /api/v2 (the real templates with random ids, and
random ones), query strings, headers and bodies (random bytes, JSON of random shapes, JSON
objects with the spec's own field names, multipart) at the in-process core. The core validates
its own answers (``validate_responses=True``), so an answer that breaks the spec is a 500 too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core import MockCore
from mockserver.spec import Spec
from mockserver.transport import MockTransport
from tests.helpers import new_tenant

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND"]
QUERY_NAMES = [
    "page",
    "per_page",
    "sort",
    "search",
    "q",
    "include",
    "fields",
    "filter[type]",
    "filter[name]",
    "filter[created_at]",
    "filter[status_id]",
    "filter[group_id]",
    "filter[direction]",
    "x",
]
BOUNDARY = "wacrFuzzBoundary"


@cache
def spec() -> Spec:
    return Spec.load()


@cache
def field_names() -> list[str]:
    """Every request-body property name in the spec, so random objects reach the validators."""
    names = {
        f.name
        for op in spec().operations.values()
        for validator in op.bodies.values()
        for f in validator.fields
    }
    return sorted(names)


safe_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
segment = st.one_of(
    st.integers(1, 12).map(str),  # ids are small integers: these often name real records
    st.integers(-10, 10**20).map(str),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%+@ ", min_size=1, max_size=12),
    st.sampled_from(
        [
            "batch",
            "0",
            "%00",
            "..",
            "%2F",
            "00001",
            "15550001111",
            "+1 555 000 1111",
            "1e3",
            "-1",
            "1000000000000001",
        ]
    ),
)


@st.composite
def routes(draw) -> tuple[str, str]:
    """(method, path): mostly an operation's own method and template, sometimes anything."""
    if draw(st.integers(0, 3)):
        op = draw(st.sampled_from(sorted(spec().operations.values(), key=lambda o: o.operation_id)))
        method = op.method if draw(st.integers(0, 5)) else draw(st.sampled_from(METHODS))
        template = op.path
        for name in ("{id}", "{mobile}"):
            while name in template:
                template = template.replace(name, draw(segment), 1)
        return method, "/api/v2" + template + draw(st.sampled_from(["", "", "", "/"]))
    return draw(st.sampled_from(METHODS)), "/api/v2/" + "/".join(draw(st.lists(segment, max_size=4)))


# Values the validators accept now and then, so random bodies also get past validation into the handlers.
PLAUSIBLE = [
    "15550001111",
    "+1 (555) 000-2222",
    "a@example.com",
    "https://example.com/a.jpg",
    "otp_verification",
    "spring_sale",
    "order_shipped",
    "en",
    "lead",
    "customer",
    "button",
    "list",
    "image",
    "audio",
    "document",
    "123456",
    "#FF0000",
    "login",
    "Yes",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.integers(0, 12)
    | st.floats(allow_nan=False)
    | safe_text
    | st.sampled_from(PLAUSIBLE),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(safe_text, children, max_size=4),
    max_leaves=12,
)


@st.composite
def spec_shaped_objects(draw) -> dict:
    keys = draw(st.lists(st.sampled_from(field_names()), max_size=6, unique=True))
    return {key: draw(json_values) for key in keys}


def multipart(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    chunks = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
        )
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


@st.composite
def bodies(draw) -> tuple[str | None, bytes]:
    """(Content-Type, body)."""
    kind = draw(st.sampled_from(["none", "bytes", "json", "spec-json", "multipart", "broken-multipart"]))
    if kind == "none":
        return draw(st.sampled_from([None, "application/json"])), b""
    if kind == "bytes":
        return draw(
            st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded"])
        ), draw(st.binary(max_size=300))
    if kind in ("json", "spec-json"):
        value = draw(spec_shaped_objects() if kind == "spec-json" else json_values)
        return "application/json", json.dumps(value).encode()
    if kind == "multipart":
        part = st.tuples(
            st.sampled_from(field_names()),
            st.none() | st.sampled_from(["a.jpg", "b.pdf", "c", "d.mp3"]),
            st.binary(max_size=50),
        )
        return f"multipart/form-data; boundary={BOUNDARY}", multipart(draw(st.lists(part, max_size=5)))
    content_type = draw(st.sampled_from(["multipart/form-data", f"multipart/form-data; boundary={BOUNDARY}"]))
    return content_type, draw(st.binary(max_size=200))


header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[tuple[MockCore, httpx.Client, list[str]]]:
    core = MockCore(spec(), validate_responses=True)
    control = httpx.Client(transport=MockTransport(core), base_url="http://mock.test/__mock__")
    roomy = new_tenant(control, rate_limit_per_minute=10**9)["token"]
    narrow = new_tenant(control, rate_limit_per_minute=10**9, scopes=["contacts:read", "messages:send"])[
        "token"
    ]
    with httpx.Client(transport=MockTransport(core), base_url="http://mock.test") as http:
        yield core, http, [roomy, narrow]
    control.close()


@settings(max_examples=300)
@given(
    route=routes(),
    query=st.lists(st.tuples(st.sampled_from(QUERY_NAMES), safe_text), max_size=4),
    token_choice=st.sampled_from([0, 0, 0, 0, 1, 2, 3]),
    junk_token=header_text,
    body=bodies(),
    extra_header=st.none()
    | st.tuples(st.sampled_from(["Accept", "X-Request-Id", "Origin", "Cookie"]), header_text),
)
def test_random_requests_never_get_a_server_error(
    fuzz_target, route, query, token_choice, junk_token, body, extra_header
) -> None:
    core, http, tokens = fuzz_target
    method, path = route
    headers = {}
    if token_choice < 2:
        headers["Authorization"] = f"Bearer {tokens[token_choice]}"
    elif token_choice == 2:
        headers["Authorization"] = junk_token
    content_type, content = body
    if content_type:
        headers["Content-Type"] = content_type
    if extra_header:
        headers[extra_header[0]] = extra_header[1]
    response = http.request(method, path, params=query, headers=headers, content=content)
    assert response.status_code < 500, (
        response.status_code,
        response.text,
        core.response_validator.violations[-1:],
    )
    answer = response.json()
    assert answer["success"] is (response.status_code < 400)
    if response.status_code == 405:
        assert response.headers["Allow"]
