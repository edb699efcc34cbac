"""The suite's reader of the contract (contract_tests/reader.py) against the mock's compiler.

Two readings of one file that nobody keeps in step by hand: where they differ on the
real spec, one of them misreads it. Beyond the real spec, the reader must keep working
where the mock's compiler deliberately stops (an unknown keyword), and must fail clearly
on a spec it cannot read.
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from contract_tests.reader import ContractError, ContractSpec, Router
from mockserver.routing import Router as MockRouter
from mockserver.spec import Spec
from mockserver.validation import FieldValidator

MOCK = Spec.load()
OURS = ContractSpec.load()
OPERATION_IDS = sorted(MOCK.operations)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def mock_rules(field: FieldValidator) -> frozenset[str]:
    """The rules the mock's compiler enforces on a body field, named as the reader names them."""
    found = {rule for rule, _ in field.checks} | {rule for rule, _ in field.stateful}
    if field.required or field.required_if or field.required_without:
        found.add("required")
    found |= {"type"} if field.types else set()
    found |= {"items"} if field.item_types else set()
    return frozenset(found)


def sibling_cases(field: FieldValidator) -> list[dict]:
    """Sibling values that make a conditional field required and not required."""
    cases: list[dict] = [{}, {field.name: "x"}]
    if field.required_if:
        other, values = field.required_if
        cases += [{other: value} for value in values] + [{other: "not-" + "-".join(map(str, values))}]
    if field.required_without:
        cases += [{field.required_without: "given"}, {field.required_without: None}]
    return cases


def test_both_read_the_same_operations():
    assert list(OURS.operations) == list(MOCK.operations)
    assert len(OPERATION_IDS) > 0


def test_both_resolve_refs_alike():
    assert OURS.resolved == MOCK.resolved


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_operation_agrees(operation_id):
    theirs, ours = MOCK.operation(operation_id), OURS.operation(operation_id)
    assert (ours.method, ours.path, ours.tag) == (theirs.method, theirs.path, theirs.tag)
    assert ours.scopes == theirs.scopes
    assert ours.success_status == theirs.success_status
    assert ours.success_message == theirs.success_message
    assert ours.collection == theirs.collection
    assert ours.sort_fields == theirs.sort_fields
    assert ours.error_codes == {status: frozenset(codes) for status, codes in theirs.error_codes.items()}
    assert ours.raw == theirs.raw
    assert list(ours.bodies) == list(theirs.bodies)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_query_parameters_agree(operation_id):
    theirs, ours = MOCK.operation(operation_id), OURS.operation(operation_id)
    assert list(ours.query_schemas) == list(theirs.query_schemas)
    for name, schema in theirs.query_schemas.items():
        mine = ours.query_schemas[name]
        # The mock copies three of the parameter's x- keys; the reader keeps them all.
        assert {key: mine[key] for key in schema} == schema, name
        assert all(key.startswith("x-") for key in set(mine) - set(schema)), name


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_body_fields_agree(operation_id):
    theirs, ours = MOCK.operation(operation_id), OURS.operation(operation_id)
    assert list(ours.body_fields) == list(theirs.body_fields)
    for name, field in theirs.body_fields.items():
        mine = ours.body_fields[name]
        assert mine.schema == field.schema, name
        assert mine.messages == field.messages, name
        assert mine.rules == mock_rules(field), name
        assert (mine.required, mine.required_if, mine.required_without) == (
            field.required,
            field.required_if,
            field.required_without,
        ), name
        assert (mine.types, mine.item_types, mine.item_format) == (
            field.types,
            field.item_types,
            field.item_format,
        )
        for siblings in sibling_cases(field):
            assert mine.is_required(siblings) == field.is_required(siblings), (name, siblings)
        for rule in mine.messages:
            assert ours.field_message(name, rule) == theirs.field_message(name, rule)


def request_paths(template: str) -> set[str]:
    """Concrete paths for a template: each parameter filled with an id, a word and every literal
    that stands at that place in another template (where D6 decides), with and without a trailing slash."""
    literals = {
        segment
        for path in MOCK.resolved["paths"]
        for segment in path.strip("/").split("/")
        if not segment.startswith("{")
    }
    paths = {""}
    for segment in template.strip("/").split("/"):
        fillings = ({"1", "999999999999", "abc"} | literals) if segment.startswith("{") else {segment}
        paths = {f"{path}/{fill}" for path in paths for fill in fillings}
    return paths | {path + "/" for path in paths} | {path + "/x" for path in paths}


def routed(router, method: str, path: str) -> str | None:
    match = router.match(path)
    op = match.operation(method) if match else None
    return op.operation_id if op else None


@pytest.mark.parametrize("template", sorted(MOCK.resolved["paths"]))
def test_routing_agrees(template):
    theirs, ours = MockRouter(list(MOCK.operations.values())), Router(OURS.operations.values())
    for path in sorted(request_paths(template)):
        assert (ours.match(path) is None) == (theirs.match(path) is None), path
        for method in METHODS:
            assert routed(ours, method, path) == routed(theirs, method, path), (method, path)


# --- specs the real one does not (yet) contain ------------------------------------------------


def tiny_spec(body: dict, paths: tuple[str, ...] = ("/things",), schemas: dict | None = None) -> dict:
    content = {"application/json": {"schema": body}}
    return {
        "openapi": "3.1.0",
        "paths": {
            path: {
                "post": {
                    "operationId": f"op{index}",
                    "tags": ["Things"],
                    "requestBody": {"content": content},
                    "responses": {"201": {"description": "made"}},
                }
            }
            for index, path in enumerate(paths)
        },
        "components": {"schemas": schemas or {}},
    }


def test_an_unknown_keyword_is_kept_and_is_no_rule():
    names = {
        "type": "array",
        "uniqueItems": True,
        "minItems": 1,
        "items": {"type": "string"},
        "x-validation-messages": {"minItems": "At least one name", "type": "Names must be a list"},
    }
    spec = ContractSpec(tiny_spec({"type": "object", "required": ["names"], "properties": {"names": names}}))
    field = spec.operation("op0").body_fields["names"]
    assert field.schema["uniqueItems"] is True
    assert field.rules == {"required", "type", "minItems", "items"}


def test_allof_body_parts_are_merged():
    body = {
        "allOf": [
            {"$ref": "#/components/schemas/Named"},
            {
                "type": "object",
                "required": ["age"],
                "properties": {"age": {"type": "integer"}, "name": {"maxLength": 9}},
            },
        ]
    }
    named = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    spec = ContractSpec(tiny_spec(body, schemas={"Named": named}))
    fields = spec.operation("op0").body_fields
    assert list(fields) == ["name", "age"]
    assert fields["name"].required and fields["age"].required
    assert fields["name"].schema == {"type": "string", "maxLength": 9}
    assert fields["name"].rules == {"required", "type", "maxLength"}


def test_a_ref_cycle_is_named():
    schemas = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
    }
    with pytest.raises(ContractError, match=r"\$ref cycle: .*#/components/schemas/A"):
        ContractSpec(tiny_spec({"$ref": "#/components/schemas/A"}, schemas=schemas))


def test_a_ref_to_nowhere_is_named():
    body = {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/Missing"}}}
    with pytest.raises(
        ContractError, match=re.escape("'#/components/schemas/Missing'") + r".*points to nothing"
    ):
        ContractSpec(tiny_spec(body))


def test_a_literal_segment_beats_a_parameter_whatever_the_order():
    """D6, read left to right: the template with the first literal where the other has a parameter wins."""
    spec = ContractSpec(tiny_spec({"type": "object"}, paths=("/a/{id}", "/a/{id}/c", "/a/b/{x}", "/a/b")))
    router = Router(spec.operations.values())
    assert [routed(router, "POST", path) for path in ("/a/1", "/a/b", "/a/b/c", "/a/1/c", "/a/b/")] == [
        "op0",
        "op3",
        "op2",
        "op1",
        "op3",
    ]
    assert router.match("/a") is None and router.match("/a/b/c/d") is None
    assert routed(router, "GET", "/a/b") is None and router.match("/a/b") is not None


def test_wacr_spec_chooses_the_file(tmp_path, monkeypatch):
    document = copy.deepcopy(tiny_spec({"type": "object"}, paths=("/only",)))
    target = tmp_path / "spec.yaml"
    target.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("WACR_SPEC", str(target))
    assert list(ContractSpec.load().operations) == ["op0"]
