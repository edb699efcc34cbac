"""Property: every answer to schema-generated requests conforms to openapi.yaml (schemathesis).

All operations, with the examples, coverage and fuzzing phases and both positive
and negative data, then the stateful phase over the spec's links. Expected
statuses per check are set so a correct implementation yields no false failures
(see ``CHECKS``).

Schemathesis's own negative-data check fails a server for accepting any request
the schema rejects, including requests that only break the mock's own choices
(D19), empty optional values (D16: not sent) or values a framework reads
otherwise (form text, PHP arrays). It is replaced by ``negative_data_is_refused``:
a generated request must be refused only when it breaks a rule a correct server
must keep under every legitimate reading of it (``must_refuse``). Two further
checks tie each error answer's code to the codes the spec lists
(``error_code_is_listed``), except where a decision leaves the refusal free.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet

from contract_tests import contract, in_process, plugin, records
from contract_tests.reader import ContractOperation, spec_path
from contract_tests.target import Control, TenantHandle

# The refusals D5/D6/D10/D11/D19 allow for invalid data: bad request or JSON, auth, scope, unknown record,
# method, size, content type, validation, rate limits.
REFUSALS = frozenset({400, 401, 403, 404, 405, 413, 415, 422, 429})
CHECKS = {
    "not_a_server_error": {"expected-statuses": ["2xx", "4xx"]},
    # Valid-by-schema data can still name missing records (404), break business rules such as uniqueness or
    # template parameters (422), hit plan limits or opt-outs (403) or OTP limiters (429); a query value the
    # contract leaves free (``fields``, filters, includes) may be refused with a 400 (D19).
    "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "403", "404", "422", "429"]},
    # Replaced by ``negative_data_is_refused``, which knows which rules a correct server must keep, and by
    # ``status_is_documented``, which knows the refusals D19 leaves free.
    "negative_data_rejection": {"enabled": False},
    "status_code_conformance": {"enabled": False},
}
# Query parameters whose refusal (400 or 422, any code) or neglect D19 leaves to the server.
FREE_QUERY = ("include", "fields")
# D18: an item of Batch Create Contacts that breaks a format rule may be reported in ``data.errors`` with a 200,
# so the rules of its items never force a refusal of the whole request.
ITEMS_REPORTED_ONE_BY_ONE = {
    op.operation_id: op.ext("partial-items")
    for op in contract.spec().operations.values()
    if op.ext("partial-items")
}
# The schema keywords that are rules; everything else (``additionalProperties`` included: unknown fields are
# ignored, D5) is left out of the rules a server must keep.
RULE_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "items",
        "minLength",
        "maxLength",
        "pattern",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "anyOf",
        "oneOf",
        "allOf",
        "format",
    }
)
# Formats a correct server must check the same way (D19 leaves a URL's schemes free: A13 of the review).
CHECKED_FORMATS = ("email",)
JSON_TYPES = ("application/json",)
INTEGER_TEXT = re.compile(r"^[+-]?\d+$")
NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False, "on": True, "off": False}


def build_config(max_examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": max_examples,
                "mode": "all",
                "no-shrink": True,
                "deterministic": True,
                # Unknown query parameters are ignored like unknown body fields (D5), so they are not negative data;
                # the token is ours to send, not a generated parameter.
                "allow-extra-parameters": False,
                "with-security-parameters": False,
            },
            "checks": CHECKS,
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 6},
            },
        }
    )


# --- the rules a correct server must keep ------------------------------------------------------------------------


def fair(schema: Any) -> Any:
    """The schema with only the rules every correct server keeps: the mock's rules (D19, ``x-rule-provenance``)
    and the keywords that are no rule are dropped; a property whose requiredness is the mock's is optional."""
    if not isinstance(schema, dict):
        return schema
    dropped = {
        rule
        for rule, tier in (schema.get("x-rule-provenance") or {}).items()
        if contract.tier_of(tier) == "mock"
    }
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in RULE_KEYWORDS or key in dropped:
            continue
        if key == "properties":
            kept[key] = {name: fair(sub) for name, sub in value.items()}
        elif key == "required":
            properties = schema.get("properties") or {}
            kept[key] = [name for name in value if not mock_required(properties.get(name) or {})]
        elif key in ("anyOf", "oneOf", "allOf"):
            kept[key] = [fair(sub) for sub in value]
        elif key == "items":
            kept[key] = fair(value)
        elif key == "format" and value not in CHECKED_FORMATS:
            continue
        else:
            kept[key] = value
    return kept


def mock_required(schema: dict) -> bool:
    tier = (schema.get("x-rule-provenance") or {}).get("required")
    return tier is not None and contract.tier_of(tier) == "mock"


def is_empty(value: Any) -> bool:
    """D16: null, "", whitespace only, [] and {} are empty."""
    return value is None or value == [] or value == {} or (isinstance(value, str) and not value.strip())


def types_of(schema: dict) -> tuple[str, ...]:
    declared = schema.get("type")
    return () if declared is None else (tuple(declared) if isinstance(declared, list) else (declared,))


def read_text(text: str, schema: dict) -> Any:
    """Form and query values are text: a framework reads them as the number or boolean the schema asks for."""
    kinds = types_of(schema)
    if "integer" in kinds and INTEGER_TEXT.match(text.strip()):
        return int(text)
    if "number" in kinds and NUMBER_TEXT.match(text.strip()):
        return float(text)
    if "boolean" in kinds and text.strip().lower() in BOOLEAN_TEXT:
        return BOOLEAN_TEXT[text.strip().lower()]
    return text


def as_text(value: Any) -> str:
    """What a form or query serialisation sends for a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def reading(value: Any, schema: dict, trim: bool, text: bool) -> Any:
    """One legitimate reading of a request value: empty fields left out (D16), strings trimmed or not, text read
    as numbers and booleans (forms), a JSON object where an array is expected read as its values (PHP arrays)."""
    kinds = types_of(schema)
    if isinstance(value, dict) and "array" in kinds and "object" not in kinds:
        value = list(value.values())
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        read = {}
        for name, item in value.items():
            sub = properties.get(name) or {}
            if text and not isinstance(item, dict | list):
                item = as_text(item)
            if is_empty(item):
                continue  # D16: an empty field is not sent
            read[name] = reading(item, sub, trim, text)
        return read
    if isinstance(value, list):
        found = schema.get("items")
        items = found if isinstance(found, dict) else {}
        return [
            reading(as_text(item) if text and not isinstance(item, dict | list) else item, items, trim, text)
            for item in value
        ]
    if isinstance(value, str):
        value = value.strip() if trim else value
        return read_text(value, schema) if text else value
    return value


def lenient_pattern(validator, pattern: str, instance: Any, schema: dict):
    """``pattern``, where PCRE's ``$`` also matches before a final newline (A11 of the review)."""
    if not isinstance(instance, str):
        return
    if re.search(pattern, instance) or (instance.endswith("\n") and re.search(pattern, instance[:-1])):
        return
    yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


FairValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": lenient_pattern})
FORMATS = jsonschema.FormatChecker(formats=CHECKED_FORMATS)


def breaks(value: Any, schema: dict) -> bool:
    return not FairValidator(schema, format_checker=FORMATS).is_valid(value)


def applies(op: ContractOperation, name: str, body: dict) -> bool:
    """Whether a field applies to the kind of request sent: a field of one kind sent with another (list fields on a
    button message) may be ignored or refused (D19), so its rules force nothing."""
    field = op.body_fields.get(name)
    condition = field.required_if if field is not None else None
    return condition is None or body.get(condition[0]) in condition[1]


def body_must_be_refused(op: ContractOperation, case) -> bool:
    media = case.media_type or ""
    schema = op.bodies.get(media)
    if schema is None:
        return False  # a content type the operation does not take: any refusal or none is the server's (D19)
    body = case.body
    if isinstance(body, NotSet):
        body = {}
    if media in JSON_TYPES and not isinstance(body, dict):
        return True  # D5: JSON that is not an object is a 400 INVALID_JSON
    if not isinstance(body, dict):
        body = {}
    body = {name: value for name, value in body.items() if applies(op, name, body)}
    rules = fair(schema)
    per_item = ITEMS_REPORTED_ONE_BY_ONE.get(op.operation_id)
    if per_item and per_item in rules.get("properties", {}):
        rules["properties"][per_item].pop("items", None)
    text = media not in JSON_TYPES
    if text:
        # D19: a nested object in a multipart body (Send Media's ``contact``) may be decoded and validated, or
        # taken as text and ignored, so the rules inside it force nothing.
        for name, sub in (schema.get("properties") or {}).items():
            if "object" in types_of(sub) and name in (rules.get("properties") or {}):
                rules["properties"][name] = {}
    return all(breaks(reading(body, schema, trim, text), rules) for trim in (False, True))


def query_must_be_refused(op: ContractOperation, case) -> bool:
    """A query value that breaks a kept rule under every reading (repeated and empty parameters are free).

    Path values are left to the server: a path id that names no record is a 404 (D6), never a success.
    """
    for name, value in (case.query or {}).items():
        schema = op.query_schemas.get(name)
        if schema is None or isinstance(value, list | dict):
            continue
        text = as_text(value)
        if not text.strip():
            continue  # an empty parameter is not sent
        rules = fair(schema)
        if all(breaks(read_text(variant, schema), rules) for variant in {text, text.strip()}):
            return True
    return False


def must_refuse(case) -> bool:
    """Whether a correct server must refuse this generated request: it breaks a documented or decided rule
    however a legitimate implementation reads it."""
    op = operation_of(case)
    if op is None:
        return False
    return query_must_be_refused(op, case) or body_must_be_refused(op, case)


def operation_of(case) -> ContractOperation | None:
    return contract.spec().operations.get(contract.operation_for(case.method, case.path) or "")


def is_negative(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_negative


# --- checks ------------------------------------------------------------------------------------------------------


@schemathesis.check
def negative_data_is_refused(ctx, response, case) -> bool | None:
    """Invalid data is refused (D5/D6 statuses) when it breaks a rule every correct server keeps."""
    if not is_negative(case) or response.status_code in REFUSALS or response.status_code >= 500:
        return None
    if not must_refuse(case):
        return (
            None  # only the mock's choices, empty values (D16) or a framework's reading explain the rejection
        )
    raise AssertionError(
        f"{case.method} {case.formatted_path} answered {response.status_code} to a request that breaks a documented"
        f" or decided rule (query {case.query!r}, body {case.body!r})"
    )


def refusal_is_free(case, status: int) -> bool:
    """Refusals whose code no decision fixes: a 400 other than malformed JSON for a query (D19: unknown or bad
    filter values and includes), a content type (400, 415 or 422, D19), and a 422 for a request that breaks
    only the mock's rules."""
    if status in (400, 415):
        return not (
            status == 400
            and (case.media_type or "") in JSON_TYPES
            and not isinstance(case.body, dict | NotSet)
        )
    op = operation_of(case)
    return status == 422 and (
        (is_negative(case) and not must_refuse(case)) or (op is not None and query_refusal_is_free(op, case))
    )


@schemathesis.check
def error_code_is_listed(ctx, response, case) -> bool | None:
    """An error answer's ``error.code`` is one the spec lists for that status (x-error-codes), where a decision
    fixes the refusal."""
    if response.status_code < 400:
        return None
    op = operation_of(case)
    if op is None or op.flat or refusal_is_free(case, response.status_code):
        return None
    # Only the codes a documented or decided entry gives: where every entry of the status is the mock's, the code
    # is free (D19).
    codes = {e.code for e in op.errors if e.status == response.status_code and e.code and e.tier != "mock"}
    if not codes:
        return None
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return None
    code = (body.get("error") or {}).get("code") if isinstance(body, dict) else None
    assert code in codes, (
        f"{op.operation_id} answered {response.status_code} {code}, spec lists {sorted(codes)}"
    )
    return True


def query_refusal_is_free(op: ContractOperation, case) -> bool:
    """A refusal of the query D19 leaves free: a filter or include (unknown, or with a bad value), field
    selection, or a value that breaks only the mock's rules."""
    names = set(case.query or {})
    if any(name.startswith("filter[") or name in FREE_QUERY for name in names):
        return True
    return bool(names) and is_negative(case) and not query_must_be_refused(op, case)


@schemathesis.check
def status_is_documented(ctx, response, case) -> bool | None:
    """The answer's status is one the spec lists for the operation, or a refusal of the query D19 leaves free."""
    op = operation_of(case)
    if op is None:
        return None
    listed = set(op.raw.get("responses", {}))
    status = str(response.status_code)
    if status in listed or f"{status[0]}XX" in listed or "default" in listed:
        return True
    if response.status_code in (400, 422) and query_refusal_is_free(op, case):
        return None
    raise AssertionError(
        f"{op.operation_id} answered {status}, which the spec does not list: {sorted(listed)}"
    )


ADDITIONAL_CHECKS = [negative_data_is_refused, error_code_is_listed, status_is_documented]


@pytest.fixture(autouse=True)
def records_may_be_gone() -> Iterator[None]:
    """Fuzzing may delete or change any record of the tenant: later checks must not reuse one (``records``)."""
    yield
    records.forget_reused()


@pytest.fixture(scope="session")
def fuzz_tenant(control: Control | None, request: pytest.FixtureRequest) -> TenantHandle:
    return plugin.new_tenant(request, control)


def fair_document(node: Any) -> Any:
    """The spec as schemathesis may judge any implementation by it: a request body in a content type only the mock
    takes is not sent (Send Media's JSON), and a response property the mock chose (``x-provenance: mock``, D19:
    fields the docs do not list) may hold anything, since its type, enum and required keys are the mock's."""
    if isinstance(node, list):
        return [fair_document(item) for item in node]
    if not isinstance(node, dict):
        return node
    fair_node = {key: fair_document(value) for key, value in node.items()}
    content = (
        fair_node.get("requestBody", {}).get("content")
        if isinstance(fair_node.get("requestBody"), dict)
        else None
    )
    if isinstance(content, dict):
        for media in [m for m, entry in content.items() if "x-provenance" in entry]:
            if contract.tier_of(content[media]["x-provenance"]) == "mock":
                del content[media]
    properties = fair_node.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            if (
                isinstance(sub, dict)
                and "x-provenance" in sub
                and contract.tier_of(sub["x-provenance"]) == "mock"
            ):
                properties[name] = {"x-provenance": sub["x-provenance"]}
    return fair_node


def load_schema():
    """The spec as schemathesis sees it (``fair_document``), aimed at the session's target."""
    raw = fair_document(yaml.safe_load(spec_path().read_text()))
    loaded = schemathesis.openapi.from_dict(raw, config=build_config(settings.default.max_examples))
    base_url = plugin.current_config().getoption("--base-url")
    if base_url:
        loaded.config.update(base_url=base_url.rstrip("/"))
    else:
        loaded.app = in_process.asgi_app()
    return loaded


schema = load_schema()


@pytest.mark.assumed
@pytest.mark.sends
@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate], deadline=None)
def test_answers_conform_to_the_spec(case, fuzz_tenant):
    """Status codes, content types, headers and bodies of every answer match openapi.yaml (D2-D6)."""
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_tenant.token}"},
        additional_checks=ADDITIONAL_CHECKS,
    )


@pytest.mark.assumed
@pytest.mark.sends
def test_stateful_link_sequences_conform(fuzz_tenant, control):
    """Chains along the spec's links (create -> get/update/delete, group membership) keep conforming (D8, D13).

    With the control API every scenario gets a fresh tenant, so a replayed scenario meets the same state.
    """

    class Workflow(schema.as_state_machine()):
        def setup(self):
            fresh = (
                control.new_tenant(rate_limit_per_minute=100_000_000) if control is not None else fuzz_tenant
            )
            self.auth = {"Authorization": f"Bearer {fresh.token}"}

        def get_call_kwargs(self, case):
            return {"headers": self.auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            super().validate_response(response, case, additional_checks=ADDITIONAL_CHECKS, **kwargs)

    Workflow.run(
        settings=settings(
            max_examples=settings.default.max_examples,
            stateful_step_count=6,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
