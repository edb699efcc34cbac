"""Messages and templates: which templates can be sent, recipients, media and interactive limits, the message
history, plan limits and template sync.

Every send operation is driven through ``Sender``, which builds a valid request
for it from the tenant's own templates and contacts (found through the API).
Which operation may answer which error, and whether that is documented, is read
from the spec's ``x-error-codes``, so a case's provenance follows the spec: a
documented entry gives a documented case that checks the status and the code's
presence, and a decided one (D4) that also checks where the code and details sit;
an entry that is the mock's choice (D19) gives no case at all.
"""

from __future__ import annotations

import io
import secrets
import string
import zipfile
from functools import cached_property
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from contract_tests import contract, records
from contract_tests.expect import describe, details_of, names_code, refused, values_under
from contract_tests.strategies import padded, spelled
from contract_tests.target import Api, Control, TenantHandle

SPEC = contract.spec()
SENDERS = (
    "sendTextMessage",
    "sendTemplateMessage",
    "sendMediaMessage",
    "sendInteractiveMessage",
    "sendOtp",
    "resendOtp",
)
MEDIA = SPEC.operation("sendMediaMessage")
MEDIA_RULES: dict[str, dict] = MEDIA.ext("media-rules")
ALL_EXTENSIONS = sorted({ext for rule in MEDIA_RULES.values() for ext in rule["extensions"]})
ALNUM = string.ascii_letters + string.digits
# List Messages / Get Message: ``status`` is string|null, and its documented values are these (documented).
MESSAGE_STATUSES = {"sent", "delivered", "read", "failed", None}


# --- spec look-ups -----------------------------------------------------------------------------


def error_entry(op_id: str, status: int, code: str, when: str = "") -> dict | None:
    """The ``x-error-codes`` entry of ``op_id`` for (status, code) whose ``when`` mentions ``when``."""
    response = SPEC.operation(op_id).raw["responses"].get(str(status), {})
    return next(
        (
            e
            for e in response.get("x-error-codes", ())
            if e["code"] == code and when.lower() in e["when"].lower()
        ),
        None,
    )


def tiered(op_id: str, entry: dict | None, *values: Any) -> list:
    """The cases one ``x-error-codes`` entry gives: ``(op_id, *values, strict)`` params.

    A documented entry gives a documented loose case (status and code only) and a decided strict one (D4: the
    code in ``error.code``, the details); a decided entry only the strict one; the mock's choice none (D19).
    """
    tier = "mock" if entry is None else contract.entry_tier(entry)
    if tier == "mock":
        return []
    label = "-".join([op_id, *map(str, values)])
    strict = pytest.param(
        op_id,
        *values,
        True,
        id=f"{label}-D4",
        marks=[*contract.tier_marks("decided"), pytest.mark.operation(op_id)],
    )
    if tier == "decided":
        return [strict]
    loose = pytest.param(
        op_id,
        *values,
        False,
        id=label,
        marks=[*contract.tier_marks("documented"), pytest.mark.operation(op_id)],
    )
    return [loose, strict]


def senders_with(status: int, code: str, when: str = "", needs_field: str | None = None) -> list:
    """The tiered cases of every send operation that lists the error (and takes ``needs_field``)."""
    return [
        case
        for op_id in SENDERS
        if not needs_field or needs_field in SPEC.operation(op_id).body_fields
        for case in tiered(op_id, error_entry(op_id, status, code, when))
    ]


def checked_limit(schema: dict, rule: str) -> int | None:
    """The value of a length or count rule the contract fixes (documented or decided); None for the mock's."""
    if rule not in schema or contract.rule_tier(schema, rule) == "mock":
        return None
    return schema[rule]


def phone_limit(op_id: str) -> int:
    """The longest phone to send ``op_id``: its documented maximum, within the mock's where it has one."""
    return SPEC.operation(op_id).body_fields["phone"].schema.get("maxLength", 20)


# --- answers -----------------------------------------------------------------------------------


# --- requests ---------------------------------------------------------------------------------


def office_open(part: str) -> bytes:
    """A minimal Office Open XML package (docx, xlsx, pptx) whose content says what it is."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns='
            '"http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        archive.writestr(f"{part}/document.xml", "<document/>")
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
# Each documented extension's file starts as such files do, so a server that also looks at the content (a
# framework's mimes rule) sees the type the extension names; the docs say only "checked for extension".
SIGNATURES: dict[str, bytes] = {
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89",
    "webp": b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00",
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "doc": OLE,
    "xls": OLE,
    "ppt": OLE,
    "docx": office_open("word"),
    "xlsx": office_open("xl"),
    "pptx": office_open("ppt"),
    "txt": b"contract suite\n",
    "csv": b"name,phone\ncontract,919999999999\n",
    "mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(8),
    "3gp": b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x003gp4" + bytes(8),
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(28),
    "ogg": b"OggS\x00\x02" + bytes(22) + b"\x01vorbis" + bytes(16),
    "opus": b"OggS\x00\x02" + bytes(22) + b"OpusHead\x01\x01" + bytes(10),
    "amr": b"#!AMR\n" + bytes(13),
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(16),
}
SIGNATURES["jpeg"] = SIGNATURES["jpg"]
NOISE = bytes(range(256))  # content of no known type, for extensions no media type allows


def upload(extension: str) -> tuple[str, bytes]:
    name = f"upload.{extension}" if extension else "upload"
    return name, SIGNATURES.get(extension, NOISE)


def dynamic_buttons(template: dict) -> int:
    """How many buttons of ``template`` take a URL parameter (``{{1}}`` in their URL), from ``components``."""
    buttons = [
        b
        for c in template.get("components") or ()
        if str(c.get("type", "")).upper() == "BUTTONS"
        for b in c.get("buttons") or ()
    ]
    return sum("{{" in str(b.get("url", "")) for b in buttons[:3])


def template_fields(template: dict) -> dict[str, str]:
    """Every parameter ``template`` needs, filled (the documented header and body rules of Send Template), and
    the documented ``button_N`` of its dynamic URL buttons."""
    fields = {f"field_{n}": f"value {n}" for n in range(1, template["body_params_count"] + 1)}
    header = (template.get("header_data_format") or "NONE").upper()
    if header == "TEXT" and template.get("header_params_count"):
        fields["header_field_1"] = "header value"
    elif header in ("IMAGE", "VIDEO", "DOCUMENT"):
        fields[f"header_{header.lower()}_url"] = f"https://example.com/header/{header.lower()}"
    fields.update({f"button_{n}": f"path{n}" for n in range(dynamic_buttons(template))})
    return fields


TEMPLATE_FIELDS = {
    "template_name",
    "language",
    "category",
    "status",
    "body_params_count",
    "header_data_format",
    "header_params_count",
    "components",
}


def sendable(template: dict) -> bool:
    """Whether Send Template can fill ``template`` without an OTP: APPROVED, not AUTHENTICATION (those need an
    OTP of their own), and no more parameters than its documented fields (``header_field_1``, ``field_1..10``)."""
    return (
        template["status"] == "APPROVED"
        and template["category"] != "AUTHENTICATION"
        and template["body_params_count"] <= 10
        and (template.get("header_params_count") or 0) <= 1
    )


class Sender:
    """A valid request of each send operation for one tenant; its templates are found through the API."""

    def __init__(self, api: Api) -> None:
        self.api = api

    @cached_property
    def templates(self) -> list[dict]:
        """List Templates' items, each as Get Template shows it where the list leaves out a field the checks read
        (the docs give List Templates' query only; Get Template's fields are documented)."""
        items = self.api.list_all("/templates")
        return [item if item.keys() >= TEMPLATE_FIELDS else self.get_template(item) for item in items]

    def get_template(self, item: dict) -> dict:
        response = self.api.get(f"/templates/{item['template_id']}")
        assert response.status_code == 200, describe(response)
        return response.json()["data"]

    @cached_property
    def otp_fields(self) -> dict[str, str]:
        return records.otp_template_fields(self.api)

    @cached_property
    def approved_template(self) -> dict:
        """A template Send Template can fill (D14 seeds an APPROVED MARKETING one)."""
        approved = [t for t in self.templates if sendable(t)]
        if not approved:
            pytest.skip("the tenant lists no APPROVED template outside the AUTHENTICATION category")
        return min(approved, key=lambda t: (t["template_name"], t["language"]))

    def body(self, op_id: str) -> dict[str, Any]:
        if op_id == "sendTextMessage":
            return {"message": f"Hello from the contract suite {records.unique('text')}"}
        if op_id == "sendInteractiveMessage":
            return {"type": "button", "body_text": "Pick one", "buttons": [{"id": "yes", "title": "Yes"}]}
        if op_id == "sendMediaMessage":
            return {"media_type": "image", "media_file": upload("jpg")}
        if op_id == "sendTemplateMessage":
            template = self.approved_template
            return {
                "template_name": template["template_name"],
                "language": template["language"],
                **template_fields(template),
            }
        code = {"code": "123456"} if op_id == "sendOtp" else {}
        return {**self.otp_fields, **code}

    def send(self, op_id: str, phone: str, **fields: Any):
        """Sends through ``op_id`` to ``phone``; ``fields`` add to or replace the valid body (None: left out)."""
        op = SPEC.operation(op_id)
        body = {k: v for k, v in {"phone": phone, **self.body(op_id), **fields}.items() if v is not None}
        if op_id == "sendMediaMessage":
            # The documented body is multipart/form-data; its fields are text by nature.
            files = {"media_file": body.pop("media_file")} if "media_file" in body else None
            return self.api.request(
                op.method, op.path, data={k: str(v) for k, v in body.items()}, files=files
            )
        return self.api.request(op.method, op.path, json=body)


@pytest.fixture
def sender(api: Api) -> Sender:
    return Sender(api)


def control_tenant(control: Control, **options: Any) -> tuple[TenantHandle, Api]:
    """A fresh control tenant made with ``options`` (limits, features, settings: D14), and its Api."""
    handle = control.new_tenant(rate_limit_per_minute=1_000_000, **options)
    return handle, Api(control.target, handle.token)


def control_sender(control: Control, **options: Any) -> Sender:
    """A Sender on a fresh control tenant made with ``options`` (limits, features, settings: D14)."""
    return Sender(control_tenant(control, **options)[1])


# --- templates that cannot be sent ---------------------------------------------------------------


def of_kind(params: list, kind: str) -> list:
    return [pytest.param(p.values[0], kind, p.values[-1], id=f"{p.id}-{kind}", marks=p.marks) for p in params]


REFUSALS = [
    *of_kind(senders_with(404, "RESOURCE_NOT_FOUND"), "not_approved"),
    *of_kind(senders_with(404, "RESOURCE_NOT_FOUND"), "unknown"),
    *of_kind(senders_with(422, "VALIDATION_ERROR", when="AUTHENTICATION category"), "wrong_category"),
]


def refused_templates(sender: Sender, kind: str) -> st.SearchStrategy[dict]:
    """Templates of ``kind``, found in List Templates by their status and category fields.

    A name that also has an APPROVED template (of the right category), in any language, is never used: whether
    the language takes part in the lookup is not fixed (D19).
    """
    usable = {
        t["template_name"]
        for t in sender.templates
        if t["status"] == "APPROVED" and (kind != "wrong_category" or t["category"] == "AUTHENTICATION")
    }
    if kind == "unknown":
        names = st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=40)
        known = {t["template_name"] for t in sender.templates}
        return names.filter(lambda n: n not in known).map(lambda n: {"template_name": n, "language": "en"})
    if kind == "not_approved":
        found = [t for t in sender.templates if t["status"] != "APPROVED"]
    else:
        found = [
            t for t in sender.templates if t["status"] == "APPROVED" and t["category"] != "AUTHENTICATION"
        ]
    found = [t for t in found if t["template_name"] not in usable]
    if not found:
        pytest.skip(f"the tenant lists no {kind.replace('_', ' ')} template")
    return st.sampled_from(found)


def needs_category(op_id: str) -> bool:
    """Whether ``op_id`` refuses a template outside the AUTHENTICATION category (its ``x-error-codes`` say so)."""
    return error_entry(op_id, 422, "VALIDATION_ERROR", when="AUTHENTICATION category") is not None


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "kind", "strict"), REFUSALS)
def test_templates_that_cannot_be_sent_are_refused(sender, op_id, kind, strict):
    """Sending a template that is unknown or not APPROVED is a 404 RESOURCE_NOT_FOUND; sending an OTP through
    an APPROVED template of another category is a 422 VALIDATION_ERROR (under which field is not fixed). An OTP
    sent through a template that is neither APPROVED nor AUTHENTICATION breaks both rules: either answer is
    right, since neither the docs nor D6 order them.

    Provenance per operation from the spec's ``x-error-codes`` (documented on Send OTP/Verification Code and
    inherited by Resend OTP; D4 for the strict cases).
    """

    @given(template=refused_templates(sender, kind))
    def check(template):
        fields = {"template_name": template["template_name"], "language": template["language"]}
        response = sender.send(op_id, records.unique_phone(), **fields)
        both_broken = needs_category(op_id) and template.get("category", "AUTHENTICATION") != "AUTHENTICATION"
        if kind == "wrong_category" or (both_broken and response.status_code == 422):
            refused(response, 422, "VALIDATION_ERROR", strict)
        else:
            refused(response, 404, "RESOURCE_NOT_FOUND", strict)

    check()


BODY_PARAMETERS = tiered("sendTemplateMessage", error_entry("sendTemplateMessage", 422, "VALIDATION_ERROR"))


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "strict"), BODY_PARAMETERS)
def test_every_body_parameter_is_required(sender, op_id, strict):
    """Send Template needs ``field_k`` for each body parameter ``{{k}}`` of the template: leaving any out is a
    422 VALIDATION_ERROR (strictly: naming each missing ``field_k``), and sending them all is accepted.

    Documented (Send Template Message: template validation rules); the field names in ``details`` D4, the 200
    D5, the messages D15.
    """
    candidates = [t for t in sender.templates if sendable(t) and t["body_params_count"] > 0]
    if not candidates:
        pytest.skip("the tenant lists no APPROVED template with body parameters outside AUTHENTICATION")
    cases = st.sampled_from(candidates).flatmap(
        lambda t: st.tuples(st.just(t), st.sets(st.integers(1, t["body_params_count"])))
    )

    @given(case=cases)
    def check(case):
        template, left_out = case
        fields = {**template_fields(template), **{f"field_{k}": None for k in left_out}}
        fields.update(template_name=template["template_name"], language=template["language"])
        response = sender.send(op_id, records.unique_phone(), **fields)
        if not left_out:
            assert response.status_code == 200, describe(response)
        elif not strict:
            names_code(response, 422, "VALIDATION_ERROR")
        else:
            reported = {name for name in details_of(response) if name.startswith("field_")}
            assert reported == {f"field_{k}" for k in left_out}, describe(response)

    check()


# --- recipients ------------------------------------------------------------------------------


def opt_out(control, tenant, contact_id: int) -> None:
    """Marks the tenant's contact opted out (D14), naming the tenant where the control client can: ids may be
    shared across tenants (D19), and then the id alone is ambiguous."""
    control.set_opt_out(contact_id, True, tenant_id=tenant.tenant_id)


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "strict"), senders_with(403, "CONTACT_OPTED_OUT"))
def test_opted_out_contacts_are_refused(api, tenant, needs_control, sender, op_id, strict):
    """A contact that opted out gets nothing: every send to its phone, or by ``contact_id``, is a 403
    CONTACT_OPTED_OUT; strictly also to any spelling of its phone (D9).

    Provenance per operation from the spec (documented on Send Text, Send Interactive and Send OTP); the
    opt-out switch is the control API's (D13, D14).
    """
    by_id = "contact_id" in SPEC.operation(op_id).body_fields

    @given(data=st.data())
    def check(data):
        contact = records.contact(api, tenant)
        opt_out(needs_control, tenant, contact["id"])
        longest = phone_limit(op_id)
        spellings = spelled(contact["phone"], longest) | st.just(padded(contact["phone"], longest))
        phone = data.draw(spellings, label="phone") if strict else contact["phone"]
        extra = {"contact_id": contact["id"]} if by_id and data.draw(st.booleans(), label="by id") else {}
        refused(sender.send(op_id, phone, **extra), 403, "CONTACT_OPTED_OUT", strict)

    check()


@pytest.mark.sends
@pytest.mark.parametrize(
    ("op_id", "strict"), senders_with(404, "NOT_FOUND", when="contact", needs_field="contact_id")
)
def test_missing_contact_id_is_not_found(api, sender, op_id, strict):
    """A ``contact_id`` naming no contact of the tenant is a 404 NOT_FOUND.

    Provenance per operation from the spec (documented on Send Text and Send OTP).
    """

    @given(contact_id=st.integers(10**9, 2**31 - 1))
    def check(contact_id):
        assume(api.get(f"/contacts/{contact_id}").status_code == 404)
        refused(sender.send(op_id, records.unique_phone(), contact_id=contact_id), 404, "NOT_FOUND", strict)

    check()


# --- media and interactive rules --------------------------------------------------------------

UPLOADS = tiered(MEDIA.operation_id, error_entry(MEDIA.operation_id, 422, "VALIDATION_ERROR"))


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "strict"), UPLOADS)
def test_uploads_need_an_extension_allowed_for_their_media_type(sender, op_id, strict):
    """An uploaded ``media_file`` is accepted exactly when its extension is allowed for its ``media_type``;
    otherwise it is a 422 VALIDATION_ERROR (strictly: naming ``media_file``). Each file's content is of the type
    its extension names.

    Documented (Send Media Message: allowed extensions per type, read from ``x-media-rules``); the placement
    under ``media_file`` D4, the 200 D5, the messages D15.
    """
    extensions = st.sampled_from(ALL_EXTENSIONS) | st.text(string.ascii_lowercase + string.digits, max_size=4)

    @given(media_type=st.sampled_from(sorted(MEDIA_RULES)), extension=extensions)
    def check(media_type, extension):
        response = sender.send(
            op_id, records.unique_phone(), media_type=media_type, media_file=upload(extension)
        )
        if extension in MEDIA_RULES[media_type]["extensions"]:
            assert response.status_code == 200, describe(response)
        elif strict:
            assert "media_file" in details_of(response), describe(response)
        else:
            names_code(response, 422, "VALIDATION_ERROR")

    check()


INTERACTIVE = SPEC.operation("sendInteractiveMessage").body_fields
BUTTONS = INTERACTIVE["buttons"].schema
SECTIONS = INTERACTIVE["sections"].schema
ROWS = SECTIONS["items"]["properties"]["rows"]
MAX_BUTTONS = checked_limit(BUTTONS, "maxItems")
MAX_BUTTON_TITLE = checked_limit(BUTTONS["items"]["properties"]["title"], "maxLength")
MAX_SECTIONS = checked_limit(SECTIONS, "maxItems")
MAX_LIST_BUTTON_TEXT = checked_limit(INTERACTIVE["list_button_text"].schema, "maxLength")
MAX_ROW_TITLE = checked_limit(ROWS["items"]["properties"]["title"], "maxLength")
# What no document fixes, the checks stay well inside of (D19): rows per section (also WhatsApp's total of 10
# rows in a list), ids, section titles.
ROWS_IN_A_LIST = 10


def over(limit: int | None, value: int) -> bool:
    return limit is not None and value > limit


@st.composite
def labels(draw, count: st.SearchStrategy[int], limit: int | None) -> list[str]:
    """``count`` distinct labels, often exactly at, one under or one over ``limit`` characters (never over a
    limit the contract does not fix). No label is blank or has surrounding space (D16; trimming is free)."""
    top = limit if limit is not None else 20
    boundary = [top - 1, top, top + 1] if limit is not None else [top - 1, top]
    lengths = st.integers(1, top + 10 if limit is not None else top) | st.sampled_from(boundary)
    made = []
    for index in range(draw(count)):
        length = draw(lengths)
        body = draw(st.text(ALNUM + " ", min_size=length - 1, max_size=length - 1))
        made.append((ALNUM[index] + body).rstrip().ljust(length, "x"))
    return made


def around(limit: int | None, low: int = 1) -> st.SearchStrategy[int]:
    """Counts from ``low`` to just over ``limit``, its boundary often; within 3 when no limit is fixed."""
    if limit is None:
        return st.integers(low, 3)
    return st.integers(low, limit + 2) | st.sampled_from([limit, limit + 1])


def expect_field_paths(response, expected: set[str], exact: bool = True) -> None:
    """200 when nothing breaks a rule, else a 422 reporting the ``expected`` paths (D4): exactly those, or at
    least those when the body also goes past what no document fixes."""
    if not expected:
        assert response.status_code == 200, describe(response)
    elif exact:
        assert set(details_of(response)) == expected, describe(response)
    else:
        assert expected <= set(details_of(response)), describe(response)


@pytest.mark.assumed
@pytest.mark.sends
@pytest.mark.operation("sendInteractiveMessage")
def test_button_limits_report_every_broken_path(sender):
    """Reply buttons: more than 3 is reported under ``buttons``, a title over 20 characters under
    ``buttons.N.title``, all at once; a message within the limits is sent. Counts and lengths at the limits,
    one under and one over are tried on purpose.

    Assumed (D4: dotted paths, every failing field at once); the limits themselves are documented.
    """

    @given(titles=labels(around(MAX_BUTTONS), MAX_BUTTON_TITLE))
    def check(titles):
        buttons = [{"id": f"b{i}", "title": title} for i, title in enumerate(titles)]
        expected = {
            f"buttons.{i}.title" for i, title in enumerate(titles) if over(MAX_BUTTON_TITLE, len(title))
        }
        expected |= {"buttons"} if over(MAX_BUTTONS, len(buttons)) else set()
        expect_field_paths(
            sender.send("sendInteractiveMessage", records.unique_phone(), buttons=buttons), expected
        )

    check()


@st.composite
def list_menus(draw) -> list[list[str]]:
    """Row titles per section: within WhatsApp's 10 rows in all when the sections are within their limit, one
    row each when there are too many sections."""
    sections = draw(around(MAX_SECTIONS))
    if over(MAX_SECTIONS, sections):
        titles = draw(labels(st.just(sections), MAX_ROW_TITLE))
        return [[title] for title in titles]
    sizes = [1] * sections
    for index in draw(st.lists(st.integers(0, sections - 1), max_size=ROWS_IN_A_LIST - sections)):
        sizes[index] = min(sizes[index] + 1, 3)
    titles = draw(labels(st.just(sum(sizes)), MAX_ROW_TITLE))
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [titles[start : start + size] for start, size in zip(starts, sizes, strict=True)]


@pytest.mark.assumed
@pytest.mark.sends
@pytest.mark.operation("sendInteractiveMessage")
def test_list_limits_report_every_broken_path(sender):
    """List menus: more than 10 sections is reported under ``sections``, a ``list_button_text`` over 20
    characters under its name, a row title over 24 under ``sections.N.rows.M.title``, all at once. Only the
    ``type = list`` fields are sent (D19: fields of the other type may be ignored or refused).

    Assumed (D4: dotted paths, every failing field at once); the limits themselves are documented.
    """

    @given(rows=list_menus(), button_text=labels(st.just(1), MAX_LIST_BUTTON_TEXT))
    def check(rows, button_text):
        body = {
            "type": "list",
            "buttons": None,
            "list_button_text": button_text[0],
            "sections": [
                {
                    "title": f"Section {i}",
                    "rows": [{"id": f"r{i}-{j}", "title": t} for j, t in enumerate(titles)],
                }
                for i, titles in enumerate(rows)
            ],
        }
        expected = {
            f"sections.{i}.rows.{j}.title"
            for i, titles in enumerate(rows)
            for j, t in enumerate(titles)
            if over(MAX_ROW_TITLE, len(t))
        }
        expected |= {"sections"} if over(MAX_SECTIONS, len(rows)) else set()
        expected |= {"list_button_text"} if over(MAX_LIST_BUTTON_TEXT, len(button_text[0])) else set()
        within = sum(map(len, rows)) <= ROWS_IN_A_LIST
        response = sender.send("sendInteractiveMessage", records.unique_phone(), **body)
        expect_field_paths(response, expected, exact=within)

    check()


# --- the history ------------------------------------------------------------------------------

KINDS = ("sendTextMessage", "sendTemplateMessage", "sendMediaMessage", "sendInteractiveMessage")
# The send answers that document ``status`` (Send Template's table was cut before it).
STATUS_ANSWERS = ("sendTextMessage", "sendMediaMessage", "sendInteractiveMessage")
# Digits-only phones every send takes: as short as Send Text and Send Media allow, as long as Send Media allows.
PHONE_LENGTHS = (
    SPEC.operation("sendTextMessage").body_fields["phone"].schema["minLength"],
    12,
    phone_limit(MEDIA.operation_id),
)
SENDS = st.tuples(st.sampled_from(KINDS), st.sampled_from(PHONE_LENGTHS))


def fresh_phone(length: int) -> str:
    """A phone of ``length`` digits no other check uses."""
    return "9" + "".join(secrets.choice(string.digits) for _ in range(length - 1))


def send_some(sender: Sender, kinds: list[tuple[str, int]], tick) -> list[dict]:
    """Sends one message per (kind, phone length) to a fresh number; returns the answers' data after checking
    the documented fields every such answer has (the phone as sent, digits only; status ``sent`` where
    documented)."""
    sent = []
    for op_id, length in kinds:
        digits = fresh_phone(length)
        response = sender.send(op_id, digits)
        assert response.status_code == 200, describe(response)
        answer = response.json()["data"]
        assert answer["phone"] == digits and isinstance(answer["message_id"], str), answer
        assert op_id not in STATUS_ANSWERS or answer["status"] == "sent", answer
        sent.append(answer)
        tick()
    return sent


def history(api: Api, sent: list[dict]) -> list[dict]:
    """Our messages in List Messages (newest first by default), in its order, found by the WhatsApp
    ``message_id`` that the send answers and the history both document. They are on the first page unless
    more than a page of messages share their second (a fast server without rate limits): then the pages
    are read on until all of ours are seen."""
    ours = {m["message_id"] for m in sent}
    found: list[dict] = []
    for body in api.pages("/messages"):
        found += [item for item in body["data"] if item["message_id"] in ours]
        if len(found) >= len(ours):
            break
    assert sorted(item["message_id"] for item in found) == sorted(ours), (sent, found)
    assert all(item["status"] in MESSAGE_STATUSES for item in found), found
    return found


@pytest.mark.documented
@pytest.mark.sends
@pytest.mark.operation(*KINDS, "listMessages")
def test_sent_messages_are_listed_newest_first(api, sender, control, tenant):
    """What the send operations answer is in List Messages, newest first by default.

    Documented (List Messages: default sort -created_at, message_id; send operations: message_id, the cleaned
    phone, status sent). With control, the tenant's clock moves a second between sends so the order is strict;
    without, only their presence is checked. Other messages of the tenant are not read: their ``sent_at`` may
    come from ``time_sent`` rather than the sort's ``created_at``.
    """

    def tick() -> None:
        if control is not None:
            control.move_clock(tenant.tenant_id, advance_seconds=1)

    @given(kinds=st.lists(SENDS, min_size=1, max_size=4))
    def check(kinds):
        sent = send_some(sender, kinds, tick)
        order = [item["message_id"] for item in history(api, sent)]
        if control is not None:
            assert order == [m["message_id"] for m in reversed(sent)], order

    check()


@pytest.mark.documented
@pytest.mark.sends
@pytest.mark.operation(*KINDS, "listMessages", "getMessage")
def test_get_message_finds_each_sent_message(api, sender):
    """Get Message with the record ``id`` List Messages shows for a sent message returns that message: the
    same id, WhatsApp id, type and time.

    Documented (List Messages and Get Message: ``id`` is the message record id Get Message takes). A send's
    ``chat_message_id`` is not used: whether it is that id is not fixed (D19).
    """

    @given(kinds=st.lists(SENDS, min_size=1, max_size=3))
    def check(kinds):
        for item in history(api, send_some(sender, kinds, lambda: None)):
            response = api.get(f"/messages/{item['id']}")
            assert response.status_code == 200, describe(response)
            message = response.json()["data"]
            same = ("id", "message_id", "type", "sent_at")
            assert {k: message[k] for k in same} == {k: item[k] for k in same}, (item, message)
            assert message["status"] in MESSAGE_STATUSES, message

    check()


# --- plan limits and configuration (tenants made with control) ----------------------------------


@pytest.mark.sends
@pytest.mark.parametrize(
    ("op_id", "strict"), senders_with(403, "FEATURE_LIMIT_EXCEEDED", when="conversation")
)
def test_conversation_limit_is_enforced(needs_control, op_id, strict):
    """With the plan's monthly conversations used up, a send to a new number is a 403 FEATURE_LIMIT_EXCEEDED
    with ``current`` and ``maximum`` at the limit; strictly as D4's details {feature, current, maximum}.

    Provenance per operation from the spec (documented on Send Text, Send Interactive and Send OTP: details keys
    documented on Create Contact); the tenant's plan is set through the control API (D14).
    """

    @given(maximum=st.integers(0, 3))
    def check(maximum):
        limited = control_sender(needs_control, limits={"conversations": maximum})
        for _ in range(maximum):
            response = limited.send("sendTextMessage", records.unique_phone())
            assert response.status_code == 200, describe(response)
        expect_feature_limit(limited.send(op_id, records.unique_phone()), maximum, strict)

    check()


def expect_feature_limit(response, maximum: int, strict: bool) -> None:
    """403 FEATURE_LIMIT_EXCEEDED with the documented details ``current`` and ``maximum`` both at the limit:
    strictly as D4's ``details`` with exactly the keys ``feature``, ``current`` and ``maximum`` (the value of
    ``feature`` is free: D4 names the keys only), else wherever the answer holds them."""
    details = refused(response, 403, "FEATURE_LIMIT_EXCEEDED", strict)
    if strict:
        assert set(details) == {"feature", "current", "maximum"}, details
        assert isinstance(details["feature"], str) and details["feature"], details
        assert (details["current"], details["maximum"]) == (maximum, maximum), details
        return
    for key in ("current", "maximum"):
        found = values_under(response, key)
        assert found and all(value == maximum for value in found), f"{key} {found}: {describe(response)}"


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "strict"), senders_with(403, "FEATURE_NOT_AVAILABLE"))
def test_templates_feature_off_refuses_template_sends(needs_control, op_id, strict):
    """A plan without the ``whatsapp_templates`` feature cannot send templates: 403 FEATURE_NOT_AVAILABLE.

    Provenance per operation from the spec (documented on Send OTP, inherited by Resend OTP); the plan is set
    through the control API (D14).
    """
    gated = control_sender(needs_control, features={"whatsapp_templates": False})

    @given(phone=st.builds(records.unique_phone))
    def check(phone):
        refused(gated.send(op_id, phone), 403, "FEATURE_NOT_AVAILABLE", strict)

    check()


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "strict"), senders_with(422, "WHATSAPP_NOT_CONFIGURED"))
def test_unconfigured_whatsapp_refuses_sends(needs_control, op_id, strict):
    """An account whose WhatsApp is not configured cannot send: 422 WHATSAPP_NOT_CONFIGURED.

    Provenance per operation from the spec (documented on Send Text and Send OTP); the setting is D14's
    ``settings.whatsapp_configured``, which every control API target honours.
    """
    unconfigured = control_sender(needs_control, settings={"whatsapp_configured": False})

    @given(phone=st.builds(records.unique_phone))
    def check(phone):
        refused(unconfigured.send(op_id, phone), 422, "WHATSAPP_NOT_CONFIGURED", strict)

    check()


CONTACT_LIMIT_ON_CREATE = tiered("createContact", error_entry("createContact", 403, "FEATURE_LIMIT_EXCEEDED"))
# The sends whose auto-creation of a contact is documented: their contact-limit refusal is.
AUTO_CREATING = senders_with(403, "FEATURE_LIMIT_EXCEEDED", when="contact limit")


def tenant_at_contact_limit(control: Control, room: int) -> tuple[TenantHandle, Api, int]:
    """A fresh tenant (D14 ``limits.contacts``) allowed ``room`` contacts beyond those it starts with, filled up
    to its limit through Create Contact; returns it, its Api and the limit. The starting contacts are counted on
    a tenant made just before (a new tenant's records are free, D19)."""
    _, probe = control_tenant(control)
    maximum = len(probe.list_all("/contacts")) + room
    handle, api = control_tenant(control, limits={"contacts": maximum})
    for _ in range(room):
        records.contact(api, handle)
    if len(api.list_all("/contacts")) != maximum:
        pytest.skip("new tenants start with different contacts, so the limit cannot be reached exactly")
    return handle, api, maximum


@pytest.mark.parametrize(("op_id", "strict"), CONTACT_LIMIT_ON_CREATE)
def test_contacts_limit_refuses_create_contact(needs_control, op_id, strict):
    """With the plan's contacts used up, Create Contact is a 403 FEATURE_LIMIT_EXCEEDED with ``current`` and
    ``maximum`` at the limit (strictly D4's details); up to the limit contacts are created.

    Documented (Create Contact: the tenant's contacts limit, details feature, current, maximum); the plan's
    limit is set through the control API (D14 ``limits``).
    """

    @given(room=st.integers(0, 2))
    def check(room):
        handle, api, maximum = tenant_at_contact_limit(needs_control, room)
        expect_feature_limit(
            api.post("/contacts", json=records.valid_body(api, handle, op_id)), maximum, strict
        )

    check()


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "strict"), AUTO_CREATING)
def test_contacts_limit_refuses_auto_creation(needs_control, op_id, strict):
    """With the plan's contacts used up, a send to a phone no contact has (which would auto-create one) is a 403
    FEATURE_LIMIT_EXCEEDED with ``current`` and ``maximum`` at the limit (strictly D4's details).

    Provenance per operation from the spec (documented on Send Text, Send Interactive, Send OTP and, on RASL,
    Send Template: auto-creation counts against the contact limit); the limit is set through D14's ``limits``.
    """

    @given(room=st.integers(0, 1))
    def check(room):
        _, api, maximum = tenant_at_contact_limit(needs_control, room)
        expect_feature_limit(Sender(api).send(op_id, records.unique_phone()), maximum, strict)

    check()


@pytest.mark.sends
@pytest.mark.parametrize(("op_id", "strict"), [p for p in AUTO_CREATING if not p.values[-1]])
def test_sends_create_the_contact_they_name(api, sender, op_id, strict):
    """A send to a phone no contact has creates a contact with that phone, whose id the answer gives as
    ``contact_id``; List Contacts (searched by the phone) lists it. The phone is digits only, so as stored (as
    sent or cleaned, D9) it is the same.

    Documented (Send Text, Send OTP and Send Template on RASL: auto-creation, ``contact_id`` existing or just
    auto-created; List Contacts: search over phone). The cases are those whose contact-limit refusal on
    auto-creation the spec marks documented.
    """

    @given(phone=st.builds(records.unique_phone))
    def check(phone):
        response = sender.send(op_id, phone)
        assert response.status_code == 200, describe(response)
        contact_id = response.json()["data"]["contact_id"]
        found = [c for c in api.list_all("/contacts", {"search": phone}) if c["id"] == contact_id]
        assert found and found[0]["phone"] == phone, f"contact {contact_id} not listed with {phone}: {found}"

    check()


def unique_email() -> str:
    """An e-mail address no other contact has (e-mails are unique per tenant)."""
    return f"merge-{secrets.token_hex(4)}@example.com"


TEXT = SPEC.operation("sendTextMessage")
MERGE_FIELDS: list[str] = TEXT.ext("merge-fields")
NAMES = ("Ada", "Grace", "Émilie", "Zoë")
MERGE_SOURCES = dict(zip(MERGE_FIELDS, ("firstname", "lastname", "email", "phone"), strict=True))


@contract.rests_on(TEXT.tier)
@pytest.mark.sends
@pytest.mark.operation("sendTextMessage", "createContact")
def test_send_text_expands_merge_fields(api, tenant, sender):
    """Merge fields in Send Text's ``message`` are replaced with the contact's data: the answer's ``message``
    is the text after expansion. The contact is made with Create Contact, its phone digits only (so the phone as
    stored, D9, is the one sent).

    Documented (Send Text Message: merge fields @{contact_first_name}, @{contact_last_name}, @{contact_email},
    @{contact_phone}; response ``message``: text actually sent, after merge-field expansion).
    """

    @given(
        fields=st.lists(st.sampled_from(MERGE_FIELDS), min_size=1, max_size=4), name=st.sampled_from(NAMES)
    )
    def check(fields, name):
        values = {"firstname": name, "lastname": "Lovelace", "email": unique_email()}
        contact = records.contact(api, tenant, **values)
        values["phone"] = contact["phone"]
        text = "Hi " + " / ".join(fields)
        expanded = "Hi " + " / ".join(values[MERGE_SOURCES[f]] for f in fields)
        response = sender.send("sendTextMessage", contact["phone"], message=text)
        assert response.status_code == 200, describe(response)
        assert response.json()["data"]["message"] == expanded, describe(response)

    check()


@contract.rests_on(SPEC.operation("sendTemplateMessage").tier)
@pytest.mark.sends
@pytest.mark.operation("sendTemplateMessage", "listMessages")
def test_send_template_expands_merge_fields(api, tenant, sender):
    """A merge field sent in ``field_1`` is replaced before sending: the message List Messages shows for the
    send does not hold the raw merge field. (What a template message's content holds is not documented, so only
    the absence of the raw field is checked.)

    Documented (Send Template Message: field_1..field_10 support merge fields; List Messages: content).
    """
    candidates = [t for t in sender.templates if sendable(t) and t["body_params_count"] > 0]
    if not candidates:
        pytest.skip("the tenant lists no APPROVED template with body parameters outside AUTHENTICATION")
    template = min(candidates, key=lambda t: (t["template_name"], t["language"]))

    @given(field=st.sampled_from(MERGE_FIELDS))
    def check(field):
        contact = records.contact(api, tenant, email=unique_email())
        fields = {**template_fields(template), "field_1": field}
        fields.update(template_name=template["template_name"], language=template["language"])
        response = sender.send("sendTemplateMessage", contact["phone"], **fields)
        assert response.status_code == 200, describe(response)
        (item,) = history(api, [response.json()["data"]])
        assert field not in str(item.get("message") or ""), item

    check()


@contract.rests_on(SPEC.operation("sendTemplateMessage").tier)
@pytest.mark.sends
@pytest.mark.operation("sendTemplateMessage")
def test_send_template_needs_an_approved_template(sender):
    """Send Template refuses a template name that no APPROVED template of the tenant has (unknown, or only
    PENDING or REJECTED): some 4xx answer. Which status and code is not documented (the spec's 404
    RESOURCE_NOT_FOUND is the mock's choice), so only the refusal is checked.

    Documented (Send Template Message: template_name "Must exist as APPROVED template").
    """
    unknown = refused_templates(sender, "unknown")
    approved = {t["template_name"] for t in sender.templates if t["status"] == "APPROVED"}
    others = [t for t in sender.templates if t["status"] != "APPROVED" and t["template_name"] not in approved]
    pool = unknown | st.sampled_from(others) if others else unknown

    def refuses(template: dict) -> None:
        fields = {
            "template_name": template["template_name"],
            "language": template["language"],
            "field_1": "x",
        }
        response = sender.send("sendTemplateMessage", records.unique_phone(), **fields)
        assert 400 <= response.status_code < 500, (
            f"{template.get('status', 'unknown')} template: {describe(response)}"
        )

    @given(template=pool)
    def check(template):
        refuses(template)

    check()
    # One template of each status the docs refuse, whatever the random example drew (one example under --smoke).
    for status in sorted({t["status"] for t in others}):
        refuses(next(t for t in others if t["status"] == status))


# --- sync --------------------------------------------------------------------------------------


def template_set(api: Api) -> set[tuple]:
    return {
        (t["template_id"], t["template_name"], t["language"], t["category"], t["status"])
        for t in api.list_all("/templates")
    }


@pytest.mark.assumed
@pytest.mark.operation("syncTemplates", "listTemplates")
def test_sync_is_idempotent(api):
    """Sync Templates answers 200 each time, and once synced, syncing again on an unchanged WhatsApp account
    leaves List Templates with the same set of templates.

    Assumed (D5 status; D8 template ids). The first sync may change the set (the tenant's records need not
    mirror its WhatsApp account before it), so only the syncs after it are compared.
    """

    @given(times=st.integers(2, 3))
    def check(times):
        seen = []
        for _ in range(times + 1):
            response = api.post("/templates/sync")
            assert response.status_code == 200, describe(response)
            seen.append(template_set(api))
        assert all(s == seen[1] for s in seen[1:]), seen

    check()
