"""Making the records a check needs, and valid request bodies, through the public API only.

Every id a body carries (sources, statuses, contacts, groups) and every template
name is the tenant's own, found through the API or the D14 tenant handle; the
spec's examples are never a source of ids (docs/decisions.md D8, D14, D19: ids
and starting records are the implementation's). Literal text values (names,
messages) are the suite's own.

Names carry a random suffix so checks never collide with each other's data on a
shared (live) tenant.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from contract_tests import contract
from contract_tests.plugin import CONTROL_AVAILABLE, current_config, send_refusal
from contract_tests.reader import ContractOperation
from contract_tests.target import TenantHandle, list_items


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(4)}"


def unique_phone() -> str:
    """A 12-digit phone no other check uses: within every documented phone length and pattern."""
    return "91" + "".join(secrets.choice("0123456789") for _ in range(10))


def created(response, what: str) -> dict:
    assert response.status_code in (200, 201), (
        f"creating a {what} answered {response.status_code}: {response.text}"
    )
    return response.json()["data"]


def source(api) -> dict:
    return created(api.post("/sources", json={"name": unique("Source")}), "source")


def status(api) -> dict:
    return created(api.post("/statuses", json={"name": unique("Status"), "color": "#FF5733"}), "status")


def group(api) -> dict:
    return created(api.post("/groups", json={"name": unique("Group")}), "group")


def _first_id(api, path: str) -> int | None:
    response = api.get(path, params={"per_page": 1})
    assert response.status_code == 200, f"GET {path} answered {response.status_code}: {response.text}"
    data = response.json()["data"]
    return data[0]["id"] if data else None


# Found once per token: against a live server (60 requests a minute) the lookups would otherwise come
# before every contact a check makes. A check that may delete records it did not make (schema fuzzing)
# calls ``forget_reused`` after it.
_REFERENCES: dict[tuple[str, str], tuple[int, int]] = {}


def references(api, tenant: TenantHandle | None = None) -> tuple[int, int]:
    """A source id and a status id of the tenant: the D14 defaults, else the first listed, else new ones."""
    if tenant and tenant.default_source_id and tenant.default_status_id:
        return tenant.default_source_id, tenant.default_status_id
    key = (api.target.base_url, api.token)
    if key not in _REFERENCES:
        source_id = _first_id(api, "/sources") or source(api)["id"]
        status_id = _first_id(api, "/statuses") or status(api)["id"]
        _REFERENCES[key] = (source_id, status_id)
    return _REFERENCES[key]


def contact(api, tenant: TenantHandle | None = None, **fields: Any) -> dict:
    return created(
        api.post("/contacts", json={**valid_body(api, tenant, "createContact"), **fields}), "contact"
    )


# --- templates, found through List Templates / List Authentication Templates --------------------------------------


# A tenant's templates come from WhatsApp and no operation deletes one, so each token's lists are read once:
# against a live server, where every request counts (60 a minute), the checks share one token.
_TEMPLATE_LISTS: dict[tuple[str, str, str], list[dict]] = {}


def templates(api, path: str) -> list[dict]:
    """The tenant's templates from List Templates or List Authentication Templates, read once per token."""
    key = (api.target.base_url, api.token, path)
    if key not in _TEMPLATE_LISTS:
        _TEMPLATE_LISTS[key] = api.list_all(path)
    return _TEMPLATE_LISTS[key]


def auth_template(api) -> dict:
    """An APPROVED AUTHENTICATION template of the tenant (List Authentication Templates lists only those)."""
    usable = templates(api, "/auth/templates")
    if not usable:
        pytest.skip("the tenant lists no authentication template")
    return usable[0]


def sendable_template(api) -> dict:
    """An APPROVED template for Send Template Message, one outside the AUTHENTICATION category where there is one."""
    approved = [t for t in templates(api, "/templates") if t.get("status") == "APPROVED"]
    if not approved:
        pytest.skip("the tenant lists no APPROVED template")
    return sorted(approved, key=lambda t: t.get("category") == "AUTHENTICATION")[0]


def template_fields(template: dict) -> dict[str, str]:
    """The parameters a template asks for, filled (the documented header and body rules of Send Template)."""
    fields = {f"field_{n}": f"value {n}" for n in range(1, (template.get("body_params_count") or 0) + 1)}
    header = (template.get("header_data_format") or "NONE").upper()
    if header == "TEXT" and template.get("header_params_count"):
        fields["header_field_1"] = "header value"
    elif header in ("IMAGE", "VIDEO", "DOCUMENT"):
        fields[f"header_{header.lower()}_url"] = f"https://example.com/header/{header.lower()}"
    return fields


# --- valid bodies -----------------------------------------------------------------------------------------------


def _otp(api, with_code: bool) -> dict:
    template = auth_template(api)
    body = {
        "phone": unique_phone(),
        "template_name": template["template_name"],
        "language": template["language"],
    }
    return {**body, "code": "123456"} if with_code else body


def _template_message(api) -> dict:
    template = sendable_template(api)
    return {
        "phone": unique_phone(),
        "template_name": template["template_name"],
        "language": template["language"],
        **template_fields(template),
    }


def _interactive(kind: str) -> dict:
    body = {"phone": unique_phone(), "type": kind, "body_text": "Pick one"}
    if kind == "list":
        return {
            **body,
            "list_button_text": "Options",
            "sections": [{"title": "Choices", "rows": [{"id": "row-1", "title": "First"}]}],
        }
    return {**body, "buttons": [{"id": "yes", "title": "Yes"}]}


def contact_body(source_id: int, status_id: int) -> dict:
    """Create Contact's required fields, valid with the tenant's ``source_id`` and ``status_id``; a fresh phone."""
    return {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": unique_phone(),
        "type": "lead",
        "source_id": source_id,
        "status_id": status_id,
    }


def _new_contact(api, tenant: TenantHandle | None) -> dict:
    return contact_body(*references(api, tenant))


BUILDERS: dict[str, Callable[[Any, TenantHandle | None], dict]] = {
    "sendOtp": lambda api, tenant: _otp(api, with_code=True),
    "resendOtp": lambda api, tenant: _otp(api, with_code=False),
    "verifyOtp": lambda api, tenant: {"phone": unique_phone(), "code": "123456"},
    "checkOtpStatus": lambda api, tenant: {"phone": unique_phone()},
    "addComment": lambda api, tenant: {"comment": "Called back, all good"},
    "createContact": _new_contact,
    "batchCreateContacts": lambda api, tenant: {"contacts": [_new_contact(api, tenant)]},
    "batchDeleteContacts": lambda api, tenant: {"ids": [contact(api, tenant)["id"]]},
    "updateContact": lambda api, tenant: {"firstname": "Grace"},
    "createGroup": lambda api, tenant: {"name": unique("Group")},
    "updateGroup": lambda api, tenant: {"name": unique("Group")},
    "addGroupContacts": lambda api, tenant: {"contact_ids": [contact(api, tenant)["id"]]},
    "removeGroupContacts": lambda api, tenant: {"contact_ids": [contact(api, tenant)["id"]]},
    "sendTextMessage": lambda api, tenant: {
        "phone": unique_phone(),
        "message": "Hello from the contract suite",
    },
    "sendTemplateMessage": lambda api, tenant: _template_message(api),
    "sendMediaMessage": lambda api, tenant: {
        "phone": unique_phone(),
        "media_type": "image",
        "media_url": "https://example.com/media/photo.jpg",
    },
    "sendInteractiveMessage": lambda api, tenant: _interactive("button"),
    "createSource": lambda api, tenant: {"name": unique("Source")},
    "updateSource": lambda api, tenant: {"name": unique("Source")},
    "createStatus": lambda api, tenant: {"name": unique("Status")},
    "updateStatus": lambda api, tenant: {"name": unique("Status")},
}


def valid_body(api, tenant: TenantHandle | None, operation_id: str, variant: str | None = None) -> dict:
    """A body of ``operation_id`` that keeps every rule on this tenant: its own ids and template names.

    ``variant`` picks the kind of a message with kinds (Send Interactive: ``button`` or ``list``), so a
    field that applies to one kind only is broken where it applies (D19: elsewhere it may be ignored).
    """
    if operation_id == "sendInteractiveMessage" and variant:
        return _interactive(variant)
    return BUILDERS[operation_id](api, tenant)


def form_request(fields: dict[str, Any]) -> dict[str, Any]:
    """``httpx`` arguments for a multipart/form-data body of text fields only (no file part needed)."""
    boundary = "contract-" + secrets.token_hex(12)
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    return {
        "content": (parts + f"--{boundary}--\r\n").encode(),
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    }


# --- paths --------------------------------------------------------------------------------------------------------


def chat_mobile(api) -> str:
    """A mobile with a chat conversation: one text message creates it (D12)."""
    config = current_config()
    refusal = send_refusal(config, config.stash.get(CONTROL_AVAILABLE, False))
    if refusal:
        pytest.skip(f"needs a chat, which only sending a WhatsApp message creates; {refusal}")
    phone = unique_phone()
    response = api.post("/messages/text", json={"phone": phone, "message": "Hello from the contract suite"})
    assert response.status_code == 200, response.text
    return response.json()["data"]["phone"]


# Records a check may reuse, per token and path template: see ``path_for``.
_REUSABLE_PATHS: dict[tuple[str, str, str], str] = {}


def forget_reused() -> None:
    """Drops the reused records and references: after a check that may have deleted or changed any record."""
    _REUSABLE_PATHS.clear()
    _REFERENCES.clear()


# The collections whose records a check makes for itself, each named uniquely by the suite.
MAKERS: dict[str, Callable[[Any, TenantHandle], dict]] = {
    "contacts": lambda api, tenant: contact(api, tenant),
    "groups": lambda api, tenant: group(api),
    "sources": lambda api, tenant: source(api),
    "statuses": lambda api, tenant: status(api),
}


def path_for(api, tenant: TenantHandle, op: ContractOperation, reuse: bool = False) -> str:
    """The operation's path, its parameter naming a record that exists (``op.record``): one made for the check
    (contacts, groups, sources, statuses), the chat of a sent message, or the first one its list shows
    (templates, and messages after a send).

    ``reuse``: the check does not delete the record, so one made earlier for the same token and path serves
    (a live server allows 60 requests a minute; making a record per check would spend them)."""
    if reuse:
        key = (api.target.base_url, api.token, op.path)
        if key not in _REUSABLE_PATHS:
            _REUSABLE_PATHS[key] = path_for(api, tenant, op)
        return _REUSABLE_PATHS[key]
    record = op.record
    if record is None:
        return op.path
    placeholder = "{" + record.param + "}"
    if record.is_phone:
        return op.path.replace(placeholder, chat_mobile(api))
    if record.collection in MAKERS:
        return op.path.replace(placeholder, str(MAKERS[record.collection](api, tenant)[record.field]))
    if record.made_by_sending:
        chat_mobile(api)
    listing = contract.spec().list_operation(record)
    assert listing is not None, f"{op.operation_id}: no operation lists {record.collection}"
    first = list_items(api.get(listing.path, params={"per_page": 1}).json())
    assert first, f"{listing.path} lists no {record.collection} to name in {op.path}"
    return op.path.replace(placeholder, str(first[0][record.field]))


def otp_templates(api) -> list[dict]:
    """The templates Send OTP can fill by itself, from List Authentication Templates (APPROVED AUTHENTICATION
    only, documented): ``{{1}}`` takes the code and ``{{2}}`` the expiry (documented), so at most two body
    parameters, else ``additional_params`` would be needed. D14's ``otp_verification`` comes first when listed."""
    usable = [
        t
        for t in templates(api, "/auth/templates")
        if t.get("status", "APPROVED") == "APPROVED" and (t.get("body_params_count") or 0) <= 2
    ]
    return sorted(
        usable, key=lambda t: (t["template_name"] != "otp_verification", t["template_name"], t["language"])
    )


def otp_template_fields(api, given: str | None = None) -> dict[str, str]:
    """``template_name`` and ``language`` of a template Send OTP and Resend OTP can use on this tenant.

    ``given`` (``--otp-template``) names one on a target without control; its language is then the documented
    default. Otherwise the tenant's own list decides, language included: a tenant may list other templates, in
    other languages, in any order (D19).
    """
    if given:
        return {"template_name": given}
    usable = otp_templates(api)
    if not usable:
        pytest.skip("the tenant lists no APPROVED authentication template with at most two body parameters")
    return {"template_name": usable[0]["template_name"], "language": usable[0]["language"]}
