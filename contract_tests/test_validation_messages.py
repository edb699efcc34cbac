"""Property: breaking one rule of one field yields 422 VALIDATION_ERROR with that rule's message under that field.

Every (operation, field, rule) with a message in ``openapi.yaml`` is a case;
Hypothesis generates the violating values. Documented messages are compared
exactly; assumed ones (D15) only for being present strings. Values that keep
the rule never produce its message.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests import contract, records

CASES = list(contract.rule_cases())
WRONG_TYPE_VALUES = {
    "string": st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), max_size=2)),
    "integer": st.one_of(st.text(min_size=1, max_size=5), st.booleans(), st.floats(allow_nan=False).filter(lambda f: f != int(f) if f == f and abs(f) < 1e15 else True)),
    "number": st.one_of(st.text(min_size=1, max_size=5), st.booleans()),
    "boolean": st.one_of(st.integers(), st.text(min_size=1, max_size=5)),
    "array": st.one_of(st.text(max_size=5), st.integers(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=1)),
    "object": st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=2)),
}


def violations(case: contract.RuleCase) -> st.SearchStrategy[Any]:
    """Values of the field that break ``case.rule`` and, where possible, no other rule."""
    field = contract.spec().operation(case.operation_id).body_fields[case.field]
    schema = field.schema
    rule = case.rule
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

    def pattern_ok(text: str) -> bool:
        return pattern is None or bool(pattern.search(text))

    if rule == "type":
        kinds = [t for t in field.types if t != "null"]
        return st.one_of(*[WRONG_TYPE_VALUES[k] for k in kinds]).filter(
            lambda v: not any(contract_type_ok(v, k) for k in kinds)
        )
    if rule == "minLength":
        # Digits keep the documented phone pattern; where a pattern cannot hold at that length, both
        # messages are due (D4) and only this rule's is looked for.
        return st.text(alphabet="0123456789", max_size=schema["minLength"] - 1)
    if rule == "maxLength":
        low = schema["maxLength"] + 1
        return st.text(alphabet="0123456789", min_size=low, max_size=low + 20)
    if rule == "pattern":
        low, high = schema.get("minLength", 1), min(schema.get("maxLength", 30), 30)
        return st.text(min_size=max(low, 1), max_size=max(high, low)).filter(lambda s: not pattern_ok(s))
    if rule == "format":
        return st.text(alphabet="abcdefghij !#", min_size=1, max_size=20)
    if rule == "enum":
        return st.text(max_size=12).filter(lambda s: s not in schema["enum"])
    if rule == "minimum":
        return st.integers(max_value=schema["minimum"] - 1, min_value=schema["minimum"] - 10_000)
    if rule == "maximum":
        return st.integers(min_value=schema["maximum"] + 1, max_value=schema["maximum"] + 10_000)
    if rule == "minItems":
        return st.just([])
    if rule == "maxItems":
        sample = valid_item(case)
        return st.integers(schema["maxItems"] + 1, schema["maxItems"] + 3).map(lambda n: [sample] * n)
    if rule == "items":
        kinds = [t for t in field.item_types if t != "null"]
        wrong = st.one_of(*[WRONG_TYPE_VALUES[k] for k in kinds]).filter(
            lambda v: not any(contract_type_ok(v, k) for k in kinds)
        )
        return wrong.map(lambda v: [v])
    raise AssertionError(f"no strategy for {rule}")


def contract_type_ok(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "array": list, "object": dict}[kind])


def valid_item(case: contract.RuleCase) -> Any:
    example = contract.example_body(contract.spec().operation(case.operation_id)).get(case.field)
    if isinstance(example, list) and example:
        return example[0]
    return 1


def field_errors(response) -> dict[str, list[str]]:
    """Per-field messages, in the D4 envelope or in the Comments style (D12)."""
    body = response.json()
    if "errors" in body:
        return body["errors"]
    assert body["error"]["code"] == "VALIDATION_ERROR", body
    return body["error"]["details"]


def send(api, tenant, case: contract.RuleCase, value: Any, present: bool = True):
    op = contract.spec().operation(case.operation_id)
    body = contract.example_body(op)
    if present:
        body[case.field] = value
    else:
        body.pop(case.field, None)
    path = records.path_for(api, tenant, op.path)
    return api.request(op.method, path, json=body)


def assert_message(response, case: contract.RuleCase) -> None:
    assert response.status_code == 422, f"{case.id}: expected 422, got {response.status_code}: {response.text}"
    errors = field_errors(response)
    messages = errors.get(case.field) or errors.get(f"{case.field}.0")
    assert messages, f"{case.id}: no messages under {case.field!r} in {errors}"
    assert all(isinstance(m, str) and m for m in messages), errors
    if case.message_documented:
        assert case.message in messages, f"{case.id}: documented message {case.message!r} not in {messages}"


def marks_for(case: contract.RuleCase) -> list:
    provenance = pytest.mark.documented if case.documented else pytest.mark.assumed
    return [provenance, pytest.mark.operation(case.operation_id)]


SENDS = {op.operation_id for op in contract.spec().operations.values() if op.tag in ("Messages", "Authentication (OTP)")}


def params(rules: tuple[str, ...]):
    return [
        pytest.param(case, id=case.id, marks=marks_for(case) + ([pytest.mark.sends] if case.operation_id in SENDS else []))
        for case in CASES
        if case.rule in rules
    ]


@pytest.mark.parametrize("case", params(("required",)))
def test_missing_required_field_gets_its_message(api, tenant, case):
    assert_message(send(api, tenant, case, None, present=False), case)


@pytest.mark.parametrize(
    "case", params(("type", "minLength", "maxLength", "pattern", "format", "enum", "minimum", "maximum",
                    "minItems", "maxItems", "items"))
)
def test_broken_rule_gets_its_message(api, tenant, case):
    @given(value=violations(case))
    def check(value):
        assert_message(send(api, tenant, case, value), case)

    check()


@pytest.mark.parametrize("case", params(("required",)))
def test_valid_example_never_gets_the_required_message(api, tenant, case):
    """The spec's own example keeps every rule, so no field of it may be reported missing."""
    op = contract.spec().operation(case.operation_id)
    response = send(api, tenant, case, contract.example_body(op).get(case.field))
    if response.status_code == 422 and response.json().get("error", {}).get("code") == "VALIDATION_ERROR":
        assert case.message not in field_errors(response).get(case.field, []), response.text


def required_sets() -> list:
    """Operations with two or more required body fields, and those fields."""
    chosen = []
    for op in contract.spec().operations.values():
        names = [name for name, f in op.body_fields.items() if f.required and "required" in f.messages]
        if len(names) >= 2:
            marks = [pytest.mark.assumed, pytest.mark.operation(op.operation_id)]
            if op.operation_id in SENDS:
                marks.append(pytest.mark.sends)
            chosen.append(pytest.param(op.operation_id, names, id=op.operation_id, marks=marks))
    return chosen


@pytest.mark.parametrize(("operation_id", "names"), required_sets())
def test_every_failing_field_is_reported_at_once(api, tenant, operation_id, names):
    """D4: all failing fields come in one 422, each with its own message; any subset of missing fields."""
    op = contract.spec().operation(operation_id)
    path = records.path_for(api, tenant, op.path)

    @given(missing=st.sets(st.sampled_from(names), min_size=2))
    def check(missing):
        body = {k: v for k, v in contract.example_body(op).items() if k not in missing}
        response = api.request(op.method, path, json=body)
        assert response.status_code == 422, response.text
        errors = field_errors(response)
        assert missing <= set(errors), f"missing {sorted(missing)}, reported {sorted(errors)}"
        for name in missing:
            field = op.body_fields[name]
            if contract.message_documented(field.schema, "required"):
                assert field.messages["required"] in errors[name], errors

    check()
