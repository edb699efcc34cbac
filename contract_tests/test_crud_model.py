"""Property: a tenant's contacts, groups, sources and statuses are exactly what a model of its history says.

A Hypothesis state machine (``TenantModel``, beside its plain-data model ``TenantRecords``) interleaves creates, updates and
deletes of every collection, group membership changes and batch operations on
a fresh tenant, and predicts each answer from its model: success or the 422 a
clash must give (duplicate names, phones in any spelling, e-mails, unknown
contact ids, sources and statuses still in use). After every step the tenant
must hold exactly the model: every record reads back as modelled, deleted ids
are gone for good, group filters list exactly the members, list totals are the
model's counts, and ``is_opted_out`` never moved. A second tenant probes the
first and must see and touch nothing of it. The machine rests on decisions
(D3 list shape, D5 status codes, D8 tenancy and ids, D9 phones, D13 deletes and
``is_opted_out``), so it is an assumed check.

The documented facts it leans on are also checked on their own, as documented
checks that need no control API: the duplicate name, phone and e-mail messages,
the counting of Add/Remove Contacts to/from Group and of Batch Delete Contacts,
and Update Contact changing only the fields sent.
"""

from __future__ import annotations

import dataclasses
import secrets
import string
import unicodedata
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from contract_tests import contract, records
from contract_tests.expect import field_errors
from contract_tests.strategies import phone_digits, spelled, spellings, words
from contract_tests.target import Api, Control, Target, TenantHandle

COLLECTIONS = ("sources", "statuses", "groups", "contacts")
NAMED = ("sources", "statuses", "groups")
NAMED_FIELDS = {"sources": ("name",), "statuses": ("name", "color"), "groups": ("name",)}
CREATE_OP = {
    c: contract.spec().collection_operation(c, "POST").operation_id for c in ("sources", "statuses", "groups")
}
UPDATE_OP = {
    c: contract.spec().collection_operation(c, "PATCH").operation_id
    for c in ("sources", "statuses", "groups")
}
CONTACT_FIELDS = (
    "firstname",
    "lastname",
    "phone",
    "email",
    "type",
    "company",
    "description",
    "city",
    "state",
    "zip",
    "address",
    "country_id",
    "assigned_id",
    "source_id",
    "status_id",
)
REFERENCE_FIELD = {"sources": "source_id", "statuses": "status_id"}

MODEL_SETTINGS = settings(max_examples=max(1, settings().max_examples * 3 // 4), stateful_step_count=25)


def message(operation_id: str, field: str, rule_key: str) -> str:
    """The contract's message for one rule of one body field, read from the spec."""
    return contract.spec().operation(operation_id).field_message(field, rule_key)


def batch_item_message(field: str, rule_key: str) -> str | None:
    """The documented message of a batch item's rule, or None where its wording is assumed (D15: presence only)."""
    schema = contract.spec().schema("ContactBatchItem")["properties"][field]
    return (
        None
        if not contract.message_documented(schema, rule_key)
        else schema["x-validation-messages"][rule_key]
    )


# --- generated values -----------------------------------------------------------------------------------------


OPTIONAL_CONTACT_FIELDS = {
    "company": words(),
    "description": words(60),
    "city": words(),
    "state": words(),
    "zip": st.text(alphabet=string.ascii_uppercase + string.digits, min_size=3, max_size=10),
    "address": words(60),
    "country_id": st.integers(1, 250),
    "assigned_id": st.integers(1, 50),
}
TYPES = st.sampled_from(("lead", "customer", "guest"))
COLORS = st.text(alphabet="0123456789ABCDEF", min_size=6, max_size=6).map(lambda hex_: "#" + hex_)
PHONE_DIGITS = st.text(alphabet=string.digits, min_size=11, max_size=13).filter(lambda d: d[0] != "0")
EMAILS = st.builds(
    "{}@{}.{}".format,
    st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12),
    st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=10),
    st.sampled_from(("com", "io", "org", "in")),
)


def sometimes(data: st.DataObject, label: str) -> bool:
    """True one time in four: clashes and strangers stay frequent without crowding out the successes."""
    return data.draw(st.sampled_from((False, False, False, True)), label=label)


def folded(text: str) -> str:
    """What a lenient collation may take as equal: case, accents and runs of blanks differ (D19: which values
    clash beyond exact equality is the implementation's, so the model makes either exact clashes or none)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def same(actual: dict, expected: dict) -> None:
    """The documented fields of an answer equal the model's; further fields are the implementation's (D19)."""
    assert {key: actual.get(key) for key in expected} == expected, (actual, expected)


def near_phones(digits: str) -> list[str]:
    """``digits`` one digit longer, shorter or changed at its end: other numbers (D9 compares all digits)."""
    other = str((int(digits[-1]) + 1) % 10)
    return [d for d in (digits + "7", digits[:-1], digits[:-1] + other) if 11 <= len(d) <= 14]


def contact_fields(
    sources: list[int], statuses: list[int], groups: list[int], required: bool
) -> st.SearchStrategy:
    """Valid contact fields other than phone and e-mail; on update (``required`` false) each one is optional."""
    core = {
        "firstname": words(),
        "lastname": words(),
        "type": TYPES,
        "source_id": st.sampled_from(sources),
        "status_id": st.sampled_from(statuses),
    }
    optional: dict[str, st.SearchStrategy] = {**OPTIONAL_CONTACT_FIELDS, "is_opted_out": st.booleans()}
    if groups:  # never ``[]`` on update: an empty field is not sent there, and what that means is free (D16)
        optional["groups"] = st.lists(
            st.sampled_from(groups), unique=True, min_size=int(not required), max_size=3
        )
    if required:
        return st.fixed_dictionaries(core, optional=optional)
    return st.fixed_dictionaries({}, optional={**core, **optional})


# --- reading answers ---------------------------------------------------------------------------------------------


def body_of(response, status: int) -> dict:
    request = response.request
    assert response.status_code == status, (
        f"{request.method} {request.url} expected {status}, got {response.status_code}: {response.text}"
    )
    return response.json()


def ok(response, status: int = 200) -> Any:
    return body_of(response, status)["data"]


def succeeded(response) -> Any:
    """A documented check only asks for success: the exact 2xx code is D5."""
    request = response.request
    assert 200 <= response.status_code < 300, (
        f"{request.method} {request.url}: {response.status_code} {response.text}"
    )
    return response.json()["data"]


def expect_invalid(response, expected: dict[str, str]) -> None:
    """422 VALIDATION_ERROR naming exactly ``expected``'s fields, each with its message."""
    found = field_errors(response)
    assert not found.others(expected), f"expected failures in {sorted(expected)}, got {found.field_names()}"
    for field, text in expected.items():
        assert text in found.messages(field), f"{field}: {text!r} not in {found.field_names()}"


def expect_message_under(response, field: str, text: str) -> None:
    """The documented message under ``field`` or one of its elements ``field.N`` (the dotted path is D4)."""
    found = field_errors(response)
    assert text in found.messages(field, nested=True), f"{text!r} not under {field} in {found.field_names()}"


def list_all(api: Api, collection: str, params: dict | None = None) -> tuple[list[dict], int]:
    """Every item of a collection, and the total its last page reports (D3)."""
    bodies = list(api.pages(f"/{collection}", params))
    return [item for body in bodies for item in body["data"]], bodies[-1]["meta"]["total"]


def view(collection: str, record: dict) -> dict:
    """The fields the model tracks; ``group_id`` as a sorted list (its order, and ``null`` or ``[]`` for none, are
    not part of the contract)."""
    if collection != "contacts":
        return {name: record.get(name) for name in NAMED_FIELDS[collection]}
    tracked = {name: record[name] for name in CONTACT_FIELDS}
    tracked["phone"] = phone_digits(
        record["phone"]
    )  # D9: stored as sent or cleaned, the same number either way
    return {**tracked, "group_id": sorted(record["group_id"] or []), "is_opted_out": record["is_opted_out"]}


def assert_phone_as_stored(contact: dict, body: dict) -> None:
    """D9: the Contact resource's ``phone`` is the number as sent or cleaned to its digits."""
    if "phone" in body:
        assert contact["phone"] in (body["phone"], phone_digits(body["phone"])), (
            contact["phone"],
            body["phone"],
        )


def expected_contact(body: dict, before: dict | None = None) -> dict:
    """The contact after a create (``before`` None) or an update sending ``body``; ``is_opted_out`` never follows it."""
    empty = {name: None for name in CONTACT_FIELDS} | {"group_id": [], "is_opted_out": False}
    contact = dict(before or empty)
    for name in CONTACT_FIELDS:
        if name in body:
            contact[name] = phone_digits(body[name]) if name == "phone" else body[name]
    if "groups" in body:
        contact["group_id"] = sorted(set(body["groups"]))
    return contact


def assert_groups_loaded(contact: dict) -> None:
    """Create and Update Contact answer with the contact's groups loaded (documented)."""
    assert sorted(g["id"] for g in contact["groups"] or []) == sorted(contact["group_id"] or []), contact


# --- the model-based machine ---------------------------------------------------------------------------------------


@dataclass
class TenantRecords:
    """The model: what tenant A must hold, by collection and id, and what it ever held (plain data, no HTTP)."""

    records: dict[str, dict[int, dict]] = dataclasses.field(
        default_factory=lambda: {c: {} for c in COLLECTIONS}
    )
    deleted: dict[str, set[int]] = dataclasses.field(default_factory=lambda: {c: set() for c in COLLECTIONS})
    ever: dict[str, set[int]] = dataclasses.field(default_factory=lambda: {c: set() for c in COLLECTIONS})
    # The records the tenant started with (D14's defaults and any more, D19) are read and referenced but never
    # renamed or deleted: whether a default may go is not fixed anywhere. ``own`` holds the ones the machine made.
    own: dict[str, set[int]] = dataclasses.field(default_factory=lambda: {c: set() for c in COLLECTIONS})
    serial: int = 0

    def start_with(self, collection: str, record_id: int, expected: dict) -> None:
        """A record the tenant already had."""
        self.records[collection][record_id] = expected
        self.ever[collection].add(record_id)

    def remember(self, collection: str, record_id: int, expected: dict) -> None:
        assert record_id not in self.ever[collection], f"{collection} id {record_id} was used before (D8)"
        self.ever[collection].add(record_id)
        self.own[collection].add(record_id)
        self.records[collection][record_id] = expected

    def forget(self, collection: str, record_id: int) -> None:
        del self.records[collection][record_id]
        self.own[collection].discard(record_id)
        self.deleted[collection].add(record_id)
        if collection == "groups":  # D13: a deleted group leaves every contact
            for contact in self.records["contacts"].values():
                contact["group_id"] = [g for g in contact["group_id"] if g != record_id]

    def ids(self, collection: str) -> list[int]:
        return sorted(self.records[collection])

    def owned(self, collection: str) -> list[int]:
        return sorted(self.own[collection])

    def members(self, group_id: int) -> set[int]:
        return {cid for cid, contact in self.records["contacts"].items() if group_id in contact["group_id"]}

    def name_taken(self, collection: str, name: str, own_id: int | None) -> bool:
        return any(r["name"] == name for rid, r in self.records[collection].items() if rid != own_id)

    def clashes(self, body: dict, own_id: int | None = None) -> dict[str, str]:
        """The documented duplicate messages ``body`` must get; uniqueness excludes the contact itself."""
        operation_id = "createContact" if own_id is None else "updateContact"
        others = [c for cid, c in self.records["contacts"].items() if cid != own_id]
        errors = {}
        if "phone" in body and phone_digits(body["phone"]) in {c["phone"] for c in others}:
            errors["phone"] = message(operation_id, "phone", "unique")
        if "email" in body and body["email"] in {c["email"] for c in others}:
            errors["email"] = message(operation_id, "email", "unique")
        return errors

    def fresh(self, taken: set[str], text: str) -> str:
        """``text``, suffixed until no existing value equals it even under a lenient collation (``folded``);
        an e-mail gets the suffix in its local part, so it stays an e-mail."""
        folds = {folded(t) for t in taken}
        local, at, domain = text.rpartition("@") if "@" in text else (text, "", "")
        candidate = text
        while folded(candidate) in folds:
            self.serial += 1
            candidate = f"{local}.{self.serial}{at}{domain}" if at else f"{text} {self.serial}"
        return candidate


class TenantModel(RuleBasedStateMachine):
    """Tenant A under random CRUD traffic, tenant B probing it."""

    def __init__(self, target: Target, control: Control) -> None:
        super().__init__()
        self.target, self.control = target, control
        self.a, _ = self.new_tenant()
        self.model = TenantRecords()
        for collection in COLLECTIONS:
            for item in list_all(self.a, collection)[0]:
                self.model.start_with(collection, item["id"], view(collection, item))
        self.b, handle = self.new_tenant()
        self.b_group = records.group(self.b)["id"]
        self.b_contact = records.contact(self.b, handle)
        self.b_ids = {c: {item["id"] for item in list_all(self.b, c)[0]} for c in COLLECTIONS}

    def new_tenant(self) -> tuple[Api, TenantHandle]:
        handle = self.control.new_tenant(rate_limit_per_minute=1_000_000)
        return Api(self.target, handle.token), handle

    # --- drawing from the model ------------------------------------------------------------------------------

    def foreign_contacts(self) -> list[int]:
        """Ids that are not tenant A's contacts: its deleted ones (D8: never reused) and tenant B's."""
        return sorted(
            (self.model.deleted["contacts"] | {self.b_contact["id"]}) - set(self.model.records["contacts"])
        )

    def draw_named_body(self, data: st.DataObject, collection: str) -> dict:
        """A name already in use (a clash, or the record's own) or a fresh one; statuses maybe with a colour."""
        names = sorted({r["name"] for r in self.model.records[collection].values()})
        text = data.draw(words(40), label="name")
        reuse = bool(names) and sometimes(data, "reuse a name")
        body = {"name": data.draw(st.sampled_from(names)) if reuse else self.model.fresh(set(names), text)}
        if collection == "statuses":
            color = data.draw(st.none() | COLORS, label="color")
            if color is not None:
                body["color"] = color
        return body

    def draw_phone(self, data: st.DataObject, often: bool = False) -> str:
        """A fresh number, one already used, or a near miss of a used one (one digit more, less or changed: no
        clash), spelled in any D9 way."""
        used = sorted({c["phone"] for c in self.model.records["contacts"].values() if c["phone"]})
        reuse = bool(used) and (
            data.draw(st.booleans(), label="reuse a phone") if often else sometimes(data, "reuse a phone")
        )
        if reuse:
            digits = data.draw(st.sampled_from(used), label="phone digits")
        elif (near := [n for u in used for n in near_phones(u) if n not in used]) and sometimes(
            data, "near miss"
        ):
            digits = data.draw(st.sampled_from(near), label="near phone")
        else:
            digits = data.draw(PHONE_DIGITS, label="phone digits")
        return data.draw(spelled(digits), label="phone")

    def draw_email(self, data: st.DataObject) -> str:
        """An e-mail in use, as it is stored, or one no contact has in any case (e-mail case rules are free)."""
        used = sorted({c["email"] for c in self.model.records["contacts"].values() if c["email"]})
        if used and sometimes(data, "reuse an email"):
            return data.draw(st.sampled_from(used), label="email")
        return self.model.fresh(set(used), data.draw(EMAILS, label="email"))

    def draw_contact_ids(self, data: st.DataObject) -> list[int]:
        """Distinct ids for a membership change: A's contacts, sometimes with ids that are not A's."""
        known: list[int] = []
        if self.model.records["contacts"]:
            known = data.draw(
                st.lists(st.sampled_from(self.model.ids("contacts")), unique=True, min_size=1, max_size=4),
                label="known",
            )
        foreign = self.foreign_contacts()
        strangers: list[int] = []
        if foreign and (not known or sometimes(data, "add strangers")):
            strangers = data.draw(
                st.lists(st.sampled_from(foreign), unique=True, min_size=1, max_size=2), label="strangers"
            )
        return data.draw(st.permutations(known + strangers), label="contact_ids")

    @initialize(data=st.data())
    def populate(self, data: st.DataObject) -> None:
        """A group with members, and a source and a status of the model's own, so membership, cascades and
        in-use refusals have work from the first step."""
        self.create_named("groups", data)
        self.create_named("sources", data)
        self.create_named("statuses", data)
        self.create_contact(data)
        self.create_contact(data)
        if self.model.records["groups"] and self.model.records["contacts"]:
            self.add_to_group(data)

    # --- sources, statuses, groups -------------------------------------------------------------------------------

    @rule(collection=st.sampled_from(NAMED), data=st.data())
    def create_named(self, collection: str, data: st.DataObject) -> None:
        body = self.draw_named_body(data, collection)
        response = self.a.post(f"/{collection}", json=body)
        if self.model.name_taken(collection, body["name"], None):
            expect_invalid(response, {"name": message(CREATE_OP[collection], "name", "unique")})
            return
        created = ok(response, 201)
        record = view(collection, created)
        # A field left out (a status's ``color``) gets what the server chooses: null, a default (D16, D19).
        expected = {name: body[name] if name in body else record[name] for name in NAMED_FIELDS[collection]}
        assert record == expected
        self.model.remember(collection, created["id"], expected)

    @precondition(lambda self: any(self.model.own[c] for c in NAMED))
    @rule(data=st.data())
    def update_named(self, data: st.DataObject) -> None:
        collection = data.draw(st.sampled_from([c for c in NAMED if self.model.own[c]]), label="collection")
        record_id = data.draw(st.sampled_from(self.model.owned(collection)), label="id")
        body = self.draw_named_body(data, collection)
        response = self.a.patch(f"/{collection}/{record_id}", json=body)
        if self.model.name_taken(collection, body["name"], record_id):
            expect_invalid(response, {"name": message(UPDATE_OP[collection], "name", "unique")})
            return
        before = self.model.records[collection][record_id]
        record = view(collection, ok(response))
        expected = {**before, **body}
        for name in set(NAMED_FIELDS[collection]) - set(body):
            # Whether an update without the field keeps it, clears it or sets a default is free (D16, D19).
            expected[name] = record[name]
        assert record == expected
        self.model.records[collection][record_id] = expected

    @precondition(lambda self: any(self.model.own[c] for c in NAMED))
    @rule(data=st.data())
    def delete_named(self, data: st.DataObject) -> None:
        collection = data.draw(st.sampled_from([c for c in NAMED if self.model.own[c]]), label="collection")
        field = REFERENCE_FIELD.get(collection)
        in_use = (
            sorted({c[field] for c in self.model.records["contacts"].values()} & self.model.own[collection])
            if field
            else []
        )
        pool = (
            in_use
            if in_use and bool(data.draw(st.booleans(), label="one in use"))
            else self.model.owned(collection)
        )
        record_id = data.draw(st.sampled_from(pool), label="id")
        response = self.a.delete(f"/{collection}/{record_id}")
        if field and any(c[field] == record_id for c in self.model.records["contacts"].values()):
            found = field_errors(response)  # D13: refused while a contact uses it
            assert found.reports("id"), found.field_names()
            return
        assert ok(response) is None
        self.model.forget(collection, record_id)

    # --- contacts ------------------------------------------------------------------------------------------------

    def references(self, data: st.DataObject, collection: str) -> list[int]:
        """The ids a new contact may use: often only the model's own, so their deletes meet contacts (D13)."""
        own = self.model.owned(collection)
        return (
            own
            if own and bool(data.draw(st.booleans(), label=f"own {collection}"))
            else self.model.ids(collection)
        )

    @precondition(lambda self: self.model.records["sources"] and self.model.records["statuses"])
    @rule(data=st.data())
    def create_contact(self, data: st.DataObject) -> None:
        fields = contact_fields(
            self.references(data, "sources"),
            self.references(data, "statuses"),
            self.model.ids("groups"),
            required=True,
        )
        body = data.draw(fields, label="fields")
        body["phone"] = self.draw_phone(data)
        if data.draw(st.booleans(), label="with email"):
            body["email"] = self.draw_email(data)
        response = self.a.post("/contacts", json=body)
        errors = self.model.clashes(body)
        if errors:
            expect_invalid(response, errors)
            return
        contact = ok(response, 201)
        assert view("contacts", contact) == expected_contact(body)
        assert_phone_as_stored(contact, body)
        assert_groups_loaded(contact)
        self.model.remember("contacts", contact["id"], expected_contact(body))

    @precondition(lambda self: self.model.records["contacts"])
    @rule(data=st.data())
    def update_contact(self, data: st.DataObject) -> None:
        contact_id = data.draw(st.sampled_from(self.model.ids("contacts")), label="id")
        fields = contact_fields(
            self.model.ids("sources"), self.model.ids("statuses"), self.model.ids("groups"), required=False
        )
        body = data.draw(fields, label="fields")
        if data.draw(st.booleans(), label="change phone"):
            body["phone"] = self.draw_phone(data)
        if data.draw(st.booleans(), label="change email"):
            body["email"] = self.draw_email(data)
        if not set(body) - {"is_opted_out"}:  # an empty update is undocumented
            body["firstname"] = data.draw(words(), label="firstname")
        response = self.a.patch(f"/contacts/{contact_id}", json=body)
        errors = self.model.clashes(body, contact_id)
        if errors:
            expect_invalid(response, errors)
            return
        contact = ok(response)
        expected = expected_contact(body, self.model.records["contacts"][contact_id])
        assert view("contacts", contact) == expected
        assert_phone_as_stored(contact, body)
        assert_groups_loaded(contact)
        self.model.records["contacts"][contact_id] = expected

    @precondition(lambda self: self.model.records["contacts"])
    @rule(data=st.data())
    def delete_contact(self, data: st.DataObject) -> None:
        contact_id = data.draw(st.sampled_from(self.model.ids("contacts")), label="id")
        assert ok(self.a.delete(f"/contacts/{contact_id}")) is None
        self.model.forget("contacts", contact_id)

    @precondition(lambda self: self.model.records["sources"] and self.model.records["statuses"])
    @rule(data=st.data())
    def batch_create(self, data: st.DataObject) -> None:
        """Items whose phone a contact already has are skipped or failed as the options say (documented); the
        phones within one batch differ (how a batch treats its own duplicates is not fixed, D19)."""
        fields = contact_fields(self.model.ids("sources"), self.model.ids("statuses"), [], required=True)
        items = data.draw(st.lists(fields, min_size=1, max_size=4), label="items")
        emails = {c["email"] for c in self.model.records["contacts"].values() if c["email"]}
        seen = {c["phone"] for c in self.model.records["contacts"].values()}
        created: list[int] = []
        skipped: list[int] = []
        failed: list[int] = []
        for index, item in enumerate(items):
            phone = self.draw_phone(data, often=True)
            while phone_digits(phone) in {phone_digits(i["phone"]) for i in items[:index]}:
                phone = data.draw(PHONE_DIGITS, label="another phone")
            item["phone"] = phone
            if data.draw(
                st.booleans(), label="with email"
            ):  # fresh: e-mail clashes are checked on single create
                item["email"] = self.model.fresh(emails, data.draw(EMAILS, label="email"))
                emails.add(item["email"])
        options = data.draw(
            st.fixed_dictionaries(
                {}, optional={"continue_on_error": st.booleans(), "skip_duplicates": st.booleans()}
            ),
            label="options",
        )
        for index, item in enumerate(items):
            if phone_digits(item["phone"]) in seen:
                (skipped if options.get("skip_duplicates", False) else failed).append(index)
            else:
                created.append(index)
        body = (
            {"contacts": items}
            if not options and data.draw(st.booleans(), label="no options")
            else {"contacts": items, "options": options}
        )
        response = self.a.post("/contacts/batch", json=body)
        if failed and options.get("continue_on_error", True) is False:
            self.batch_stopped(response, items, created, failed[0])
            return
        result = ok(response)
        same(
            result["summary"],
            {"total": len(items), "created": len(created), "skipped": len(skipped), "failed": len(failed)},
        )
        assert sorted(entry["index"] for entry in result["skipped"]) == skipped, result["skipped"]
        # Each entry's fields were cut off in the docs ("i..."): only the number of failed entries is documented.
        assert len(result["errors"]) == len(failed), result["errors"]
        self.remember_batch(result["created"], [items[i] for i in created])

    def batch_stopped(self, response, items: list[dict], created: list[int], first_failed: int) -> None:
        """D18, ``continue_on_error: false``: nothing after the first failing item is created. Whether the items
        before it stay (with whatever answer) or the whole batch is a 422 and nothing is created is free, so the
        tenant's list tells which happened: exactly those items, or none."""
        before = [items[i] for i in created if i < first_failed]
        if response.status_code == 422:
            found = field_errors(response)
            messages = found.messages(f"contacts.{first_failed}.phone")
            text = batch_item_message("phone", "unique")
            assert messages and (text is None or text in messages), found.field_names()
        new = [c for c in list_all(self.a, "contacts")[0] if c["id"] not in self.model.ever["contacts"]]
        kept = sorted(phone_digits(c["phone"]) for c in new)
        assert kept in ([], sorted(phone_digits(item["phone"]) for item in before)), (kept, before)
        if response.status_code != 422:
            answered = ok(response)["created"]
            assert sorted(c["id"] for c in answered) == sorted(c["id"] for c in new), (answered, new)
        self.remember_batch(new, before if new else [])

    def remember_batch(self, answered: list[dict], sent: list[dict]) -> None:
        """The created contacts are the ``sent`` items, matched by phone (their order in the answer is free)."""
        by_phone = {phone_digits(contact["phone"]): contact for contact in answered}
        assert sorted(by_phone) == sorted(phone_digits(item["phone"]) for item in sent), (answered, sent)
        for item in sent:
            contact = by_phone[phone_digits(item["phone"])]
            assert view("contacts", contact) == expected_contact(item)
            assert_phone_as_stored(contact, item)
            self.model.remember("contacts", contact["id"], expected_contact(item))

    @precondition(lambda self: self.model.records["contacts"] or self.foreign_contacts())
    @rule(data=st.data())
    def batch_delete(self, data: st.DataObject) -> None:
        """Ids that are not the tenant's (deleted, or tenant B's) count as failed (documented)."""
        ids = self.draw_contact_ids(data)
        present = [i for i in ids if i in self.model.records["contacts"]]
        summary = ok(self.a.request("DELETE", "/contacts/batch", json={"ids": ids}))["summary"]
        same(summary, {"total": len(ids), "deleted": len(present), "failed": len(ids) - len(present)})
        for contact_id in present:
            self.model.forget("contacts", contact_id)

    # --- membership ----------------------------------------------------------------------------------------------

    @precondition(
        lambda self: (
            self.model.records["groups"] and (self.model.records["contacts"] or self.foreign_contacts())
        )
    )
    @rule(data=st.data())
    def add_to_group(self, data: st.DataObject) -> None:
        group_id = data.draw(st.sampled_from(self.model.ids("groups")), label="group")
        ids = self.draw_contact_ids(data)
        response = self.a.post(f"/groups/{group_id}/contacts", json={"contact_ids": ids})
        unknown = [index for index, cid in enumerate(ids) if cid not in self.model.records["contacts"]]
        if unknown:
            text = message("addGroupContacts", "contact_ids", "exists")
            expect_invalid(response, {f"contact_ids.{index}": text for index in unknown})
            return
        newcomers = set(ids) - self.model.members(group_id)
        same(ok(response), {"group_id": group_id, "contacts_added": len(newcomers)})
        for contact_id in newcomers:
            self.model.records["contacts"][contact_id]["group_id"] = sorted(
                [*self.model.records["contacts"][contact_id]["group_id"], group_id]
            )

    @precondition(
        lambda self: (
            self.model.records["groups"] and (self.model.records["contacts"] or self.foreign_contacts())
        )
    )
    @rule(data=st.data())
    def remove_from_group(self, data: st.DataObject) -> None:
        group_id = data.draw(st.sampled_from(self.model.ids("groups")), label="group")
        ids = self.draw_contact_ids(data)
        leaving = set(ids) & self.model.members(group_id)
        response = self.a.request("DELETE", f"/groups/{group_id}/contacts", json={"contact_ids": ids})
        same(ok(response), {"group_id": group_id, "contacts_removed": len(leaving)})
        for contact_id in leaving:
            contact = self.model.records["contacts"][contact_id]
            contact["group_id"] = [g for g in contact["group_id"] if g != group_id]

    @precondition(lambda self: any(self.model.deleted.values()))
    @rule(data=st.data())
    def touch_deleted(self, data: st.DataObject) -> None:
        """A deleted record stays gone for every operation on it (D8, D13)."""
        collection = data.draw(
            st.sampled_from([c for c in COLLECTIONS if self.model.deleted[c]]), label="collection"
        )
        record_id = data.draw(st.sampled_from(sorted(self.model.deleted[collection])), label="id")
        body = {"firstname": "Ghost"} if collection == "contacts" else {"name": f"Ghost {record_id}"}
        assert self.a.patch(f"/{collection}/{record_id}", json=body).status_code == 404
        assert self.a.delete(f"/{collection}/{record_id}").status_code == 404

    # --- tenant isolation (D8) -----------------------------------------------------------------------------------

    def a_only(self, collection: str) -> list[int]:
        """A's ids that B does not own itself (an implementation may number each tenant's records apart)."""
        return sorted(set(self.model.records[collection]) - self.b_ids[collection])

    @rule()
    def other_tenant_sees_nothing(self) -> None:
        for collection in COLLECTIONS:
            listed, total = list_all(self.b, collection)
            assert {item["id"] for item in listed} == self.b_ids[collection] and total == len(
                self.b_ids[collection]
            )
            for record_id in self.a_only(collection):
                assert self.b.get(f"/{collection}/{record_id}").status_code == 404, (collection, record_id)

    @rule(data=st.data())
    def other_tenant_cannot_use_a_records(self, data: st.DataObject) -> None:
        probes = [
            p
            for p, collection in (
                ("source", "sources"),
                ("status", "statuses"),
                ("members", "contacts"),
                ("batch_delete", "contacts"),
                ("write", "groups"),
                ("write", "contacts"),
            )
            if self.a_only(collection)
        ]
        if not probes:
            return
        probe = data.draw(st.sampled_from(probes), label="probe")
        if probe in ("source", "status"):
            self.b_create_contact_with_a_reference(data, probe)
        elif probe == "members":
            ids = data.draw(
                st.lists(st.sampled_from(self.a_only("contacts")), min_size=1, max_size=3, unique=True)
            )
            response = self.b.post(f"/groups/{self.b_group}/contacts", json={"contact_ids": ids})
            text = message("addGroupContacts", "contact_ids", "exists")
            expect_invalid(response, {f"contact_ids.{index}": text for index in range(len(ids))})
        elif probe == "batch_delete":
            ids = data.draw(
                st.lists(st.sampled_from(self.a_only("contacts")), min_size=1, max_size=3, unique=True)
            )
            summary = ok(self.b.request("DELETE", "/contacts/batch", json={"ids": ids}))["summary"]
            same(summary, {"total": len(ids), "deleted": 0, "failed": len(ids)})
        else:
            collection = data.draw(st.sampled_from([c for c in ("groups", "contacts") if self.a_only(c)]))
            record_id = data.draw(st.sampled_from(self.a_only(collection)), label="id")
            body = (
                {"firstname": "Intruder"} if collection == "contacts" else {"name": f"Intruder {record_id}"}
            )
            assert self.b.patch(f"/{collection}/{record_id}", json=body).status_code == 404
            assert self.b.delete(f"/{collection}/{record_id}").status_code == 404

    def b_create_contact_with_a_reference(self, data: st.DataObject, probe: str) -> None:
        """B's create naming A's source (or status) is refused with the documented message; B's contacts stay."""
        collection = "sources" if probe == "source" else "statuses"
        field = REFERENCE_FIELD[collection]
        body = {
            "firstname": "Eve",
            "lastname": "Other",
            "type": "lead",
            "source_id": self.b_contact["source_id"],
            "status_id": self.b_contact["status_id"],
            "phone": data.draw(
                PHONE_DIGITS.filter(lambda d: d != phone_digits(self.b_contact["phone"])), label="phone"
            ),
        }
        body[field] = data.draw(st.sampled_from(self.a_only(collection)), label="foreign id")
        expect_invalid(
            self.b.post("/contacts", json=body), {field: message("createContact", field, "exists")}
        )

    # --- invariants ------------------------------------------------------------------------------------------------

    @invariant()
    def tenant_holds_the_model(self) -> None:
        for collection in COLLECTIONS:
            listed, total = list_all(self.a, collection)
            assert total == len(self.model.records[collection]), (
                collection,
                total,
                len(self.model.records[collection]),
            )
            assert {item["id"]: view(collection, item) for item in listed} == self.model.records[
                collection
            ], collection
            for record_id, expected in self.model.records[collection].items():
                assert view(collection, ok(self.a.get(f"/{collection}/{record_id}"))) == expected
            for record_id in self.model.deleted[collection]:
                assert self.a.get(f"/{collection}/{record_id}").status_code == 404, (collection, record_id)

    @invariant()
    def group_filter_lists_the_members(self) -> None:
        for group_id in self.model.records["groups"]:
            listed, _ = list_all(self.a, "contacts", {"filter[group_id]": group_id})
            assert {item["id"] for item in listed} == self.model.members(group_id), group_id


@pytest.mark.assumed
def test_tenant_matches_its_model(target: Target, needs_control: Control) -> None:
    """Random create/update/delete traffic on contacts, groups, memberships, sources and statuses leaves the
    tenant exactly as modelled, and a second tenant never sees or touches it.

    Rests on D3 (list meta), D5 (201/200, ``data: null`` on delete), D8 (404 for others' and deleted records,
    ids never reused), D9 (phones compared and stored as digits), D13 (group delete cascade, in-use refusal,
    read-only ``is_opted_out``); the messages checked are the documented ones.
    """
    # Hypothesis takes any factory of machines here (its docs: "state_machine_factory"); its stub names only classes.
    factory = lambda: TenantModel(target, needs_control)  # noqa: E731
    run_state_machine_as_test(factory, settings=MODEL_SETTINGS)  # type: ignore[arg-type]


# --- documented facts, one by one ------------------------------------------------------------------------------------


@pytest.fixture
def refs(api: Api, tenant: TenantHandle) -> tuple[int, int]:
    """A source and a status of the tenant for new contacts (the D14 defaults, else found or made via the API)."""
    return records.references(api, tenant)


def new_contact(api: Api, refs: tuple[int, int], **fields: Any) -> dict:
    return succeeded(api.post("/contacts", json={**records.contact_body(*refs), **fields}))


def unique_email() -> str:
    return f"contract.{secrets.token_hex(5)}@example.com"


@pytest.mark.documented
@pytest.mark.parametrize("collection", NAMED)
def test_taken_name_gets_the_documented_message(api: Api, collection: str) -> None:
    """Create/Update Source, Status and Group (documented): a name the tenant already uses is a 422 with
    "A ... with this name already exists" under ``name``; on update the record's own name is no clash
    ("unique per tenant (excludes current ...)")."""
    create_text = message(CREATE_OP[collection], "name", "unique")
    update_text = message(UPDATE_OP[collection], "name", "unique")

    @given(text=words(40))
    def check(text: str) -> None:
        name = f"{text} {secrets.token_hex(3)}"
        first = succeeded(api.post(f"/{collection}", json={"name": name}))
        expect_message_under(api.post(f"/{collection}", json={"name": name}), "name", create_text)
        second = succeeded(api.post(f"/{collection}", json={"name": f"{name} bis"}))
        expect_message_under(
            api.patch(f"/{collection}/{second['id']}", json={"name": name}), "name", update_text
        )
        assert succeeded(api.patch(f"/{collection}/{first['id']}", json={"name": name}))["name"] == name

    check()


@pytest.mark.documented
def test_taken_phone_or_email_gets_the_documented_message(api: Api, refs: tuple[int, int]) -> None:
    """Create and Update Contact (documented): a phone or e-mail another contact of the tenant has is a 422 with
    "This phone number already exists" / "This email address already exists"; the contact's own values are no
    clash on update ("excludes current contact")."""

    @given(clash=st.sampled_from(({"phone"}, {"email"}, {"phone", "email"})))
    def check(clash: set[str]) -> None:
        owner = new_contact(api, refs, email=unique_email())
        taken = {"phone": owner["phone"], "email": owner["email"]}
        body = {"phone": records.unique_phone(), "email": unique_email()} | {f: taken[f] for f in clash}
        created = api.post(
            "/contacts",
            json={
                "firstname": "Bob",
                "lastname": "Clash",
                "type": "guest",
                "source_id": refs[0],
                "status_id": refs[1],
                **body,
            },
        )
        for field in clash:
            expect_message_under(created, field, message("createContact", field, "unique"))
        other = new_contact(api, refs)
        updated = api.patch(f"/contacts/{other['id']}", json={f: taken[f] for f in clash})
        for field in clash:
            expect_message_under(updated, field, message("updateContact", field, "unique"))
        again = succeeded(api.patch(f"/contacts/{owner['id']}", json=taken))
        assert (again["phone"], again["email"]) == (owner["phone"], owner["email"])

    check()


@pytest.mark.assumed
@pytest.mark.operation("createContact")
def test_two_spellings_of_a_phone_are_one_contact(api: Api, refs: tuple[int, int]) -> None:
    """A contact created with the phone ``+91 98123 00001`` makes ``919812300001`` a taken phone: a 422 with "This
    phone number already exists" under ``phone``.

    Assumed (D9: two spellings of one number address the same contact); the message is documented.
    """
    digits = records.unique_phone()
    new_contact(api, refs, phone=spellings(digits, 20)[0])
    again = api.post("/contacts", json={**records.contact_body(*refs), "phone": digits})
    expect_message_under(again, "phone", message("createContact", "phone", "unique"))


@pytest.mark.documented
def test_group_membership_counts_only_real_changes(
    api: Api, tenant: TenantHandle, refs: tuple[int, int]
) -> None:
    """Add/Remove Contacts to/from Group (documented): ``contacts_added`` leaves out contacts already in the group,
    ``contacts_removed`` leaves out non-members and unknown ids; members carry the group in ``group_id``; one id
    that is not the tenant's contact fails Add with "One or more contact IDs do not exist"."""
    contacts = [new_contact(api, refs)["id"] for _ in range(4)]
    gone = new_contact(api, refs)["id"]
    succeeded(api.request("DELETE", "/contacts/batch", json={"ids": [gone]}))
    some = st.lists(st.sampled_from(contacts), min_size=1, unique=True)

    @given(
        first=some,
        second=some,
        leaving=st.lists(st.sampled_from([*contacts, gone]), min_size=1, unique=True),
        at=st.integers(0, 4),
    )
    def check(first: list[int], second: list[int], leaving: list[int], at: int) -> None:
        group_id = records.group(api)["id"]
        path = f"/groups/{group_id}/contacts"
        assert succeeded(api.post(path, json={"contact_ids": first}))["contacts_added"] == len(first)
        added = succeeded(api.post(path, json={"contact_ids": second}))
        assert (added["group_id"], added["contacts_added"]) == (group_id, len(set(second) - set(first)))
        members = set(first) | set(second)
        for contact_id in contacts:
            in_group = group_id in (succeeded(api.get(f"/contacts/{contact_id}"))["group_id"] or [])
            assert in_group == (contact_id in members), (contact_id, members)
        removed = succeeded(api.request("DELETE", path, json={"contact_ids": leaving}))
        assert (removed["group_id"], removed["contacts_removed"]) == (group_id, len(set(leaving) & members))
        with_unknown = [*first[:at], gone, *first[at:]]
        expect_message_under(
            api.post(path, json={"contact_ids": with_unknown}),
            "contact_ids",
            message("addGroupContacts", "contact_ids", "exists"),
        )

    check()


@pytest.mark.documented
def test_batch_delete_counts_unknown_ids_as_failed(api: Api, refs: tuple[int, int]) -> None:
    """Batch Delete Contacts (documented): ``summary.total`` is the ids sent, ``deleted`` the contacts removed,
    ``failed`` the ids that do not exist (here: deleted before), with no error; deleted contacts are 404."""

    @given(count=st.integers(1, 4), data=st.data())
    def check(count: int, data: st.DataObject) -> None:
        ids = [new_contact(api, refs)["id"] for _ in range(count)]
        early = data.draw(
            st.lists(st.sampled_from(ids), unique=True, max_size=count - 1), label="deleted first"
        )
        if early:
            summary = succeeded(api.request("DELETE", "/contacts/batch", json={"ids": early}))["summary"]
            same(summary, {"total": len(early), "deleted": len(early), "failed": 0})
        order = data.draw(st.permutations(ids), label="order")
        summary = succeeded(api.request("DELETE", "/contacts/batch", json={"ids": order}))["summary"]
        same(summary, {"total": count, "deleted": count - len(early), "failed": len(early)})
        for contact_id in ids:
            assert api.get(f"/contacts/{contact_id}").status_code == 404

    check()


@pytest.mark.documented
def test_update_contact_changes_only_the_fields_sent(api: Api, refs: tuple[int, int]) -> None:
    """Update Contact (documented): only the fields sent change; ``groups``, when sent, replaces the membership,
    and left out keeps it."""
    groups = [records.group(api)["id"] for _ in range(3)]
    changes = st.fixed_dictionaries(
        {},
        optional={
            "firstname": words(),
            "lastname": words(),
            "type": TYPES,
            "email": st.builds(unique_email),
            "phone": st.builds(records.unique_phone),
            "groups": st.lists(
                st.sampled_from(groups), unique=True, min_size=1
            ),  # ``[]`` is empty (D16): free
            **OPTIONAL_CONTACT_FIELDS,
        },
    ).filter(bool)

    @example(change={"firstname": "Ada"})  # every other field left out, so each must stay as it was
    @given(change=changes)
    def check(change: dict) -> None:
        before = new_contact(
            api,
            refs,
            email=unique_email(),
            company="Analytical Engines",
            city="London",
            state="Greater London",
            zip="NW1",
            address="12 St James's Square",
            description="First programmer",
            country_id=44,
            groups=groups[:1],
        )
        after_update = succeeded(api.patch(f"/contacts/{before['id']}", json=change))
        after = succeeded(api.get(f"/contacts/{before['id']}"))
        for name in CONTACT_FIELDS:
            expected = change.get(name, before[name])
            assert after_update[name] == after[name] == expected, (name, change)
        expected_groups = sorted(change.get("groups", before["group_id"] or []))
        assert sorted(after["group_id"] or []) == sorted(after_update["group_id"] or []) == expected_groups

    check()


@pytest.mark.assumed
@pytest.mark.parametrize("collection", tuple(REFERENCE_FIELD))
def test_reference_in_use_cannot_be_deleted(api: Api, tenant: TenantHandle, collection: str) -> None:
    """D13: deleting a source or status a contact still uses is a 422 VALIDATION_ERROR under ``id``, and the record
    stays; once no contact uses it, it can be deleted (documented: "refused if ... still assigned to any contact")."""
    record = records.source(api) if collection == "sources" else records.status(api)
    contact = new_contact(api, records.references(api, tenant), **{REFERENCE_FIELD[collection]: record["id"]})
    found = field_errors(api.delete(f"/{collection}/{record['id']}"))
    assert found.reports("id"), found.field_names()
    assert ok(api.get(f"/{collection}/{record['id']}"))["id"] == record["id"]
    assert ok(api.get(f"/contacts/{contact['id']}"))[REFERENCE_FIELD[collection]] == record["id"]
    assert ok(api.delete(f"/contacts/{contact['id']}")) is None
    assert ok(api.delete(f"/{collection}/{record['id']}")) is None
    assert api.get(f"/{collection}/{record['id']}").status_code == 404


@pytest.mark.assumed
def test_deleting_a_group_leaves_its_contacts(api: Api, tenant: TenantHandle) -> None:
    """D13: a deleted group is gone from the ``group_id`` of every contact that was in it, and the contacts stay,
    with their other groups."""
    refs = records.references(api, tenant)
    kept = records.group(api)["id"]

    @given(members=st.integers(1, 3), via_add=st.booleans())
    def check(members: int, via_add: bool) -> None:
        doomed = records.group(api)["id"]
        contacts = [
            new_contact(api, refs, groups=[kept] if via_add else [doomed, kept])["id"] for _ in range(members)
        ]
        if via_add:
            succeeded(api.post(f"/groups/{doomed}/contacts", json={"contact_ids": contacts}))
        assert ok(api.delete(f"/groups/{doomed}")) is None
        for contact_id in contacts:
            assert sorted(ok(api.get(f"/contacts/{contact_id}"))["group_id"]) == [kept], contact_id

    check()


# --- documented facts the TenantModel also checks, each on its own (no control API needed) -------------------------


def highest_listed_id(api: Api, collection: str) -> int:
    """The highest id the tenant's list of ``collection`` shows: one past it is no record of this tenant."""
    listing = next(
        op
        for op in contract.spec().operations.values()
        if op.collection == collection and op.method == "GET" and op.record is None
    )
    return max((int(item["id"]) for item in api.list_all(listing.path)), default=0)


@pytest.mark.documented
@pytest.mark.operation("createContact", "updateContact")
@pytest.mark.parametrize("collection", tuple(REFERENCE_FIELD))
def test_unknown_source_or_status_gets_the_documented_message(
    api: Api, refs: tuple[int, int], collection: str
) -> None:
    """Create and Update Contact (documented): a ``source_id``/``status_id`` the tenant does not have (one past the
    highest its list shows) is a 422 with "The selected source/status does not exist or does not belong to your
    account" under that field ("must exist in tenant sources/statuses")."""
    field = REFERENCE_FIELD[collection]
    unknown = highest_listed_id(api, collection) + 1
    body = {**records.contact_body(*refs), field: unknown}
    expect_message_under(api.post("/contacts", json=body), field, message("createContact", field, "exists"))
    contact = new_contact(api, refs)
    expect_message_under(
        api.patch(f"/contacts/{contact['id']}", json={field: unknown}),
        field,
        message("updateContact", field, "exists"),
    )


def in_use_cases() -> list:
    """The collections whose delete the docs refuse while a contact still uses the record (``x-in-use``)."""
    spec = contract.spec()
    return [
        pytest.param(
            collection,
            id=collection,
            marks=[pytest.mark.documented, pytest.mark.operation(op.operation_id, "getContact")],
        )
        for collection in REFERENCE_FIELD
        if (op := spec.collection_operation(collection, "DELETE")).ext("in-use")
    ]


def relation_of(field: str) -> str:
    """The ``include`` relation of Get Contact that embeds the record a contact's ``field`` names."""
    includes = contract.spec().operation("getContact").ext("includes") or ()
    return next(name for name in includes if f"{name}_id" == field)


@pytest.mark.parametrize("collection", in_use_cases())
def test_source_or_status_in_use_is_not_deleted(api: Api, refs: tuple[int, int], collection: str) -> None:
    """Delete Source / Delete Status (documented: "refused if the source/status is still assigned to any contact"):
    the delete is refused, a client error (its status, code and message are D13's, checked at level all), and the
    contact still shows the record through Get Contact's ``include`` (documented)."""
    field = contract.spec().collection_operation(collection, "DELETE").ext("in-use")["referenced_by"]["field"]
    record = records.source(api) if collection == "sources" else records.status(api)
    contact = new_contact(api, refs, **{field: record["id"]})
    refusal = api.delete(f"/{collection}/{record['id']}")
    assert 400 <= refusal.status_code < 500, (
        f"deleting a {collection[:-1]} in use was not refused: {refusal.text}"
    )
    relation = relation_of(field)
    shown = succeeded(api.get(f"/contacts/{contact['id']}", params={"include": relation}))
    assert shown[field] == record["id"], shown
    assert (shown.get(relation) or {}).get("id") == record["id"], f"the {relation} is gone: {shown}"


def batch_part(response, key: str) -> Any:
    """A documented part of Batch Create's answer (``summary``, ``created``, ``skipped``, ``errors``): the docs list
    them without saying whether ``data`` wraps them (D5's ``data`` or at the top, as the docs' table reads)."""
    assert 200 <= response.status_code < 300, f"batch create: {response.status_code} {response.text}"
    body = response.json()
    data = body.get("data")
    return data[key] if isinstance(data, dict) and key in data else body[key]


def same_phone(a: str, b: str) -> bool:
    return phone_digits(a) == phone_digits(b)


@pytest.mark.documented
@pytest.mark.operation("batchCreateContacts")
def test_batch_skips_duplicates_when_asked(api: Api, refs: tuple[int, int]) -> None:
    """Batch Create Contacts (documented): with ``options.skip_duplicates: true`` an item whose phone a contact of
    the tenant already has is skipped, not failed; ``summary`` counts total, created, skipped and failed, and the
    ``skipped`` entry carries ``index`` (of the item, counted from 0 or 1: not fixed), ``reason`` and ``data``."""
    owner = new_contact(api, refs)
    items = [records.contact_body(*refs), {**records.contact_body(*refs), "phone": owner["phone"]}]
    items.append(records.contact_body(*refs))
    response = api.post("/contacts/batch", json={"contacts": items, "options": {"skip_duplicates": True}})
    same(batch_part(response, "summary"), {"total": 3, "created": 2, "skipped": 1, "failed": 0})
    (entry,) = batch_part(response, "skipped")
    assert {"index", "reason", "data"} <= set(entry) and entry["index"] in (1, 2), entry
    made = batch_part(response, "created")
    assert sorted(phone_digits(c["phone"]) for c in made) == sorted(
        phone_digits(items[i]["phone"]) for i in (0, 2)
    ), made


@pytest.mark.documented
@pytest.mark.operation("batchCreateContacts")
def test_batch_continues_after_a_failed_item_by_default(api: Api, refs: tuple[int, int]) -> None:
    """Batch Create Contacts (documented defaults: ``continue_on_error`` true, ``skip_duplicates`` false): without
    options, an item whose phone is taken fails (it is not skipped) and the items after it are still created."""
    owner = new_contact(api, refs)
    items = [{**records.contact_body(*refs), "phone": owner["phone"]}, records.contact_body(*refs)]
    response = api.post("/contacts/batch", json={"contacts": items})
    same(batch_part(response, "summary"), {"total": 2, "created": 1, "skipped": 0, "failed": 1})
    assert len(batch_part(response, "errors")) == 1, response.text
    (made,) = batch_part(response, "created")
    assert same_phone(made["phone"], items[1]["phone"]), made


@pytest.mark.documented
@pytest.mark.operation("createContact", "updateContact")
def test_contact_answers_carry_their_groups(api: Api, refs: tuple[int, int]) -> None:
    """Create and Update Contact answer with the contact's groups auto-loaded (documented), without ``include``:
    each ``{id, name, ...}`` of the groups in ``group_id``, also after an update that did not send ``groups``."""
    group = records.group(api)
    created = new_contact(api, refs, groups=[group["id"]])
    updated = succeeded(api.patch(f"/contacts/{created['id']}", json={"firstname": "Grace"}))
    for answer in (created, updated):
        assert_groups_loaded(answer)
        assert [(g["id"], g["name"]) for g in answer["groups"]] == [(group["id"], group["name"])], answer
