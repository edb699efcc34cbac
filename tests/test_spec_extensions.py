"""The spec's operation-level ``x-`` blocks are compiled when the spec loads: a typo stops the start."""

from __future__ import annotations

import copy

import pytest
import yaml

from mockserver.extensions import PathRecord
from mockserver.spec import Spec, default_spec_path
from mockserver.validation import SpecError


@pytest.fixture(scope="module")
def document() -> dict:
    with open(default_spec_path(), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def operation(document: dict, path: str, method: str) -> dict:
    return document["paths"][path][method]


@pytest.mark.parametrize(
    ("path", "method", "change", "problem"),
    [
        ("/auth/resend", "post", lambda op: op["x-rate-limit"].pop("calls"), "missing keys \\['calls'\\]"),
        (
            "/auth/resend",
            "post",
            lambda op: op["x-rate-limit"].update(per_second=1),
            "unknown keys \\['per_second'\\]",
        ),
        ("/auth/resend", "post", lambda op: op["x-otp"].update(max_attempts="5"), "expected an integer"),
        (
            "/sources/{id}",
            "delete",
            lambda op: op["x-in-use"]["referenced_by"].pop("field"),
            "missing keys \\['field'\\]",
        ),
        (
            "/comments/{mobile}",
            "get",
            lambda op: op.update({"x-envelope": "flatt"}),
            "x-envelope must be one of",
        ),
        (
            "/comments/{mobile}",
            "get",
            lambda op: op["x-path-record"].update(param="phone"),
            "not a parameter",
        ),
        (
            "/comments/{mobile}",
            "get",
            lambda op: op["x-path-record"].update(normalise="digits"),
            "normalise must be",
        ),
        (
            "/account",
            "get",
            lambda op: op.update({"x-sucess-message": "OK"}),
            "unknown extensions \\['x-sucess-message'\\]",
        ),
        (
            "/messages/text",
            "post",
            lambda op: op.update({"x-sends-message": "yes"}),
            "x-sends-message must be true or false",
        ),
        (
            "/contacts/batch",
            "delete",
            lambda op: op["x-behaviour-provenance"].update(repeated_ids=3),
            "every value of x-behaviour-provenance must be a tier string",
        ),
    ],
)
def test_a_broken_block_stops_the_load_naming_the_operation(document, path, method, change, problem) -> None:
    broken = copy.deepcopy(document)
    change(operation(broken, path, method))
    with pytest.raises(SpecError, match=problem) as raised:
        Spec(broken)
    assert f"{method.upper()} {path}" in str(raised.value)


def test_path_records_are_typed(document: dict) -> None:
    spec = Spec(document)
    assert spec.operation("getTemplate").extensions.path_record == PathRecord(
        "id", "templates", "template_id", listed_by="listTemplates"
    )
    comments = spec.operation("getComments")
    assert comments.envelope == "flat"
    assert comments.extensions.path_record.normalise == "phone"
    assert spec.operation("getContact").extensions.path_record == PathRecord("id", "contacts", "id")
    assert spec.operation("resendOtp").extensions.rate_limit.calls == 3


def test_a_filter_alias_must_name_an_operator(document: dict) -> None:
    broken = copy.deepcopy(document)
    broken["x-filter-operator-aliases"][">="] = ["gte"]
    with pytest.raises(SpecError, match="x-filter-operator-aliases"):
        Spec(broken)


def test_sends_are_typed(document: dict) -> None:
    spec = Spec(document)
    assert spec.operation("sendMediaMessage").extensions.sends_message is True
    assert spec.operation("verifyOtp").extensions.sends_message is False
