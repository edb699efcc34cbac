"""Property: breaking one rule of one field yields 422 VALIDATION_ERROR with that rule's message under that field.

Every (operation, field, rule) with a message in ``openapi.yaml`` is a case
(``contract.rule_cases``, which leaves out the mock's own rules, D19);
Hypothesis generates the violating values. Each request starts from a body that
is valid on the tenant under test (``records.valid_body``: its own sources,
statuses, contacts and templates), so the answer isolates the broken rule.

Fairness (docs/decisions.md):
- D16: an empty value (``null``, ``""``, blanks, ``[]``, ``{}``) is a field not sent, so no rule but
  ``required`` is ever broken with one, and no value relies on a server keeping edge blanks (they may be
  trimmed); empty values of a required field get its required message (assumed, D16).
- D18: the suite sends at most 100 items and expects no batch cap.
- D15/D17: documented per-field messages are compared exactly, assumed ones only for being present strings.
- A check is documented only when all it asserts is documented: a value that cannot break its rule without
  breaking another leans on D4 (every failing rule reports), and a JSON body where the docs take a form is D5's.
Near misses (one past each bound, enum values off by case or one character, values one character away from
a pattern) sit next to the far ones, and values at the bound must keep the rule.
"""

from __future__ import annotations

import copy
import re
import string
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests import contract, records
from contract_tests.expect import Located, field_errors, locate
from contract_tests.operations import sends

SPEC = contract.spec()
MAX_SENT_ITEMS = 100  # D18: the suite never sends more items than this, and expects no cap
BROKEN_RULES = tuple(rule for rule in contract.SCHEMA_RULES if rule != "required")  # a value breaks them
# Printable text without blanks at its edges: a server may trim (D16), and must still see the same value.
INNER = string.ascii_letters + string.digits + "!#$%&*+,-./:;<=>?@[]^_{|}~"


def filled(alphabet: str = INNER, min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """Non-blank text with no blank at either edge, so trimming (D16) leaves it as it is."""
    return st.text(alphabet=alphabet + " ", min_size=min_size, max_size=max_size).filter(
        lambda s: s.strip() == s and bool(s)
    )


NOT_EMPTY_LIST = st.lists(st.integers(), min_size=1, max_size=2)
# Values of the wrong JSON type, never empty (D16). Arrays and objects are never offered for each other: a PHP
# server cannot tell ``{}`` from ``[]`` and takes an object where an array is asked.
WRONG_TYPE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.one_of(
        st.integers(),
        st.booleans(),
        NOT_EMPTY_LIST,
        st.dictionaries(filled(string.ascii_letters, max_size=3), st.integers(), min_size=1, max_size=1),
    ),
    "integer": st.one_of(
        st.sampled_from(["12", "1", "0"]),
        filled(),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
    ),
    "number": st.one_of(st.sampled_from(["1.5", "12"]), filled(), st.booleans()),
    "boolean": st.one_of(st.sampled_from(["true", "false"]), st.integers(min_value=2), filled()),
    "array": st.one_of(filled(), st.integers(), st.booleans()),
    "object": st.one_of(filled(), st.integers(), st.booleans()),
}


# --- cases ----------------------------------------------------------------------------------------------------


def field_of(case: contract.RuleCase):
    return SPEC.operation(case.operation_id).body_fields[case.field]


def breakable(case: contract.RuleCase) -> bool:
    """Whether the rule can be broken with a value that is not empty (D16) and with at most 100 items (D18)."""
    schema = field_of(case).schema
    if case.rule == "minItems":
        return schema["minItems"] > 1
    if case.rule == "maxItems":
        return schema["maxItems"] + 1 <= MAX_SENT_ITEMS
    return True


def isolated(case: contract.RuleCase) -> bool:
    """Whether a value can break this rule alone; else the check leans on D4's "every failing rule reports"."""
    schema = field_of(case).schema
    if case.rule in ("maxLength", "minLength") and "pattern" in schema:
        return bool(
            re.fullmatch(
                schema["pattern"], "9" * (schema[case.rule] + (1 if case.rule == "maxLength" else -1))
            )
        )
    return True


def form_first(operation_id: str) -> bool:
    """Whether the contract takes only a multipart form (Send Media Message: JSON there is the mock's choice)."""
    return not SPEC.operation(operation_id).takes_json


def tier(case: contract.RuleCase) -> contract.Tier:
    """The tier of what the check asserts: the rule's and its message's, the operation's 422 entry's (a page without
    a 422 row gives a decided check, D4), D4's "every failing rule reports" where no value breaks the rule alone,
    and for a wrong JSON type, the tier of a JSON body there (a form carries text only)."""
    op = SPEC.operation(case.operation_id)
    rests_on = [case.tier, op.error_tier(422, "VALIDATION_ERROR")]
    if not isolated(case):
        rests_on.append("decided")
    if case.rule in ("type", "items"):
        rests_on.append(op.body_tier("application/json"))
    return contract.weakest(*rests_on)


def marks_for(operation_id: str, level: contract.Tier) -> list:
    marks = contract.tier_marks(level) + [pytest.mark.operation(operation_id)]
    return marks + ([pytest.mark.sends] if sends(SPEC.operation(operation_id)) else [])


def params(rules: tuple[str, ...], *, empty: bool = False) -> list:
    """One param per breakable case of ``rules``; ``empty``: the check rests on D16, so it is decided."""
    chosen = []
    for case in contract.rule_cases():
        level = contract.weakest("decided", tier(case)) if empty else tier(case)
        if case.rule in rules and breakable(case) and level != "mock":
            chosen.append(pytest.param(case, id=case.id, marks=marks_for(case.operation_id, level)))
    return chosen


# --- violating values -----------------------------------------------------------------------------------------


def wrong_type(kinds: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(*[WRONG_TYPE_VALUES[k] for k in kinds]).filter(
        lambda v: not any(contract_type_ok(v, k) for k in kinds)
    )


def contract_type_ok(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "array": list, "object": dict}[kind])


def digits(low: int, high: int) -> st.SearchStrategy[str]:
    """Digit strings of ``low``..``high`` characters: they keep the phone patterns, and the length in characters
    equals the length in digits (D9 counts characters; a server counting digits agrees here)."""
    return st.text(alphabet=string.digits, min_size=low, max_size=high)


def email_of_length(length: int) -> str:
    """A well-formed address of exactly ``length`` characters (labels of at most 63 characters)."""
    domain_room = length - len("ada@") - len(".com")
    labels, room = [], domain_room
    while room > 0:
        size = min(50, room if room <= 50 else room - 2)  # leave a label of two or more for the next dot
        labels.append("x" * size)
        room -= size + 1
    return "ada@" + ".".join(labels) + ".com"


def of_length(schema: dict, length: int) -> st.SearchStrategy[str]:
    """A value of exactly ``length`` characters that keeps the field's format (or digits where it has none)."""
    if schema.get("format") == "email":
        return st.just(email_of_length(length))
    if schema.get("format") == "uri":
        stem = "https://example.com/"
        return st.just(stem + "a" * max(length - len(stem), 1))
    return digits(length, length)


def beyond(schema: dict, rule: str) -> st.SearchStrategy[str]:
    """Values one or more characters past a length bound; the value right past it comes first."""
    if rule == "minLength":
        low = schema["minLength"]
        return st.one_of(of_length(schema, low - 1), digits(1, low - 1))
    high = schema["maxLength"] + 1
    lengths = st.one_of(st.just(high), st.integers(high, high + 20))
    return lengths.flatmap(lambda n: of_length(schema, n))


def near_pattern(schema: dict, sample: str) -> st.SearchStrategy[str]:
    """``sample`` (which keeps the pattern) with one character replaced by one the pattern refuses."""
    pattern = re.compile(schema["pattern"])
    swaps = st.tuples(st.integers(0, len(sample) - 1), st.sampled_from("xG.*/_a#,"))
    return swaps.map(lambda s: sample[: s[0]] + s[1] + sample[s[0] + 1 :]).filter(
        lambda v: not pattern.search(v)
    )


PATTERN_SAMPLES = {"^#[0-9A-Fa-f]{6}$": "#FF5733"}
EMAIL_NEAR_MISSES = (
    "ada@",
    "@example.com",
    "ada@@example.com",
    "ada example.com",
    "ada.example.com",
    "ada@exa mple.com",
)
URL_NEAR_MISSES = (
    "example.com/photo.jpg",
    "www.example.com/photo.jpg",
    "https//example.com/photo.jpg",
    "//example.com/photo.jpg",
)


def near_enum(members: list[str]) -> st.SearchStrategy[str]:
    """Values one step from a member: another case, one character more or less (never blank at an edge)."""
    members_set = set(members)
    variants = st.sampled_from(members).flatmap(
        lambda m: st.sampled_from([m.upper(), m.capitalize(), m + "s", m + "1", m[:-1], "x" + m])
    )
    return variants.filter(lambda v: v and v.strip() == v and v not in members_set)


def violations(case: contract.RuleCase, api, tenant) -> st.SearchStrategy[Any]:
    """Values of the field that break ``case.rule``, never empty (D16), and where possible no other rule."""
    field = field_of(case)
    schema = field.schema
    rule = case.rule
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

    if rule == "type":
        return wrong_type([t for t in field.types if t != "null"])
    if rule in ("minLength", "maxLength"):
        return beyond(schema, rule)
    if rule == "pattern":
        assert pattern is not None
        low, high = max(schema.get("minLength", 1), 1), min(schema.get("maxLength", 30), 30)
        far: st.SearchStrategy[str] = filled(min_size=low, max_size=max(high, low)).filter(
            lambda s: pattern.search(s) is None
        )
        sample = PATTERN_SAMPLES.get(schema["pattern"]) or records.unique_phone()
        return st.one_of(near_pattern(schema, sample), far)
    if rule == "format":
        near = EMAIL_NEAR_MISSES if schema["format"] == "email" else URL_NEAR_MISSES
        return st.one_of(st.sampled_from(near), filled("abcdefghij!#", max_size=20))
    if rule == "enum":
        far = filled(max_size=12).filter(lambda s: s not in schema["enum"])
        return st.one_of(near_enum(schema["enum"]), far)
    if rule == "minimum":
        bound = schema["minimum"]
        return st.one_of(st.just(bound - 1), st.integers(bound - 10_000, bound - 1))
    if rule == "maximum":
        bound = schema["maximum"]
        return st.one_of(st.just(bound + 1), st.integers(bound + 1, bound + 10_000))
    if rule in ("minItems", "maxItems"):
        count = schema["minItems"] - 1 if rule == "minItems" else schema["maxItems"] + 1
        return st.just(valid_items(case, api, tenant, count))
    if rule == "items":
        return wrong_type([t for t in field.item_types if t != "null"]).map(lambda v: [v])
    raise AssertionError(f"no strategy for {rule}")


def at_bound(case: contract.RuleCase) -> st.SearchStrategy[Any]:
    """Values exactly at the bound of ``case.rule``: they keep it."""
    schema = field_of(case).schema
    if case.rule in ("minLength", "maxLength"):
        return of_length(schema, schema[case.rule])
    return st.just(schema[case.rule])


def valid_items(case: contract.RuleCase, api, tenant, count: int) -> list:
    """``count`` distinct valid elements of an array field, from the tenant's valid body."""
    sample = base_body(case, api, tenant)[case.field][0]
    if isinstance(sample, dict):
        return [
            {key: f"{value}-{index}" if isinstance(value, str) else value for key, value in sample.items()}
            for index in range(count)
        ]
    return [sample] * count


# --- requests and answers -----------------------------------------------------------------------------------------


def variant_for(case: contract.RuleCase) -> str | None:
    """The kind of message a field applies to (``x-required-if``), so it is never checked where it may be ignored."""
    condition = field_of(case).required_if
    return condition[1][0] if condition else None


def base_body(case: contract.RuleCase, api, tenant) -> dict:
    if case.operation_id == "sendMediaMessage" and case.field == "filename":  # a filename is for documents
        return {
            **records.valid_body(api, tenant, case.operation_id),
            "media_type": "document",
            "media_url": "https://example.com/media/terms.pdf",
        }
    return records.valid_body(api, tenant, case.operation_id, variant_for(case))


KEEP, LEAVE_OUT = object(), object()


def send(api, tenant, case: contract.RuleCase, value: Any = KEEP):
    """The tenant's valid body with ``case.field`` set to ``value`` (or kept, or left out); a form where the docs
    take one."""
    op = SPEC.operation(case.operation_id)
    body = base_body(case, api, tenant)
    if value is LEAVE_OUT:
        body.pop(case.field, None)
    elif value is not KEEP:
        body[case.field] = value
    path = records.path_for(api, tenant, op, reuse=op.method != "DELETE")
    return api.request(op.method, path, **body_request(op, body))


def body_request(op, body: dict) -> dict:
    """The request's body arguments: a form where the contract takes only one (each value text), else JSON (a
    wrong type is only broken in JSON; ``tier`` leaves those cases out where JSON is not the contract's)."""
    if not op.takes_json:
        assert all(isinstance(v, str) for v in body.values()), f"a form carries text only: {body}"
        return records.form_request(body)
    return {"json": body}


def messages_under(found: Located, name: str) -> list[str]:
    """The messages of ``name`` or of its first element (``name.0``), wherever the answer maps them."""
    return [*found.messages(name), *found.messages(f"{name}.0")]


def batch_item_refused(response, case: contract.RuleCase) -> bool:
    """D18: a batch item that breaks a rule may be reported in ``data.errors`` instead of a 422."""
    partial = SPEC.operation(case.operation_id).ext("partial-items")
    if partial != case.field or not 200 <= response.status_code < 300:
        return False
    data = response.json()["data"]
    assert data["summary"]["created"] == 0 and data["summary"]["failed"] == len(data["errors"]) == 1, data
    return True


def assert_message(response, case: contract.RuleCase, message: str | None = None) -> None:
    if case.rule == "items" and batch_item_refused(response, case):
        return
    assert response.status_code == 422, (
        f"{case.id}: expected 422, got {response.status_code}: {response.text}"
    )
    messages = messages_under(field_errors(response), case.field)
    assert messages, f"{case.id}: no messages under {case.field!r} in {response.text}"
    assert all(isinstance(m, str) and m for m in messages), messages
    expected = message or case.message
    if case.message_documented:
        assert expected in messages, f"{case.id}: documented message {expected!r} not in {messages}"


def assert_kept(response, case: contract.RuleCase) -> None:
    """The rule's own message is not in the answer (other outcomes of the request are not this check's)."""
    messages = messages_under(locate(response), case.field)
    assert case.message not in messages, f"{case.id}: a value that keeps the rule got {messages}"


# --- checks ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", params(("required",)))
def test_missing_required_field_gets_its_message(api, tenant, case):
    assert_message(send(api, tenant, case, LEAVE_OUT), case)


def empty_values(case: contract.RuleCase) -> list:
    """The empty values of D16 the body can carry: a form carries only text."""
    if form_first(case.operation_id):
        return ["", "   "]
    kinds = field_of(case).types
    return ["", "   ", None] + ([[]] if "array" in kinds else []) + ([{}] if "object" in kinds else [])


@pytest.mark.parametrize("case", params(("required",), empty=True))
def test_empty_required_field_gets_its_required_message(api, tenant, case):
    """D16: ``""``, blanks, ``null`` (and ``[]`` for arrays) are not sent: the field fails ``required`` alone."""
    for value in empty_values(case):
        response = send(api, tenant, case, value)
        assert_message(response, case)
        others = [m for m in messages_under(field_errors(response), case.field) if m != case.message]
        if case.message_documented:
            assert not others, f"{case.id}: {value!r} is empty (D16) and fails only required, got {others}"


@pytest.mark.parametrize("case", params(BROKEN_RULES))
def test_broken_rule_gets_its_message(api, tenant, case):
    @given(value=violations(case, api, tenant))
    def check(value):
        assert_message(send(api, tenant, case, value), case)

    check()


@pytest.mark.parametrize("case", params(("minLength", "maxLength", "minimum", "maximum")))
def test_value_at_the_bound_keeps_the_rule(api, tenant, case):
    """The bound itself is allowed: a server off by one fails here, the one past it fails above."""

    @given(value=at_bound(case))
    def check(value):
        assert_kept(send(api, tenant, case, value), case)

    check()


def phone_length_cases() -> list:
    """Phone length rules: D9 counts the characters as sent, so spellings at the bounds are assumed checks."""
    return [
        pytest.param(case, id=case.id, marks=marks_for(case.operation_id, "decided"))
        for case in contract.rule_cases(("minLength", "maxLength"))
        if case.field == "phone"
    ]


def spelled_of_length(length: int) -> str:
    """A phone spelled "+91 9...", exactly ``length`` characters: two fewer digits than characters (D9)."""
    return "+91 " + records.unique_phone()[2:].ljust(length, "7")[: length - 4]


@pytest.mark.parametrize("case", phone_length_cases())
def test_phone_length_counts_characters_as_sent(api, tenant, case):
    """D9: "+91 999 999 9999" is 16 characters. At the bound a spelling keeps the rule; one past it breaks it."""
    bound = field_of(case).schema[case.rule]
    inside, outside = (bound, bound - 1) if case.rule == "minLength" else (bound, bound + 1)
    assert_kept(send(api, tenant, case, spelled_of_length(inside)), case)
    assert_message(send(api, tenant, case, spelled_of_length(outside)), case)


@pytest.mark.parametrize("case", params(("required",)))
def test_valid_body_never_gets_the_required_message(api, tenant, case):
    """The tenant's valid body keeps every rule, so no field of it may be reported missing."""
    assert_kept(send(api, tenant, case), case)


@dataclass(frozen=True)
class RequiredSet:
    operation_id: str
    names: tuple[str, ...]


def required_sets() -> list:
    """Operations with two or more required body fields, and those fields."""
    chosen = []
    for op in SPEC.operations.values():
        names = tuple(
            name
            for name, f in op.body_fields.items()
            if f.required and "required" in f.messages and contract.rule_tier(f.schema, "required") != "mock"
        )
        if len(names) >= 2:
            chosen.append(
                pytest.param(
                    RequiredSet(op.operation_id, names),
                    id=op.operation_id,
                    marks=marks_for(op.operation_id, "decided"),
                )
            )
    return chosen


@pytest.mark.parametrize("required", required_sets())
def test_every_failing_field_is_reported_at_once(api, tenant, required):
    """D4: all failing fields come in one 422, each with its own message; any subset of missing fields."""
    op = SPEC.operation(required.operation_id)
    path = records.path_for(api, tenant, op, reuse=op.method != "DELETE")

    @given(missing=st.sets(st.sampled_from(required.names), min_size=2))
    def check(missing):
        valid = records.valid_body(api, tenant, required.operation_id)
        response = api.request(
            op.method, path, **body_request(op, {k: v for k, v in valid.items() if k not in missing})
        )
        assert response.status_code == 422, response.text
        found = field_errors(response)
        unreported = sorted(name for name in missing if not found.reports(name))
        assert not unreported, f"missing {sorted(missing)}, not reported {unreported}: {found.field_names()}"
        for name in missing:
            field = op.body_fields[name]
            if contract.message_documented(field.schema, "required"):
                assert field.messages["required"] in found.messages(name), found.field_names()

    check()


# --- nested rules: elements of arrays of objects, reported under their dotted paths -------------------------------

NESTED_OPERATION = "sendInteractiveMessage"
# Paths into Send Interactive's body (``buttons[].id`` is ``buttons.0.id``), each with the kind of message that
# carries it (D19: fields of the other kind may be ignored) and the rule broken there.
NESTED_CASES = (
    ("button", "buttons.0.id", "required"),
    ("button", "buttons.0.title", "required"),
    ("list", "sections.0.title", "required"),
    ("list", "sections.0.rows", "required"),
    ("list", "sections.0.rows.0.id", "required"),
    ("list", "sections.0.rows.0.title", "required"),
    ("list", "sections.0.rows.0.description", "maxLength"),
)


def nested_schema(path: str) -> tuple[dict, dict]:
    """The schema at a dotted body path, and that of the object holding it (whose ``required`` lists it)."""
    names = path.split(".")
    schema = SPEC.operation(NESTED_OPERATION).body_fields[names[0]].schema
    parent: dict = {}
    for name in names[1:]:
        if name.isdigit():
            schema = schema["items"]
        else:
            parent, schema = schema, schema["properties"][name]
    return schema, parent


def nested_tier(path: str, rule: str) -> contract.Tier:
    """The rule's tier (a required listed in its object's ``required`` is the docs' "Required: Yes"), the 422 entry's,
    and D4's dotted path of a nested field."""
    schema, parent = nested_schema(path)
    rule_tier = contract.rule_tier(parent if rule == "required" else schema, rule)
    return contract.weakest(
        rule_tier, SPEC.operation(NESTED_OPERATION).error_tier(422, "VALIDATION_ERROR"), "decided"
    )


def nested_cases() -> list:
    return [
        pytest.param(
            kind, path, rule, id=f"{path}.{rule}", marks=marks_for(NESTED_OPERATION, nested_tier(path, rule))
        )
        for kind, path, rule in NESTED_CASES
    ]


def with_nested(body: dict, path: str, value: Any = LEAVE_OUT) -> dict:
    """A copy of ``body`` with the value at the dotted ``path`` left out or set."""
    changed = copy.deepcopy(body)
    *head, last = path.split(".")
    node: Any = changed
    for name in head:
        node = node[int(name)] if name.isdigit() else node[name]
    if value is LEAVE_OUT:
        del node[last]
    else:
        node[last] = value
    return changed


@pytest.mark.parametrize(("kind", "path", "rule"), nested_cases())
def test_nested_rule_is_reported_under_its_dotted_path(api, tenant, kind, path, rule):
    """Send Interactive's nested rules (documented: ``buttons[].id``/``title``, ``sections[].title``/``rows``,
    ``rows[].id``/``title`` required, ``rows[].description`` at most 72): breaking one is a 422 whose messages sit
    under the element's dotted path (D4, e.g. ``buttons.0.title``), the documented wording where the docs give one
    (D15: else present); at the bound the description keeps its rule."""
    schema, _ = nested_schema(path)
    body = records.valid_body(api, tenant, NESTED_OPERATION, kind)
    if rule == "maxLength":
        at_bound = with_nested(body, path, "d" * schema["maxLength"])
        response = api.post("/messages/interactive", json=at_bound)
        assert not locate(response).messages(path), f"{path} at its bound: {response.text}"
        broken = with_nested(body, path, "d" * (schema["maxLength"] + 1))
    else:
        broken = with_nested(body, path)
    found = field_errors(api.post("/messages/interactive", json=broken))
    messages = found.messages(path)
    assert messages, f"no messages under {path}: {found.field_names()}"
    if contract.message_documented(schema, rule):
        assert schema["x-validation-messages"][rule] in messages, messages
