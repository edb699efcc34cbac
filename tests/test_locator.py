"""The documented checks' locator finds a documented code and each field's messages in any error layout a
server may choose (D4: the layout is asserted only at level all), and nothing that is not there."""

from __future__ import annotations

import httpx
import pytest

from contract_tests.expect import field_errors, locate, names_code

REQUEST = httpx.Request("POST", "http://127.0.0.1/api/v2/contacts")


def answer(status: int, **kwargs) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, **kwargs)


LAYOUTS = {
    "D4": {
        "success": False,
        "message": "Validation failed",
        "error": {
            "code": "VALIDATION_ERROR",
            "message": "Validation failed",
            "details": {"phone": ["Phone number is required"], "contacts.3.email": ["Bad email"]},
        },
    },
    "error_code and errors": {
        "success": False,
        "message": "Validation failed",
        "error_code": "VALIDATION_ERROR",
        "errors": {"phone": ["Phone number is required"], "contacts.3.email": ["Bad email"]},
    },
    "Django REST, nested items": {
        "code": "VALIDATION_ERROR",
        "phone": ["Phone number is required"],
        "contacts": [{}, {}, {}, {"email": ["Bad email"]}],
    },
    "list of problems": {
        "type": "VALIDATION_ERROR",
        "errors": [
            {"field": "phone", "message": "Phone number is required"},
            {"loc": ["body", "contacts", 3, "email"], "msg": "Bad email"},
        ],
    },
    "RFC 9457": {
        "title": "VALIDATION_ERROR",
        "invalid-params": [
            {"name": "phone", "reason": "Phone number is required"},
            {"name": "contacts[3].email", "reason": "Bad email"},
        ],
    },
}


@pytest.mark.parametrize("body", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_code_and_messages_are_found_in_every_layout(body):
    response = answer(422, json=body)
    names_code(response, 422, "VALIDATION_ERROR")
    found = field_errors(response)
    assert found.messages("phone") == ["Phone number is required"]
    assert found.messages("contacts.3.email") == ["Bad email"]
    assert found.messages("contacts", nested=True) == ["Bad email"]
    assert found.others(["phone", "contacts"]) == []


@pytest.mark.parametrize("body", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_what_is_not_there_is_not_found(body):
    found = locate(answer(422, json=body))
    assert found.messages("email") == [], "an item's field is not the top-level field of the same name"
    assert found.messages("name") == []
    assert found.others(["phone"]) != []
    with pytest.raises(AssertionError):
        names_code(answer(422, json=body), 422, "INVALID_CODE")
    with pytest.raises(AssertionError):
        names_code(answer(400, json=body), 422, "VALIDATION_ERROR")


def test_a_code_inside_free_text_is_not_the_code():
    response = answer(422, json={"message": "not a VALIDATION_ERROR at all", "errors": {}})
    with pytest.raises(AssertionError):
        names_code(response, 422, "VALIDATION_ERROR")


def test_a_message_under_another_field_does_not_count():
    found = locate(answer(422, json={"errors": {"email": ["Phone number is required"]}}))
    assert found.messages("phone") == []
    assert found.messages("email") == ["Phone number is required"]


def test_an_answer_that_is_no_json_holds_nothing():
    found = locate(answer(422, text="<html>VALIDATION_ERROR</html>"))
    assert not found.values and not found.fields
    with pytest.raises(AssertionError):
        field_errors(answer(422, text="<html>VALIDATION_ERROR</html>"))
