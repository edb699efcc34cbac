"""Messages and templates: which templates can be sent, recipients, media and interactive limits, the message
history, plan limits and template sync.

Every send operation is driven through ``Sender``, which builds a valid request
for it from the tenant's own templates (found through the API). Which operation
may answer which error, and whether that is documented, is read from the spec's
``x-error-codes``, so a case's provenance follows the spec.
"""

from __future__ import annotations

import string
from functools import cached_property
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from contract_tests import contract, records
from contract_tests.plugin import Api

SPEC = contract.spec()
SENDERS = ("sendTextMessage", "sendTemplateMessage", "sendMediaMessage", "sendInteractiveMessage", "sendOtp", "resendOtp")
MEDIA = SPEC.operation("sendMediaMessage")
MEDIA_RULES: dict[str, dict] = MEDIA.ext("media-rules")
ALL_EXTENSIONS = sorted({ext for rule in MEDIA_RULES.values() for ext in rule["extensions"]})
PAGE_SIZE = 100  # the documented maximum of per_page
TINY_FILE = b"contract-suite"
LABELS = st.text(string.ascii_letters + string.digits + " ", min_size=1, max_size=30)


# --- spec look-ups -----------------------------------------------------------------------------


def error_entry(op_id: str, status: int, code: str, when: str = "") -> dict | None:
    """The ``x-error-codes`` entry of ``op_id`` for (status, code) whose ``when`` mentions ``when``."""
    response = SPEC.operation(op_id).raw["responses"].get(str(status), {})
    return next(
        (e for e in response.get("x-error-codes", ()) if e["code"] == code and when.lower() in e["when"].lower()), None
    )


def senders_with(status: int, code: str, when: str = "", needs_field: str | None = None) -> list:
    """One param per send operation that lists the error, marked with the provenance the spec gives it."""
    cases = []
    for op_id in SENDERS:
        entry = error_entry(op_id, status, code, when)
        if entry is None or (needs_field and needs_field not in SPEC.operation(op_id).body_fields):
            continue
        provenance = pytest.mark.documented if entry["provenance"].startswith("documented") else pytest.mark.assumed
        cases.append(pytest.param(op_id, id=op_id, marks=[provenance, pytest.mark.operation(op_id)]))
    return cases


def phone_limit(op_id: str) -> int:
    return SPEC.operation(op_id).body_fields["phone"].schema.get("maxLength", 20)


# --- requests ---------------------------------------------------------------------------------


@st.composite
def spelled(draw, digits: str, max_length: int = 20) -> str:
    """``digits`` written with an optional '+', spaces, dashes and parentheses, at most ``max_length`` long (D9)."""
    plus = draw(st.booleans())
    room = max_length - len(digits) - plus
    parens = room >= 2 and draw(st.booleans())
    room -= 2 * parens
    cuts = draw(st.sets(st.integers(1, len(digits) - 1), max_size=max(0, min(room, 4))))
    pieces = ["+"] if plus else []
    for index, digit in enumerate(digits):
        if index in cuts:
            pieces.append(draw(st.sampled_from(" -")))
        pieces.append("(" + digit if parens and index == 2 else digit + ")" if parens and index == 4 else digit)
    return "".join(pieces)


def describe(response) -> str:
    return f"{response.request.method} {response.request.url.path} -> {response.status_code}: {response.text}"


def expect_error(response, status: int, code: str) -> dict:
    """The error's ``details`` (``{}`` when absent) after checking status and code (D4 envelope)."""
    assert response.status_code == status, describe(response)
    error = response.json()["error"]
    assert error["code"] == code, describe(response)
    return error.get("details") or {}


def field_errors(response) -> dict[str, list[str]]:
    details = expect_error(response, 422, "VALIDATION_ERROR")
    for messages in details.values():
        assert messages and all(isinstance(m, str) and m for m in messages), details
    return details


def template_fields(template: dict) -> dict[str, str]:
    """Every parameter ``template`` needs, filled (the documented header and body rules of Send Template)."""
    fields = {f"field_{n}": f"value {n}" for n in range(1, template["body_params_count"] + 1)}
    header = (template.get("header_data_format") or "NONE").upper()
    if header == "TEXT" and template.get("header_params_count"):
        fields["header_field_1"] = "header value"
    elif header in ("IMAGE", "VIDEO", "DOCUMENT"):
        fields[f"header_{header.lower()}_url"] = f"https://example.com/header/{header.lower()}"
    return fields


def listed(api: Api, path: str) -> list[dict]:
    """Every item of a list operation, page by page (documented page/per_page)."""
    items: list[dict] = []
    for page in range(1, 1000):
        response = api.get(path, params={"page": page, "per_page": PAGE_SIZE})
        assert response.status_code == 200, describe(response)
        items += response.json()["data"]
        if len(response.json()["data"]) < PAGE_SIZE:
            return items
    raise AssertionError(f"{path} never ended")


class Sender:
    """A valid request of each send operation for one tenant; its templates are found through the API."""

    def __init__(self, api: Api) -> None:
        self.api = api

    @cached_property
    def templates(self) -> list[dict]:
        return listed(self.api, "/templates")

    @cached_property
    def auth_template(self) -> dict:
        usable = listed(self.api, "/auth/templates")
        if not usable:
            pytest.skip("the tenant lists no authentication template")
        return usable[0]

    @cached_property
    def approved_template(self) -> dict:
        approved = [t for t in self.templates if t["status"] == "APPROVED"]
        if not approved:
            pytest.skip("the tenant lists no APPROVED template")
        return approved[0]

    def body(self, op_id: str) -> dict[str, Any]:
        if op_id == "sendTextMessage":
            return {"message": "Hello from the contract suite"}
        if op_id == "sendInteractiveMessage":
            return {"type": "button", "body_text": "Pick one", "buttons": [{"id": "yes", "title": "Yes"}]}
        if op_id == "sendMediaMessage":
            return {"media_type": "image"}
        if op_id == "sendTemplateMessage":
            template = self.approved_template
            return {"template_name": template["template_name"], "language": template["language"], **template_fields(template)}
        template = self.auth_template
        code = {"code": "123456"} if op_id == "sendOtp" else {}
        return {"template_name": template["template_name"], "language": template["language"], **code}

    def send(self, op_id: str, phone: str, **fields: Any):
        """Sends through ``op_id`` to ``phone``; ``fields`` add to or replace the valid body."""
        op = SPEC.operation(op_id)
        body = {"phone": phone, **self.body(op_id), **fields}
        if op_id == "sendMediaMessage":
            upload = body.pop("media_file", ("photo.jpg", TINY_FILE))
            text = {k: str(v) for k, v in body.items() if v is not None}
            return self.api.request(op.method, op.path, data=text, files={"media_file": upload})
        return self.api.request(op.method, op.path, json={k: v for k, v in body.items() if v is not None})


@pytest.fixture
def sender(api: Api) -> Sender:
    return Sender(api)


def control_sender(control, **options: Any) -> Sender:
    """A Sender on a fresh control tenant made with ``options`` (limits, features, settings: D14)."""
    handle = control.new_tenant(rate_limit_per_minute=1_000_000, **options)
    return Sender(Api(control.target, handle.token))


# --- templates that cannot be sent ---------------------------------------------------------------

def of_kind(params: list, kind: str) -> list:
    return [pytest.param(p.values[0], kind, id=f"{p.id}-{kind}", marks=p.marks) for p in params]


REFUSALS = [
    *of_kind(senders_with(404, "RESOURCE_NOT_FOUND"), "not_approved"),
    *of_kind(senders_with(404, "RESOURCE_NOT_FOUND"), "unknown"),
    *of_kind(senders_with(422, "VALIDATION_ERROR", when="AUTHENTICATION category"), "wrong_category"),
]


def refused_templates(sender: Sender, kind: str) -> st.SearchStrategy[dict]:
    """Templates of ``kind``, found in List Templates by their status and category fields."""
    approved_names = {t["template_name"] for t in sender.templates if t["status"] == "APPROVED"}
    if kind == "unknown":
        names = st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=40)
        known = {t["template_name"] for t in sender.templates}
        return names.filter(lambda n: n not in known).map(lambda n: {"template_name": n, "language": "en"})
    if kind == "not_approved":
        found = [t for t in sender.templates if t["status"] != "APPROVED" and t["template_name"] not in approved_names]
    else:
        found = [t for t in sender.templates if t["status"] == "APPROVED" and t["category"] != "AUTHENTICATION"]
    if not found:
        pytest.skip(f"the tenant lists no {kind.replace('_', ' ')} template")
    return st.sampled_from(found)


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "kind"), REFUSALS)
def test_templates_that_cannot_be_sent_are_refused(sender, op_id, kind):
    """Sending a template that is unknown or not APPROVED is a 404 RESOURCE_NOT_FOUND; sending an OTP through
    an APPROVED template of another category is a 422 VALIDATION_ERROR reported under ``template_name``.

    Provenance per operation from the spec's ``x-error-codes`` (documented on Send OTP/Verification Code and
    inherited by Resend OTP; assumed D6 on Send Template Message).
    """

    @given(template=refused_templates(sender, kind))
    def check(template):
        fields = {"template_name": template["template_name"], "language": template["language"]}
        response = sender.send(op_id, records.unique_phone(), **fields)
        if kind == "wrong_category":
            assert "template_name" in field_errors(response), describe(response)
        else:
            expect_error(response, 404, "RESOURCE_NOT_FOUND")

    check()


@pytest.mark.documented
@pytest.mark.sends
@pytest.mark.operation("sendTemplateMessage")
def test_every_body_parameter_is_required(sender):
    """Send Template needs ``field_k`` for each body parameter ``{{k}}`` of the template: leaving any out is a
    422 VALIDATION_ERROR naming each missing ``field_k``, and sending them all is accepted.

    Documented (Send Template Message: template validation rules); the messages are assumed (D15).
    """
    candidates = [t for t in sender.templates if t["status"] == "APPROVED" and t["body_params_count"] > 0]
    if not candidates:
        pytest.skip("the tenant lists no APPROVED template with body parameters")
    cases = st.sampled_from(candidates).flatmap(
        lambda t: st.tuples(st.just(t), st.sets(st.integers(1, t["body_params_count"])))
    )

    @given(case=cases)
    def check(case):
        template, left_out = case
        fields = {**template_fields(template), **{f"field_{k}": None for k in left_out}}
        fields.update(template_name=template["template_name"], language=template["language"])
        response = sender.send("sendTemplateMessage", records.unique_phone(), **fields)
        if not left_out:
            assert response.status_code == 200, describe(response)
            return
        reported = {name for name in field_errors(response) if name.startswith("field_")}
        assert reported == {f"field_{k}" for k in left_out}, describe(response)

    check()


# --- recipients ------------------------------------------------------------------------------


@pytest.mark.sends
@pytest.mark.parametrize("op_id", senders_with(403, "CONTACT_OPTED_OUT"))
def test_opted_out_contacts_are_refused(api, tenant, needs_control, sender, op_id):
    """A contact that opted out gets nothing: every send to it, by any spelling of its phone or by
    ``contact_id``, is a 403 CONTACT_OPTED_OUT.

    Provenance per operation from the spec (documented on Send Text, Send Interactive and Send OTP; assumed D6
    elsewhere); the opt-out switch is the control API's (D13, D14).
    """
    by_id = "contact_id" in SPEC.operation(op_id).body_fields

    @given(data=st.data())
    def check(data):
        contact = records.contact(api, tenant)
        needs_control.set_opt_out(contact["id"], True)
        phone = data.draw(spelled(contact["phone"], phone_limit(op_id)), label="phone")
        extra = {"contact_id": contact["id"]} if by_id and data.draw(st.booleans(), label="by id") else {}
        expect_error(sender.send(op_id, phone, **extra), 403, "CONTACT_OPTED_OUT")

    check()


@pytest.mark.sends
@pytest.mark.parametrize("op_id", senders_with(404, "NOT_FOUND", when="contact", needs_field="contact_id"))
def test_missing_contact_id_is_not_found(api, sender, op_id):
    """A ``contact_id`` naming no contact of the tenant is a 404 NOT_FOUND.

    Provenance per operation from the spec (documented on Send Text and Send OTP; assumed D6 elsewhere).
    """

    @given(contact_id=st.integers(10**9, 2**31 - 1))
    def check(contact_id):
        assume(api.get(f"/contacts/{contact_id}").status_code == 404)
        expect_error(sender.send(op_id, records.unique_phone(), contact_id=contact_id), 404, "NOT_FOUND")

    check()


# --- media and interactive rules --------------------------------------------------------------


@pytest.mark.documented
@pytest.mark.sends
@pytest.mark.operation("sendMediaMessage")
def test_uploads_need_an_extension_allowed_for_their_media_type(sender):
    """An uploaded ``media_file`` is accepted exactly when its extension is allowed for its ``media_type``;
    otherwise the 422 VALIDATION_ERROR names ``media_file``.

    Documented (Send Media Message: allowed extensions per type, read from ``x-media-rules``); the placement
    under ``media_file`` is D4 and the messages D15.
    """
    extensions = st.sampled_from(ALL_EXTENSIONS) | st.text(string.ascii_lowercase + string.digits, max_size=4)

    @given(media_type=st.sampled_from(sorted(MEDIA_RULES)), extension=extensions, data=st.data())
    def check(media_type, extension, data):
        phone = data.draw(spelled(records.unique_phone(), phone_limit(MEDIA.operation_id)), label="phone")
        name = f"upload.{extension}" if extension else "upload"
        response = sender.send(MEDIA.operation_id, phone, media_type=media_type, media_file=(name, TINY_FILE))
        if extension in MEDIA_RULES[media_type]["extensions"]:
            assert response.status_code == 200, describe(response)
        else:
            assert "media_file" in field_errors(response), describe(response)

    check()


def expect_field_paths(response, expected: set[str]) -> None:
    """200 when nothing breaks a rule, else a 422 reporting exactly the ``expected`` paths (D4)."""
    if not expected:
        assert response.status_code == 200, describe(response)
    else:
        assert set(field_errors(response)) == expected, describe(response)


@pytest.mark.assumed
@pytest.mark.sends
@pytest.mark.operation("sendInteractiveMessage")
def test_button_limits_report_every_broken_path(sender):
    """Reply buttons: more than 3 is reported under ``buttons``, a title over 20 characters under
    ``buttons.N.title``, all at once; a message within the limits is sent.

    Assumed (D4: dotted paths, every failing field at once); the limits themselves are documented.
    """

    @given(titles=st.lists(LABELS, min_size=1, max_size=6))
    def check(titles):
        buttons = [{"id": f"b{i}", "title": title} for i, title in enumerate(titles)]
        expected = {f"buttons.{i}.title" for i, title in enumerate(titles) if len(title) > 20}
        expected |= {"buttons"} if len(buttons) > 3 else set()
        expect_field_paths(sender.send("sendInteractiveMessage", records.unique_phone(), buttons=buttons), expected)

    check()


@pytest.mark.assumed
@pytest.mark.sends
@pytest.mark.operation("sendInteractiveMessage")
def test_list_limits_report_every_broken_path(sender):
    """List menus: more than 10 sections is reported under ``sections``, a ``list_button_text`` over 20
    characters under its name, a row title over 24 under ``sections.N.rows.M.title``, all at once.

    Assumed (D4: dotted paths, every failing field at once); the limits themselves are documented.
    """
    sections = st.lists(st.lists(LABELS, min_size=1, max_size=3), min_size=1, max_size=12)

    @given(rows=sections, button_text=LABELS)
    def check(rows, button_text):
        body = {
            "type": "list",
            "buttons": None,
            "list_button_text": button_text,
            "sections": [
                {"title": f"Section {i}", "rows": [{"id": f"r{i}-{j}", "title": t} for j, t in enumerate(titles)]}
                for i, titles in enumerate(rows)
            ],
        }
        expected = {
            f"sections.{i}.rows.{j}.title" for i, titles in enumerate(rows) for j, t in enumerate(titles) if len(t) > 24
        }
        expected |= {"sections"} if len(rows) > 10 else set()
        expected |= {"list_button_text"} if len(button_text) > 20 else set()
        expect_field_paths(sender.send("sendInteractiveMessage", records.unique_phone(), **body), expected)

    check()


# --- the history ------------------------------------------------------------------------------

KINDS = ("sendTextMessage", "sendTemplateMessage", "sendMediaMessage", "sendInteractiveMessage")
HISTORY_TYPES = {"sendTextMessage": "text", "sendTemplateMessage": "template", "sendMediaMessage": "image",
                 "sendInteractiveMessage": "interactive"}


def send_some(sender: Sender, data, kinds: list[str], tick) -> list[dict]:
    """Sends one message per kind to a fresh number in a generated spelling; returns the answers' data."""
    sent = []
    for op_id in kinds:
        digits = records.unique_phone()
        phone = data.draw(spelled(digits, phone_limit(op_id)), label="phone")
        response = sender.send(op_id, phone)
        assert response.status_code == 200, describe(response)
        answer = response.json()["data"]
        assert answer["phone"] == digits and answer["status"] == "sent", answer
        sent.append(answer)
        tick()
    return sent


@pytest.mark.documented
@pytest.mark.sends
@pytest.mark.operation(*KINDS, "listMessages")
def test_sent_messages_are_listed_newest_first(api, sender, control, tenant):
    """What the send operations answer is in List Messages, newest first by default, with status ``sent``; the
    answers give the phone as digits only, whatever the spelling sent.

    Documented (List Messages: default sort -created_at; send operations: status sent, cleaned phone). With
    control, the tenant's clock moves a second between sends so the order is strict; without, only
    ``sent_at`` is checked to never increase down the page.
    """

    def tick() -> None:
        if control is not None:
            control.move_clock(tenant.tenant_id, advance_seconds=1)

    @given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=4), data=st.data())
    def check(kinds, data):
        sent = send_some(sender, data, kinds, tick)
        page = api.get("/messages", params={"per_page": PAGE_SIZE})
        assert page.status_code == 200, describe(page)
        items = page.json()["data"]
        stamps = [item["sent_at"] for item in items]
        assert stamps == sorted(stamps, reverse=True), stamps
        ours = {m["message_id"]: m for m in sent}
        found = [item for item in items if item["message_id"] in ours]
        assert all(item["status"] == "sent" for item in found), found
        order = [item["message_id"] for item in found]
        if control is not None:
            assert order == [m["message_id"] for m in reversed(sent)], order
        else:
            assert sorted(order) == sorted(ours), order

    check()


@pytest.mark.assumed
@pytest.mark.sends
@pytest.mark.operation(*KINDS, "getMessage")
def test_get_message_finds_each_sent_message(api, sender):
    """Get Message with a send's ``chat_message_id`` returns that message: same WhatsApp id, status ``sent``
    and the type of the send.

    Assumed (the spec's GetMessage links: ``chat_message_id`` is the history id; D8); fields documented.
    """

    @given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=3), data=st.data())
    def check(kinds, data):
        for op_id, answer in zip(kinds, send_some(sender, data, kinds, lambda: None), strict=True):
            response = api.get(f"/messages/{answer['chat_message_id']}")
            assert response.status_code == 200, describe(response)
            message = response.json()["data"]
            assert message["id"] == answer["chat_message_id"] and message["message_id"] == answer["message_id"], message
            assert message["status"] == "sent" and message["type"] == HISTORY_TYPES[op_id], message

    check()


# --- plan limits and configuration (tenants made with control) ----------------------------------


@pytest.mark.sends
@pytest.mark.parametrize("op_id", senders_with(403, "FEATURE_LIMIT_EXCEEDED", when="conversation"))
def test_conversation_limit_is_enforced(needs_control, op_id):
    """With the plan's monthly conversations used up, a send to a new number is a 403 FEATURE_LIMIT_EXCEEDED with
    details {feature: conversations, current, maximum}.

    Provenance per operation from the spec (documented on Send Text, Send Interactive and Send OTP: details keys
    documented on Create Contact); the tenant's plan is set through the control API (D14).
    """

    @given(maximum=st.integers(0, 3))
    def check(maximum):
        limited = control_sender(needs_control, limits={"conversations": maximum})
        for _ in range(maximum):
            response = limited.send("sendTextMessage", records.unique_phone())
            assert response.status_code == 200, describe(response)
        details = expect_error(limited.send(op_id, records.unique_phone()), 403, "FEATURE_LIMIT_EXCEEDED")
        assert details == {"feature": "conversations", "current": maximum, "maximum": maximum}, details

    check()


@pytest.mark.sends
@pytest.mark.parametrize("op_id", senders_with(403, "FEATURE_NOT_AVAILABLE"))
def test_templates_feature_off_refuses_template_sends(needs_control, op_id):
    """A plan without the ``whatsapp_templates`` feature cannot send templates: 403 FEATURE_NOT_AVAILABLE.

    Provenance per operation from the spec (documented on Send OTP, inherited by Resend OTP; assumed D6 on Send
    Template); the plan is set through the control API (D14).
    """
    gated = control_sender(needs_control, features={"whatsapp_templates": False})

    @given(data=st.data())
    def check(data):
        phone = data.draw(spelled(records.unique_phone(), phone_limit(op_id)), label="phone")
        expect_error(gated.send(op_id, phone), 403, "FEATURE_NOT_AVAILABLE")

    check()


@pytest.mark.sends
@pytest.mark.parametrize("op_id", senders_with(422, "WHATSAPP_NOT_CONFIGURED"))
def test_unconfigured_whatsapp_refuses_sends(needs_control, op_id):
    """An account whose WhatsApp is not configured cannot send: 422 WHATSAPP_NOT_CONFIGURED.

    Provenance per operation from the spec (documented on Send Text and Send OTP; assumed D6 elsewhere); the
    setting is made through the control API (D14).
    """
    unconfigured = control_sender(needs_control, settings={"whatsapp_configured": False})

    @given(data=st.data())
    def check(data):
        phone = data.draw(spelled(records.unique_phone(), phone_limit(op_id)), label="phone")
        expect_error(unconfigured.send(op_id, phone), 422, "WHATSAPP_NOT_CONFIGURED")

    check()


# --- sync --------------------------------------------------------------------------------------


def template_set(api: Api) -> set[tuple]:
    return {(t["template_id"], t["template_name"], t["language"], t["category"], t["status"]) for t in listed(api, "/templates")}


@pytest.mark.assumed
@pytest.mark.operation("syncTemplates", "listTemplates")
def test_sync_is_idempotent(api):
    """Sync Templates answers 200, and syncing again on an unchanged WhatsApp account leaves List Templates
    with the same set of templates.

    Assumed (D5 status; the mirror semantics of sync are the spec's assumption, D8 template ids).
    """

    @given(times=st.integers(2, 3))
    def check(times):
        seen = []
        for _ in range(times):
            response = api.post("/templates/sync")
            assert response.status_code == 200, describe(response)
            seen.append(template_set(api))
        assert all(s == seen[0] for s in seen), seen

    check()
