"""Properties every operation shares: authentication, scopes, unknown ids, envelopes, routing, check order, rate limits.

Every case is parametrised from the operations of ``openapi.yaml``; Hypothesis
generates the junk tokens, unknown ids, paths and broken bodies. The documented
checks compare the HTTP status and the documented code (a ``code`` anywhere in
the answer: where it sits is D4, which the assumed envelope checks pin down).
``error.message`` is free text and never compared (D17). Comments answer in their
own style (D12): no ``error`` object, so only ``success: false`` and a message.

Requests that must be refused are sent against records that exist and with a body
built from the tenant's own records (``records.valid_body``), so that only the
property under test is wrong (the order of checks is D6 and has checks of its own).
Ids that must name no record are ones the tenant's own lists do not show, next to
its own ids or far from them: ids may be any positive integers, shared across
tenants or not (D19).
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests import contract, records
from contract_tests.plugin import Api
from contract_tests.reader import ContractOperation as Operation
from contract_tests.target import Control, TenantHandle

OPS: list[Operation] = list(contract.spec().operations.values())
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROUTES: dict[str, dict[str, Operation]] = {}
for _op in OPS:
    ROUTES.setdefault(_op.path, {})[_op.method] = _op

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
DETAILED_CODES = frozenset({"VALIDATION_ERROR", "FEATURE_LIMIT_EXCEEDED", "INVALID_CODE", "RATE_LIMIT_EXCEEDED"})
STATUS_OF = {"INVALID_JSON": 400, "UNAUTHORIZED": 401, "INSUFFICIENT_SCOPE": 403, "NOT_FOUND": 404,
             "METHOD_NOT_ALLOWED": 405, "VALIDATION_ERROR": 422, "RATE_LIMIT_EXCEEDED": 429}
JSON_HEADERS = {"Content-Type": "application/json"}
TOKEN_CHARS = string.ascii_letters + string.digits + "-._~+/="
ID_CHARS = string.ascii_letters + string.digits + "-_~"


# --- the spec, as these checks see it -----------------------------------------------------------


def is_comments(op: Operation) -> bool:
    return op.path.startswith("/comments")


def sends(op: Operation, makes_path_record: bool = True) -> bool:
    """Whether a check of ``op`` may send a WhatsApp message: a send operation, or (when the check makes the
    record its path names) a chat or message, which only sending creates."""
    sending = op.method == "POST" and (op.path.startswith("/messages/") or op.path in ("/auth/send-otp", "/auth/resend"))
    return sending or (makes_path_record and ("{mobile}" in op.path or op.path == "/messages/{id}"))


def json_body(api: Api, tenant: TenantHandle, op: Operation) -> dict | None:
    """A JSON body that keeps every rule on this tenant (its own ids and template names), or None."""
    return records.valid_body(api, tenant, op.operation_id) if "application/json" in op.bodies else None


def example_text(op: Operation) -> str:
    """The spec's example body as text: only a shape to cut into malformed JSON (its values never matter)."""
    return json.dumps(contract.example_body(op) if "application/json" in op.bodies else {"a": 1})


def has_required_body_field(op: Operation) -> bool:
    return any(field.required for field in op.body_fields.values())


def op_documented(op: Operation) -> bool:
    """Whether the docs give the operation itself (some are only named in the docs' sidebar, D1)."""
    return str(op.raw.get("x-provenance", "")).startswith("documented")


def scope_documented(op: Operation) -> bool:
    return op_documented(op) and str(op.raw.get("x-scope-provenance", "")).startswith("documented")


def cases(ops: list[Operation], documented: Callable[[Operation], bool] | bool, makes_path_record: bool = True) -> list:
    params = []
    for op in ops:
        is_documented = documented(op) if callable(documented) else documented
        marks = [pytest.mark.documented if is_documented else pytest.mark.assumed, pytest.mark.operation(op.operation_id)]
        if sends(op, makes_path_record):
            marks.append(pytest.mark.sends)
        params.append(pytest.param(op, id=op.operation_id, marks=marks))
    return params


SCOPED = [op for op in OPS if op.scopes]
WITH_ID = [op for op in OPS if "{id}" in op.path]
WITH_PATH_RECORD = [op for op in OPS if "{" in op.path]
JSON_OPS = [op for op in OPS if "application/json" in op.bodies]
PLAIN_GETS = [op for op in OPS if op.method == "GET" and "{" not in op.path and op.scopes]
ID_GETS = [op for op in WITH_ID if op.method == "GET" and op.scopes]


# --- requests -----------------------------------------------------------------------------------


def existing_request(api: Api, tenant: TenantHandle, op: Operation) -> tuple[str, dict | None]:
    """A path naming records that exist, and a valid body of the tenant: a request only the token can spoil."""
    return records.path_for(api, tenant, op.path), json_body(api, tenant, op)


def collection_of(op: Operation) -> str:
    return "/" + op.path.strip("/").split("/")[0]


def own_keys(api: Api, op: Operation) -> set[str]:
    """Every id the tenant's own list shows for the record in the path (templates: the WhatsApp id, D8)."""
    if "{mobile}" in op.path:
        return set()  # no operation lists chats
    collection = collection_of(op)
    key = "template_id" if collection == "/templates" else "id"
    return {str(item[key]) for item in records.listed(api, collection)}


def unknown_mobile() -> str:
    """A 15-digit mobile no check sends to (they use 12 digits), so no chat has it."""
    return str(10**14 + secrets.randbelow(9 * 10**14))


def next_unknown_id(own: set[str]) -> str:
    """The id right after the tenant's highest: no record of this tenant, maybe one of another (still 404, D8)."""
    return str(max((int(key) for key in own if key.isdigit()), default=0) + 1)


def fill(template: str, value: str) -> str:
    """The path with its one parameter ({id} or {mobile}) set to ``value``, percent-encoded."""
    return re.sub(r"\{\w+\}", quote(value, safe=""), template)


def literal_siblings(template: str) -> set[str]:
    """Literal segments that take the place of this template's parameter in another path (``batch``, ``sync``)."""
    if "{" not in template:
        return set()
    head, tail = template.split("{")[0], template.split("}")[-1]
    middles = {p[len(head):len(p) - len(tail)] for p in ROUTES if p.startswith(head) and p.endswith(tail)}
    return {m for m in middles if m and not set(m) & set("/{}")}


def authorization_headers(value: str | None) -> dict[str, str]:
    return {} if value is None else {"Authorization": value}


def body_kwargs(content: bytes | None) -> dict[str, Any]:
    return {} if content is None else {"content": content, "headers": JSON_HEADERS}


# --- strategies ---------------------------------------------------------------------------------

# The prefix keeps Hypothesis from offering a real token it found among the constants of the code it runs.
junk_tokens = st.text(alphabet=TOKEN_CHARS, max_size=80).map(lambda text: f"junk.{text}")


def near_misses(valid_token: str) -> st.SearchStrategy[str]:
    """The valid token cut short, lengthened, with one character changed, or with the case of one letter or of
    all of them swapped (a token compared under a case-insensitive collation would pass)."""
    cut = st.integers(0, len(valid_token) - 1).map(lambda n: valid_token[:n])
    longer = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=4).map(lambda extra: valid_token + extra)
    changed = st.integers(0, len(valid_token) - 1).map(
        lambda n: valid_token[:n] + ("A" if valid_token[n] != "A" else "B") + valid_token[n + 1:])
    letters = [n for n, c in enumerate(valid_token) if c.swapcase() != c]
    recased = st.sampled_from(letters).map(
        lambda n: valid_token[:n] + valid_token[n].swapcase() + valid_token[n + 1:]) if letters else st.nothing()
    swapped = st.just(valid_token.swapcase())
    return st.one_of(cut, longer, changed, recased, swapped).filter(lambda token: bool(token) and token != valid_token)


def bad_authorizations(valid_token: str) -> st.SearchStrategy[str | None]:
    """No header, a malformed one, an unknown bearer token, or the valid token under a wrong scheme."""
    return st.one_of(
        st.none(),
        st.one_of(junk_tokens, near_misses(valid_token)).map(lambda token: f"Bearer {token}"),
        st.sampled_from(["", "Bearer", "Basic x", "Basic dXNlcjpwYXNz", "Token", "Bearer\tjunk"]),
        st.sampled_from(["Basic", "Token", "JWT", "Bearer:", "Bearer-"]).map(lambda scheme: f"{scheme} {valid_token}"),
        st.just(valid_token),
        st.just(f"Bearer{valid_token}"),
    )


def unknown_ids(op: Operation, own: set[str], near: bool = True) -> st.SearchStrategy[str]:
    """Ids the tenant's own list does not show; for Comments, 12-15 digit mobiles without a chat.

    Far ids (a million past the tenant's highest, below 2**53 so every JSON reader keeps them exact) name no
    record of anyone. Near ids (just above its highest, in the gaps between its ids, anywhere in 32 bits) may be
    another tenant's records, which D8 makes missing ones too.
    """
    if "{mobile}" in op.path:
        return st.integers(10**11, 10**15 - 1).map(str)
    top = int(next_unknown_id(own)) - 1
    far = st.integers(top + 10**6, 2**53 - 1)
    candidates = st.one_of(st.integers(top + 1, top + 1_000), st.integers(1, 2**31 - 1), far) if near else far
    return candidates.map(str).filter(lambda key: key not in own)


def misspellings(real_id: str) -> list[str]:
    """An existing record's id written as something that is not a positive integer: still no record (D6)."""
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    # No trailing space: a PAD SPACE collation may rightly equate "1000 " with a string template id "1000".
    return [f"{real_id}abc", f"+{real_id}", f"-{real_id}", f" {real_id}", f"{real_id}e0",
            real_id.translate(digits), real_id.translate(wide), f"{real_id}²"]


def odd_ids(op: Operation, real_id: str, own: set[str]) -> st.SearchStrategy[str]:
    """Ids that are not positive integers: zero, negatives, words, non-ASCII text, misspellings of ``real_id``
    (none of them an id the tenant has: template ids are strings, D8)."""
    literals = literal_siblings(op.path)
    words = st.text(alphabet=ID_CHARS, min_size=1, max_size=24)
    unicode = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs"), blacklist_characters="/\\.%?#"),
                      min_size=1, max_size=8)
    return st.one_of(st.sampled_from(misspellings(real_id)), st.integers(-10**9, 0).map(str), words, unicode).filter(
        lambda text: not (text.isascii() and text.isdigit()) and text not in literals and text not in own | {real_id}
    )


def not_json_objects(op: Operation) -> st.SearchStrategy[bytes]:
    """Malformed JSON, or JSON that is not an object (arrays included): 400 INVALID_JSON (D5)."""
    example = example_text(op)

    def breaks(text: str) -> bool:
        if not text.strip():
            return False  # an empty body is "no body", not malformed JSON
        try:
            return not isinstance(json.loads(text), dict)
        except ValueError:
            return True

    values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                       st.lists(st.integers(), max_size=3), st.just(f"[{example}]").map(json.loads))
    return st.one_of(
        values.map(json.dumps),
        st.integers(1, len(example) - 1).map(lambda cut: example[:cut]),
        st.text(min_size=1, max_size=30),
    ).filter(breaks).map(str.encode)


def bad_bodies(op: Operation) -> st.SearchStrategy[bytes | None]:
    """Bodies that fail the body checks: malformed or non-object JSON, or an object missing required fields."""
    if "application/json" not in op.bodies:
        return st.none()
    broken = not_json_objects(op)
    return st.one_of(broken, st.just(b"{}")) if has_required_body_field(op) else broken


def path_segments() -> st.SearchStrategy[str]:
    return st.text(alphabet=string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=12)


def unknown_paths() -> st.SearchStrategy[str]:
    """Paths under the base URL that match no path of the spec: random ones and known ones with a segment more."""
    known = st.sampled_from(sorted(ROUTES)).map(lambda template: fill(template, "1"))
    random_paths = st.lists(path_segments(), min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
    longer = st.tuples(known, path_segments()).map(lambda pair: f"{pair[0]}/{pair[1]}")
    return st.one_of(random_paths, longer).filter(
        lambda path: contract.router().match(path) is None and not path.startswith("/comments")
    )


# --- envelope assertions ----------------------------------------------------------------------


def codes_in(node: Any) -> list[str]:
    """Every string under a key named ``code``, at any depth: the docs give codes, not where they sit (D4 does)."""
    if isinstance(node, list):
        return [code for item in node for code in codes_in(item)]
    if not isinstance(node, dict):
        return []
    found = [value for key, value in node.items() if key == "code" and isinstance(value, str)]
    return found + [code for value in node.values() for code in codes_in(value)]


def expect(response: httpx.Response, op: Operation, status: int, code: str) -> None:
    """The documented part of an error: the status, and the code outside Comments (compared exactly, D10);
    never the wording of a message (D17)."""
    assert response.status_code == status, (
        f"{op.method} {op.path}: expected {status} {code}, got {response.status_code}: {response.text}"
    )
    if is_comments(op):
        return
    found = codes_in(response.json())
    assert code in found, f"{op.operation_id}: expected code {code}, got {found}: {response.text}"


def assert_request_id(response: httpx.Response, body: dict, comments_style: bool) -> None:
    """D2: the X-Request-Id header is a uuid4 equal to meta.request_id; meta.timestamp is second-precision UTC."""
    request_id = response.headers.get("X-Request-Id", "")
    assert UUID4.match(request_id), f"X-Request-Id {request_id!r} is not a uuid4"
    if comments_style:
        assert "meta" not in body, f"Comments answers carry no meta (D12): {body}"
        return
    meta = body["meta"]
    assert meta["request_id"] == request_id, f"meta.request_id {meta['request_id']!r} != X-Request-Id {request_id!r}"
    assert TIMESTAMP.match(meta["timestamp"]), f"meta.timestamp {meta['timestamp']!r} is not ISO 8601 +00:00"


def assert_rate_headers(response: httpx.Response) -> tuple[int, int]:
    """D11: an authenticated answer carries X-RateLimit-Limit and X-RateLimit-Remaining, as integers."""
    limit, remaining = (response.headers.get(name, "") for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining"))
    assert limit.isdigit() and remaining.isdigit(), f"rate-limit headers missing or not integers: {dict(response.headers)}"
    assert int(remaining) <= int(limit)
    return int(limit), int(remaining)


def assert_no_rate_headers(response: httpx.Response) -> None:
    leaked = [name for name in response.headers if name.lower().startswith("x-ratelimit")]
    assert not leaked, f"a routing error carries rate-limit headers (D6): {leaked}"


def assert_field_messages(details: Any) -> None:
    assert isinstance(details, dict) and details, f"validation details must map fields to messages: {details!r}"
    for name, messages in details.items():
        assert isinstance(messages, list) and messages, f"{name}: {messages!r}"
        assert all(isinstance(m, str) and m for m in messages), f"{name}: {messages!r}"


def assert_error_envelope(response: httpx.Response, code: str, comments_style: bool, authenticated: bool) -> None:
    """D4 (D12 for Comments): the shape every error answer shares."""
    assert response.status_code == STATUS_OF.get(code, response.status_code), response.text
    body = response.json()
    assert body.get("success") is False, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert_request_id(response, body, comments_style)
    if authenticated:
        assert_rate_headers(response)
    if comments_style:
        assert set(body) <= {"success", "message", "errors"}, f"Comments errors are flat (D12): {body}"
        assert ("errors" in body) == (response.status_code == 422), body
        if "errors" in body:
            assert_field_messages(body["errors"])
        return
    error = body["error"]
    assert error["code"] == code and UPPER_SNAKE.match(error["code"]), body
    assert error["message"] == body["message"], f"message must repeat error.message (D4): {body}"
    assert ("details" in error) == (code in DETAILED_CODES), f"details only for {sorted(DETAILED_CODES)} (D4): {body}"
    if code == "VALIDATION_ERROR":
        assert_field_messages(error["details"])


def assert_success_envelope(response: httpx.Response, op: Operation) -> None:
    """D2 (D12 for Comments): success, the operation's message, data, request id, timestamp, rate-limit headers."""
    assert response.status_code == op.success_status, response.text
    body = response.json()
    assert body.get("success") is True, body
    assert isinstance(body.get("message"), str) and body["message"], body
    if str(op.raw.get("x-success-message-provenance", "")).startswith("documented"):
        assert body["message"] == op.success_message, body
    assert "data" in body, body
    assert_request_id(response, body, is_comments(op))
    assert_rate_headers(response)


def assert_routing_error(response: httpx.Response, code: str, comments_style: bool) -> None:
    assert response.status_code == STATUS_OF[code], f"expected {STATUS_OF[code]} {code}: {response.status_code} {response.text}"
    assert_error_envelope(response, code, comments_style, authenticated=False)
    assert_no_rate_headers(response)


def assert_allow(response: httpx.Response, allowed: set[str], sent: str) -> None:
    listed = {m.strip().upper() for m in response.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed <= listed and sent not in listed, f"Allow {listed} must list {sorted(allowed)}, not {sent} (D6)"


# --- 401 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", cases(OPS, op_documented))
def test_missing_malformed_or_unknown_token_is_401(target, api, tenant, op):
    """Without a valid ``Authorization: Bearer <token>`` every operation answers 401 UNAUTHORIZED.

    documented: "401 UNAUTHORIZED Invalid or missing API token" on the endpoint pages, the Bearer scheme on the
    Authentication page, "Token missing or invalid" on the Comments pages (no code there, D12); assumed (D1) for
    the operations the docs only name in their sidebar.
    """
    path, body = existing_request(api, tenant, op)

    @given(authorization=bad_authorizations(tenant.token))
    def check(authorization):
        response = target.request(op.method, path, headers=authorization_headers(authorization), json=body)
        expect(response, op, 401, "UNAUTHORIZED")

    check()


# --- 403 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", cases(SCOPED, scope_documented))
def test_token_lacking_the_scope_is_403(api, tenant, token_without, op):
    """A valid token without the operation's scope gets 403 INSUFFICIENT_SCOPE.

    documented (the scope named on the endpoint page; code on every page) or assumed (D7) where the scope is guessed
    (or D1, where the operation is only named in the docs' sidebar).
    """
    path, body = existing_request(api, tenant, op)
    for scope in op.scopes:
        expect(api.request(op.method, path, json=body, token=token_without(scope)), op, 403, "INSUFFICIENT_SCOPE")


@pytest.mark.parametrize("op", cases(SCOPED, False))
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
            assert response.status_code != 401 and not refused, f"{sorted(scopes)}: {response.status_code} {response.text}"

    check()


@pytest.fixture
def scopeless_token(request: pytest.FixtureRequest, control: Control | None, tenant: TenantHandle) -> str:
    """A valid token of the tenant with no scope at all."""
    if control is not None and tenant.tenant_id is not None:
        return control.new_token(tenant.tenant_id, [])
    limited = request.config.getoption("--limited-token")
    if not limited:
        pytest.skip("needs --limited-token (a valid token with no scopes) on a target without the control API")
    return limited


@pytest.mark.parametrize("op", cases([op for op in OPS if is_comments(op)], False))
def test_comments_need_no_scope(api, tenant, scopeless_token, op):
    """Any valid token, even one without scopes, may use the Comments endpoints.

    assumed (D7: "Comments need a valid token and no scope"; the docs name none).
    """
    path, body = existing_request(api, tenant, op)
    response = api.request(op.method, path, json=body, token=scopeless_token)
    assert response.status_code == op.success_status, response.text


# --- 404 for the record in the path -----------------------------------------------------------


def not_found_documented(op: Operation) -> bool:
    """Unknown ids are documented 404s of documented operations; with a body, that the id is judged first is D6."""
    return op_documented(op) and not op.bodies


@pytest.mark.parametrize("op", cases(WITH_PATH_RECORD, not_found_documented, makes_path_record=False))
def test_unknown_id_is_404(api, tenant, op):
    """An id (or a chat mobile) that names no record gets 404 NOT_FOUND: ids far beyond the tenant's own.

    documented ("404 NOT_FOUND ... not found" on the Get/Update/Delete pages; "Chat conversation not found" on the
    Comments pages); assumed (D6) for operations with a body (a valid body of the tenant is sent along), and (D1,
    D8) for the operations the docs only name in their sidebar.
    """
    body = json_body(api, tenant, op)

    @given(record_id=unknown_ids(op, own_keys(api, op), near=False))
    def check(record_id):
        expect(api.request(op.method, fill(op.path, record_id), json=body), op, 404, "NOT_FOUND")

    check()


@pytest.mark.parametrize("op", cases(WITH_ID, False, makes_path_record=False))
def test_ids_next_to_the_tenants_own_are_404(api, tenant, op):
    """An id the tenant's own list does not show is 404 NOT_FOUND however close it is to the tenant's ids: the
    one after its highest, those in the gaps between them, any 32-bit id (each maybe another tenant's record).

    assumed (D8: a record of another tenant is indistinguishable from a missing one; D19: ids are any positive
    integers, with gaps, shared across tenants or not).
    """
    body = json_body(api, tenant, op)
    own = own_keys(api, op)

    @given(record_id=unknown_ids(op, own, near=True))
    def check(record_id):
        expect(api.request(op.method, fill(op.path, record_id), json=body), op, 404, "NOT_FOUND")

    check()


@pytest.mark.parametrize("op", cases(WITH_ID, False))
def test_non_numeric_or_non_positive_id_is_404(api, tenant, op):
    """An id that is not a positive integer is 404 NOT_FOUND, even when it spells an existing record's id with a
    sign, a suffix, spaces or non-ASCII digits (template ids: any string no template has).

    assumed (D6: "a non-numeric id is a 404 too"; D8: ids are positive integers).
    """
    path, body = existing_request(api, tenant, op)
    real_id = path.split("/")[2]

    @given(record_id=odd_ids(op, real_id, own_keys(api, op)))
    def check(record_id):
        expect(api.request(op.method, fill(op.path, record_id), json=body), op, 404, "NOT_FOUND")

    check()


def foreign_path(api: Api, tenant: TenantHandle, other_api: Api, other: TenantHandle, op: Operation) -> str | None:
    """A path naming a record of the other tenant whose id our tenant does not have, or None.

    Ours is made first, theirs right after: where ids are shared across tenants, theirs is then the id next to
    one of ours (the nearest miss); where they are per tenant, records are made until one has an id ours lacks.
    """
    if "{mobile}" in op.path:
        return records.path_for(other_api, other, op.path)
    if collection_of(op) == "/templates":
        theirs = sorted({str(item["template_id"]) for item in records.listed(other_api, "/templates")}
                        - own_keys(api, op))
        return fill(op.path, theirs[0]) if theirs else None
    records.path_for(api, tenant, op.path)
    ours = own_keys(api, op)
    for _ in range(10):
        path = records.path_for(other_api, other, op.path)
        if path.split("/")[2] not in ours:
            return path
    return None


# Collections whose records the suite names uniquely, so that no record of ours can equal one of theirs.
NAMED_COLLECTIONS = ("/contacts", "/groups", "/sources", "/statuses")


def assert_not_listed(api: Api, collection: str, theirs: dict) -> None:
    """No item of our list is their record: equal on every field both show (ids alone may coincide, D19)."""
    leaked = [item for item in records.listed(api, collection)
              if all(item[key] == theirs[key] for key in set(item) & set(theirs))]
    assert not leaked, f"{collection} lists another tenant's record (D8): {leaked}"


@pytest.mark.parametrize("op", cases(WITH_PATH_RECORD, False))
def test_another_tenants_record_is_404(target, api, tenant, needs_control, op):
    """A record of another tenant is indistinguishable from a missing one: 404 NOT_FOUND, and our own list of
    that collection does not show it.

    assumed (D8); the other tenant reads its own record (GET operations) to show the id is real.
    """
    other = needs_control.new_tenant(rate_limit_per_minute=1_000_000)
    other_api = Api(target, other.token)
    path = foreign_path(api, tenant, other_api, other, op)
    if path is None:
        pytest.skip("the two tenants share every template id (WhatsApp ids), so no foreign-only id exists")
    if op.method == "GET":
        answer = other_api.get(path)
        assert answer.status_code == 200, f"the other tenant cannot read its own {path}"
        if collection_of(op) in NAMED_COLLECTIONS:
            assert_not_listed(api, collection_of(op), answer.json()["data"])
    expect(api.request(op.method, path, json=json_body(api, tenant, op)), op, 404, "NOT_FOUND")


# --- envelopes ----------------------------------------------------------------------------------


def provoked_errors(target, api: Api, tenant: TenantHandle, token_without, op: Operation) -> Iterator[tuple[str, httpx.Response, bool]]:
    """(expected code, answer, authenticated?) for each error the operation can cheaply be driven into."""
    path, body = existing_request(api, tenant, op)
    yield "UNAUTHORIZED", target.request(op.method, path, json=body), False
    yield "UNAUTHORIZED", target.request(op.method, path, token="unknown-" + tenant.token, json=body), False
    if op.scopes:
        yield "INSUFFICIENT_SCOPE", api.request(op.method, path, json=body, token=token_without(op.scopes[0])), True
    if "{" in op.path:
        unknown = unknown_mobile() if "{mobile}" in op.path else next_unknown_id(own_keys(api, op))
        yield "NOT_FOUND", api.request(op.method, fill(op.path, unknown), json=body), True
    if "application/json" in op.bodies:
        yield "INVALID_JSON", api.request(op.method, path, **body_kwargs(b"{")), True
        if has_required_body_field(op):
            yield "VALIDATION_ERROR", api.request(op.method, path, json={}), True
    if op.sort_fields:
        yield "VALIDATION_ERROR", api.request(op.method, path, params={"per_page": 0}), True


@pytest.mark.parametrize("op", cases(OPS, False))
def test_error_envelope_shape(target, api, tenant, token_without, op):
    """Every error answer is the D4 envelope (Comments: D12's flat success/message[/errors]).

    assumed (D4, D12, D2, D11): success false, message == error.message, UPPER_SNAKE code, details only for the
    codes D4 lists, meta.request_id a uuid4 equal to X-Request-Id, second-precision +00:00 timestamp, and the
    rate-limit headers on authenticated errors.
    """
    for code, response, authenticated in provoked_errors(target, api, tenant, token_without, op):
        assert_error_envelope(response, code, is_comments(op), authenticated)


@pytest.mark.parametrize("op", cases([op for op in OPS if op.method == "GET"], False))
def test_success_envelope_shape(api, tenant, op):
    """A successful read is the D2 envelope: success true, message, data, meta (request_id == X-Request-Id,
    timestamp), rate-limit headers; Comments are flat and without meta (D12).

    assumed (D2, D11, D12); documented success messages are compared exactly.
    """
    path, _ = existing_request(api, tenant, op)
    assert_success_envelope(api.get(path), op)


# --- routing ------------------------------------------------------------------------------------


@pytest.mark.assumed
def test_unknown_path_is_404(target, tenant):
    """A path the API does not have is 404 NOT_FOUND before any token check, without rate-limit headers.

    assumed (D5, D6).
    """

    @given(path=unknown_paths(), method=st.sampled_from(HTTP_METHODS), token=st.sampled_from([None, tenant.token, "junk"]))
    def check(path, method, token):
        assert_routing_error(target.request(method, path, token=token), "NOT_FOUND", comments_style=False)

    check()


def wrong_method_cases() -> list:
    return [pytest.param(template, id=template, marks=pytest.mark.assumed)
            for template in sorted(ROUTES) if set(HTTP_METHODS) - set(ROUTES[template])]


@pytest.mark.parametrize("template", wrong_method_cases())
def test_wrong_method_is_405(target, tenant, template):
    """A known path with a method it lacks is 405 METHOD_NOT_ALLOWED with an Allow header, before the token check,
    without rate-limit headers (Comments: D12 style).

    assumed (D5, D6).
    """
    allowed = set(ROUTES[template])
    comments_style = template.startswith("/comments")

    @given(method=st.sampled_from(sorted(set(HTTP_METHODS) - allowed)), number=st.integers(1, 10**12),
           token=st.sampled_from([None, tenant.token, "junk"]))
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
            found += [pytest.param(literal, method, id=f"{method} {literal}", marks=pytest.mark.assumed)
                      for method in sorted(set(methods) - set(ROUTES[literal]))]
    return found


@pytest.mark.parametrize(("path", "method"), literal_cases())
def test_literal_segment_beats_parameter(api, path, method):
    """``GET /contacts/batch`` is the batch path with a wrong method (405), not a contact called "batch".

    assumed (D6).
    """
    response = api.request(method, path)
    assert_routing_error(response, "METHOD_NOT_ALLOWED", comments_style=False)
    assert_allow(response, set(ROUTES[path]), method)


@pytest.mark.parametrize("op", cases(JSON_OPS, False))
def test_malformed_or_non_object_json_is_400(api, tenant, op):
    """A body that is not JSON, or JSON that is not an object (an array, a string, ...), is 400 INVALID_JSON.

    assumed (D5).
    """
    path, _ = existing_request(api, tenant, op)

    @given(content=not_json_objects(op))
    def check(content):
        response = api.request(op.method, path, **body_kwargs(content))
        expect(response, op, 400, "INVALID_JSON")
        assert_error_envelope(response, "INVALID_JSON", is_comments(op), authenticated=True)

    check()


# --- order of checks ----------------------------------------------------------------------------


@pytest.mark.parametrize("op", cases([op for op in OPS if op.bodies or "{" in op.path], False, makes_path_record=False))
def test_checks_come_in_d6_order(target, api, tenant, token_without, op):
    """With several faults at once the earliest check of D6 answers: a bad token (401) beats a missing scope,
    an unknown id and a bad body; a missing scope (403) beats an unknown id and a bad body; an unknown id (404)
    beats a bad body.

    assumed (D6).
    """
    lacking = token_without(op.scopes[0]) if op.scopes else None
    own = own_keys(api, op) if "{id}" in op.path else set()

    @given(authorization=bad_authorizations(tenant.token), content=bad_bodies(op), record_id=unknown_ids(op, own))
    def check(authorization, content, record_id):
        path = fill(op.path, record_id) if "{" in op.path else op.path
        levels = [("UNAUTHORIZED", authorization_headers(authorization), False)]
        if lacking is not None:
            levels.append(("INSUFFICIENT_SCOPE", {"Authorization": f"Bearer {lacking}"}, True))
        if "{" in op.path:
            levels.append(("NOT_FOUND", {"Authorization": f"Bearer {tenant.token}"}, True))
        for code, headers, authenticated in levels:
            kwargs = body_kwargs(content)
            response = target.request(op.method, path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)
            expect(response, op, STATUS_OF[code], code)
            assert_error_envelope(response, code, is_comments(op), authenticated)

    check()


# --- per-token rate limit -------------------------------------------------------------------------


def limited_token(control: Control, tenant: TenantHandle, limit: int, lacking: Operation | None = None) -> str:
    scopes = [s for s in contract.all_scopes() if lacking is None or s not in lacking.scopes]
    return control.new_token(tenant.tenant_id, scopes, rate_limit_per_minute=limit)


def call(target, token: str, op: Operation, record_id: str | None = None) -> httpx.Response:
    path = fill(op.path, record_id) if record_id is not None else op.path
    return target.request(op.method, path, token=token, honour_429=False)


def assert_rate_limited(response: httpx.Response, limit: int) -> int:
    """D11/D4: a 429 with Retry-After >= 1, details.retry_after, and the limit headers at zero. Returns Retry-After."""
    assert response.status_code == 429, f"expected 429 after {limit} calls: {response.status_code} {response.text}"
    assert_error_envelope(response, "RATE_LIMIT_EXCEEDED", comments_style=False, authenticated=True)
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit() and int(retry_after) >= 1, f"Retry-After {retry_after!r}"
    details = response.json()["error"]["details"]
    assert isinstance(details.get("retry_after"), int) and details["retry_after"] >= 1, details
    assert abs(details["retry_after"] - int(retry_after)) <= 1, (details, retry_after)
    assert assert_rate_headers(response) == (limit, 0)
    return int(retry_after)


limits = st.integers(3, 8)


@pytest.mark.rate_limits
@pytest.mark.documented
def test_calls_beyond_the_token_limit_get_429(target, needs_control, tenant):
    """A token with rate_limit_per_minute N gets N answers within a minute, then 429 RATE_LIMIT_EXCEEDED.

    documented (Get Plan Limits: the per-token limit; 429 RATE_LIMIT_EXCEEDED on the endpoint pages).
    """

    @given(limit=limits, op=st.sampled_from(PLAIN_GETS))
    def check(limit, op):
        token = limited_token(needs_control, tenant, limit)
        for _ in range(limit):
            assert call(target, token, op).status_code == 200
        response = call(target, token, op)
        assert response.status_code == 429 and "RATE_LIMIT_EXCEEDED" in codes_in(response.json()), response.text

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
