"""The contract document against the docs' facts, typed in here from the reference (not read from the spec).

These lists come from the harvested docs pages; if the spec loses an operation,
a scope or a documented message, a check here fails. The provenance checks hold the
spec to the three tiers of docs/decisions.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi.yaml"
DECISIONS_PATH = ROOT / "docs" / "decisions.md"
# The shared source the project's decisions are written from; absent outside the team's workspace.
SHARED_DECISIONS_PATH = ROOT.parent / "shared" / "reference" / "decisions.md"
METHODS = ("get", "post", "put", "patch", "delete")

# The docs' sidebar: 43 operations (method, path).
OPERATIONS = {
    ("GET", "/account"),
    ("GET", "/account/usage"),
    ("GET", "/account/limits"),
    ("POST", "/auth/send-otp"),
    ("POST", "/auth/resend"),
    ("POST", "/auth/verify"),
    ("POST", "/auth/status"),
    ("GET", "/auth/templates"),
    ("GET", "/comments/{mobile}"),
    ("POST", "/comments/{mobile}"),
    ("GET", "/contacts"),
    ("POST", "/contacts"),
    ("GET", "/contacts/{id}"),
    ("PATCH", "/contacts/{id}"),
    ("DELETE", "/contacts/{id}"),
    ("POST", "/contacts/batch"),
    ("DELETE", "/contacts/batch"),
    ("GET", "/groups"),
    ("POST", "/groups"),
    ("GET", "/groups/{id}"),
    ("PATCH", "/groups/{id}"),
    ("DELETE", "/groups/{id}"),
    ("POST", "/groups/{id}/contacts"),
    ("DELETE", "/groups/{id}/contacts"),
    ("POST", "/messages/text"),
    ("POST", "/messages/template"),
    ("POST", "/messages/media"),
    ("POST", "/messages/interactive"),
    ("GET", "/messages"),
    ("GET", "/messages/{id}"),
    ("GET", "/sources"),
    ("POST", "/sources"),
    ("GET", "/sources/{id}"),
    ("PATCH", "/sources/{id}"),
    ("DELETE", "/sources/{id}"),
    ("GET", "/statuses"),
    ("POST", "/statuses"),
    ("GET", "/statuses/{id}"),
    ("PATCH", "/statuses/{id}"),
    ("DELETE", "/statuses/{id}"),
    ("GET", "/templates"),
    ("POST", "/templates/sync"),
    ("GET", "/templates/{id}"),
}

# Documented scopes (reference §1.4 of each file; D7 "Documented").
DOCUMENTED_SCOPES = {
    ("GET", "/account"): "account:read",
    ("GET", "/account/usage"): "account:read",
    ("GET", "/account/limits"): "account:read",
    ("POST", "/auth/send-otp"): "messages:send",
    ("POST", "/auth/resend"): "messages:send",
    ("POST", "/auth/verify"): "messages:send",
    ("POST", "/auth/status"): "messages:send",
    ("GET", "/auth/templates"): "templates:read",
    ("GET", "/contacts"): "contacts:read",
    ("GET", "/contacts/{id}"): "contacts:read",
    ("POST", "/contacts"): "contacts:write",
    ("PATCH", "/contacts/{id}"): "contacts:write",
    ("POST", "/contacts/batch"): "contacts:write",
    ("DELETE", "/contacts/batch"): "contacts:delete",
    ("GET", "/groups"): "groups:read",
    ("POST", "/groups"): "groups:write",
    ("PATCH", "/groups/{id}"): "groups:write",
    ("POST", "/groups/{id}/contacts"): "groups:write",
    ("DELETE", "/groups/{id}/contacts"): "groups:write",
    ("POST", "/messages/text"): "messages:send",
    ("POST", "/messages/template"): "messages:send",
    ("POST", "/messages/media"): "messages:send",
    ("POST", "/messages/interactive"): "messages:send",
    ("GET", "/messages"): "messages:read",
    ("GET", "/messages/{id}"): "messages:read",
    ("POST", "/sources"): "sources:write",
    ("PATCH", "/sources/{id}"): "sources:write",
    ("POST", "/statuses"): "statuses:write",
    ("PATCH", "/statuses/{id}"): "statuses:write",
    ("GET", "/templates"): "templates:read",
    ("GET", "/templates/{id}"): "templates:read",
    ("POST", "/templates/sync"): "templates:sync",
}

# Every documented validation message, per (operation, field) (reference "Validation Error Messages" tables).
DOCUMENTED_MESSAGES = {
    ("POST", "/auth/send-otp"): {
        "phone": [
            "Phone number is required",
            "Phone number must be at least 10 digits",
            "Phone number can only contain digits, +, -, spaces, and parentheses",
        ],
        "template_name": ["Template name is required"],
        "code": ["Authentication code is required"],
    },
    ("POST", "/auth/resend"): {
        "phone": ["Phone number is required"],
        "template_name": ["Template name is required"],
    },
    ("POST", "/auth/verify"): {
        "phone": ["Phone number is required"],
        "code": ["Verification code is required"],
    },
    ("POST", "/auth/status"): {"phone": ["Phone number is required"]},
    ("POST", "/contacts"): {
        "firstname": ["First name is required"],
        "lastname": ["Last name is required"],
        "phone": ["Phone number is required", "This phone number already exists"],
        "email": ["This email address already exists"],
        "type": ["Type must be either lead, customer, or guest"],
        "source_id": ["The selected source does not exist or does not belong to your account"],
        "status_id": ["The selected status does not exist or does not belong to your account"],
    },
    ("PATCH", "/contacts/{id}"): {
        "phone": ["This phone number already exists"],
        "email": ["This email address already exists"],
        "type": ["Type must be either lead, customer, or guest"],
        "source_id": ["The selected source does not exist or does not belong to your account"],
        "status_id": ["The selected status does not exist or does not belong to your account"],
    },
    ("POST", "/groups"): {"name": ["Group name is required", "A group with this name already exists"]},
    ("PATCH", "/groups/{id}"): {"name": ["Group name is required", "A group with this name already exists"]},
    ("POST", "/groups/{id}/contacts"): {
        "contact_ids": [
            "Contact IDs are required",
            "Contact IDs must be an array",
            "One or more contact IDs do not exist",
        ],
    },
    ("DELETE", "/groups/{id}/contacts"): {
        "contact_ids": ["Contact IDs are required", "Contact IDs must be an array"]
    },
    ("POST", "/sources"): {"name": ["Source name is required", "A source with this name already exists"]},
    ("PATCH", "/sources/{id}"): {
        "name": ["Source name is required", "A source with this name already exists"]
    },
    ("POST", "/statuses"): {
        "name": ["Status name is required", "A status with this name already exists"],
        "color": ["Color must be a valid hex color code (e.g., #FF5733)"],
    },
    ("PATCH", "/statuses/{id}"): {
        "name": ["Status name is required", "A status with this name already exists"],
        "color": ["Color must be a valid hex color code (e.g., #FF5733)"],
    },
}

# Documented success messages.
DOCUMENTED_SUCCESS = {
    ("GET", "/account"): "Account information retrieved successfully",
    ("GET", "/account/usage"): "Usage statistics retrieved successfully",
    ("GET", "/account/limits"): "Plan limits retrieved successfully",
    ("POST", "/auth/status"): "OTP status retrieved successfully",
    ("POST", "/contacts"): "Contact created successfully",
    ("PATCH", "/contacts/{id}"): "Contact updated successfully",
    ("POST", "/groups"): "Group created successfully",
    ("PATCH", "/groups/{id}"): "Group updated successfully",
    ("POST", "/sources"): "Source created successfully",
    ("PATCH", "/sources/{id}"): "Source updated successfully",
    ("POST", "/statuses"): "Status created successfully",
    ("PATCH", "/statuses/{id}"): "Status updated successfully",
    ("POST", "/comments/{mobile}"): "Comment added successfully",
}

TAGS = {
    "Account",
    "Authentication (OTP)",
    "Comments",
    "Contacts",
    "Groups",
    "Messages",
    "Sources",
    "Statuses",
    "Templates",
}


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


@pytest.fixture(scope="module")
def resolved(raw):
    from mockserver.spec import Spec

    return Spec(raw)


def operations(raw) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): item[method]
        for path, item in raw["paths"].items()
        for method in METHODS
        if method in item
    }


def test_spec_validates_as_openapi_31():
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    document, _ = read_from_filename(str(SPEC_PATH))
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_43_documented_operations_are_present(raw):
    assert set(operations(raw)) == OPERATIONS


def test_every_operation_has_an_id_one_docs_tag_summary_and_description(raw):
    ids = [op["operationId"] for op in operations(raw).values()]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)
    for key, op in operations(raw).items():
        assert len(op["tags"]) == 1 and op["tags"][0] in TAGS, key
        assert op.get("summary") and op.get("description"), key
        assert op.get("x-provenance"), key


def test_every_operation_but_comments_requires_a_scope(raw):
    for key, op in operations(raw).items():
        scopes = [s for requirement in op["security"] for s in requirement.get("bearerAuth", [])]
        if key[1].startswith("/comments"):
            assert scopes == [], key
        else:
            assert len(scopes) == 1, key
            assert op.get("x-scope-provenance"), key


def test_documented_scopes_are_the_ones_required(raw):
    ops = operations(raw)
    for key, scope in DOCUMENTED_SCOPES.items():
        assert ops[key]["security"] == [{"bearerAuth": [scope]}], key
        assert ops[key]["x-scope-provenance"].startswith("documented"), key


def test_every_4xx_response_uses_the_shared_error_envelope(resolved):
    envelope = resolved.schema("ErrorEnvelope")
    comments = resolved.schema("CommentsError")
    for op in resolved.operations.values():
        for status, response in op.raw["responses"].items():
            if not status.startswith("4"):
                continue
            schema = response["content"]["application/json"]["schema"]
            expected = comments if op.tag == "Comments" else envelope
            assert schema == expected, f"{op.operation_id} {status}"


def test_every_error_response_lists_its_codes_except_comments(resolved):
    for op in resolved.operations.values():
        if op.tag == "Comments":
            continue
        for status, response in op.raw["responses"].items():
            if status.startswith(("4", "5")):
                codes = response.get("x-error-codes")
                assert codes, f"{op.operation_id} {status} lists no x-error-codes"
                for entry in codes:
                    assert entry["code"].isupper() and entry["provenance"], entry


def test_every_documented_message_is_attached_to_its_field(resolved):
    by_key = {(op.method, op.path): op for op in resolved.operations.values()}
    for key, fields in DOCUMENTED_MESSAGES.items():
        op = by_key[key]
        for field, messages in fields.items():
            attached = op.body_fields[field].messages
            for message in messages:
                rules = [rule for rule, text in attached.items() if text == message]
                assert rules, f"{key} {field}: {message!r} missing from x-validation-messages {attached}"
                assumed = op.body_fields[field].schema.get("x-assumed-messages") or []
                assert not set(rules) & set(assumed), f"{key} {field}: documented {message!r} marked assumed"


def test_documented_success_messages(resolved):
    by_key = {(op.method, op.path): op for op in resolved.operations.values()}
    for key, message in DOCUMENTED_SUCCESS.items():
        assert by_key[key].raw["x-success-message"] == message, key


def test_every_operation_has_a_request_and_a_response_example(resolved):
    for op in resolved.operations.values():
        success = op.raw["responses"][str(op.success_status)]
        assert success["content"]["application/json"].get("examples"), op.operation_id
        if "requestBody" in op.raw:
            assert any(c.get("examples") for c in op.raw["requestBody"]["content"].values()), op.operation_id


def test_create_operations_link_to_the_created_record(resolved):
    for name in ("createContact", "createGroup", "createSource", "createStatus"):
        links = resolved.operation(name).raw["responses"]["201"]["links"]
        targets = {link["operationId"] for link in links.values()}
        singular = name.removeprefix("create")
        assert {f"get{singular}", f"update{singular}", f"delete{singular}"} <= targets, name
    group_links = resolved.operation("createGroup").raw["responses"]["201"]["links"]
    assert "addGroupContacts" in {link["operationId"] for link in group_links.values()}


def test_request_schemas_compile_with_a_message_for_every_rule(resolved):
    """Spec.__init__ compiles every request validator and refuses a rule without a message."""
    assert len(resolved.operations) == len(OPERATIONS)


# --- provenance tiers (docs/decisions.md, docs/spec-conventions.md) ------------------------------

TIER = re.compile(r"^(documented \(.+\)|assumed \(D\d+(, D\d+)*(; .+)?\)|mock \(.+\))$")
DECISION_HEADING = re.compile(r"^## (D\d+) (.+)$", re.MULTILINE)
TIER_MAPS = (
    "x-rule-provenance",
    "x-list-provenance",
    "x-implicit-rules",
    "x-behaviour-provenance",
    "x-alternate-success-messages-provenance",
)


def tier_strings(node, where: str = "") -> Iterator[tuple[str, str]]:
    """(location, tier string) of every provenance the spec gives, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}/{key}"
            if key in TIER_MAPS and isinstance(value, dict):
                yield from ((f"{here}/{k}", v) for k, v in value.items())
            elif isinstance(value, str) and (
                key == "provenance" or (key.startswith("x-") and key.endswith("provenance"))
            ):
                yield here, value
            else:
                yield from tier_strings(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from tier_strings(item, f"{where}[{index}]")


def decision_titles(text: str) -> dict[str, str]:
    """Decision number -> its title (the heading without a trailing parenthesis)."""
    return {
        number: re.sub(r"\s*\(.*\)$", "", title).strip() for number, title in DECISION_HEADING.findall(text)
    }


def keys_anywhere(node, wanted: str) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += [key] if key == wanted else []
            found += keys_anywhere(value, wanted)
    elif isinstance(node, list):
        for item in node:
            found += keys_anywhere(item, wanted)
    return found


def test_every_tier_string_parses(raw):
    strings = list(tier_strings(raw))
    assert len(strings) > 300, "the walk found too few provenance strings"
    bad = [(where, text) for where, text in strings if not TIER.match(text)]
    assert not bad, bad[:10]


def test_every_cited_decision_exists_in_docs_decisions():
    decided = set(decision_titles(DECISIONS_PATH.read_text(encoding="utf-8")))
    assert {f"D{n}" for n in range(1, 20)} <= decided
    cited = set(re.findall(r"\bD\d+\b", SPEC_PATH.read_text(encoding="utf-8")))
    assert cited, "the spec cites no decision"
    assert cited <= decided, sorted(cited - decided)


def test_no_old_assumed_rules_lists_remain(raw):
    assert keys_anywhere(raw, "x-assumed-rules") == []
    assert raw["x-implicit-rules"] == {"type": "assumed (D5)", "items": "assumed (D5)"}


def test_rule_tiers_name_rules_the_field_has_messages_for(raw):
    """A tier for a rule key the field never reports would be dead text."""

    def nodes(node):
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from nodes(value)
        elif isinstance(node, list):
            for item in node:
                yield from nodes(item)

    checked = 0
    for node in nodes(raw):
        if "x-validation-messages" not in node:
            continue
        tiers = dict(node.get("x-rule-provenance") or {})
        if isinstance(node.get("schema"), dict):  # a parameter keeps its tiers inside its schema
            tiers.update(node["schema"].get("x-rule-provenance") or {})
        assert set(tiers) <= set(node["x-validation-messages"]), (tiers, node["x-validation-messages"])
        checked += bool(tiers)
    assert checked > 40


def test_list_operations_give_a_tier_for_each_behaviour(resolved):
    for op in resolved.operations.values():
        raw_op = op.raw
        if "x-sort-fields" not in raw_op:
            continue
        tiers = raw_op.get("x-list-provenance") or {}
        expected = {"sort_fields", "default_sort", "search_fields", "unknown_filter", "operators"}
        expected |= {"includes", "unknown_include"} if raw_op.get("x-includes") else set()
        expected |= (
            {"search_alias_q"} if any(p.get("name") == "q" for p in raw_op.get("parameters", [])) else set()
        )
        assert set(tiers) == expected, (op.operation_id, sorted(tiers))
        for field, spec in raw_op["x-filters"].items():
            assert TIER.match(spec.get("provenance", "")), (op.operation_id, field)


def test_undocumented_response_properties_are_not_required(resolved):
    def walk(schema, seen):
        if not isinstance(schema, dict) or id(schema) in seen:
            return
        seen.add(id(schema))
        for name, prop in (schema.get("properties") or {}).items():
            if str(prop.get("x-provenance", "")).startswith("mock"):
                marked.append(name)
                assert name not in (schema.get("required") or []), name
            walk(prop, seen)
        for key in ("items",):
            walk(schema.get(key), seen)
        for sub in schema.get("allOf", []):
            walk(sub, seen)

    marked: list[str] = []
    seen: set[int] = set()
    for op in resolved.operations.values():
        for schema in op.response_schemas.values():
            walk(schema, seen)
    assert {"direction", "subscription", "chat_message_id"} <= set(marked)


def test_no_link_ties_a_sends_chat_message_id_to_get_message(raw):
    for key, op in operations(raw).items():
        for response in op["responses"].values():
            for link in (response.get("links") or {}).values():
                assert "chat_message_id" not in str(link.get("parameters")), key


@pytest.mark.skipif(
    not SHARED_DECISIONS_PATH.exists(), reason="the shared decisions source is not next to the repository"
)
def test_docs_decisions_has_the_numbers_and_titles_of_the_shared_source():
    ours = decision_titles(DECISIONS_PATH.read_text(encoding="utf-8"))
    shared = decision_titles(SHARED_DECISIONS_PATH.read_text(encoding="utf-8"))
    assert shared, "no decision headings found in the shared source"
    assert ours == shared


def load_census():
    """scripts/ is not a package; load the census script by path (its dataclasses need it in sys.modules)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "provenance_census", ROOT / "scripts" / "provenance_census.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def test_census_leaves_nothing_unmarked_and_every_decided_item_cites_a_decision(raw):
    census = load_census().take_census(raw)
    totals = {
        tier: sum(c[tier] for c in census.counts.values())
        for tier in ("documented", "decided", "mock", "unmarked")
    }
    assert census.unmarked == [], census.unmarked
    assert totals["unmarked"] == 0, {k: dict(c) for k, c in census.counts.items()}
    assert totals["documented"] and totals["decided"] and totals["mock"]
    assert sum(census.uncited.values()) == 0, dict(census.uncited)


def test_census_reads_the_old_assumed_rules_format():
    old = {
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "tags": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                            "maxItems": 5,
                                            "x-validation-messages": {
                                                "type": "t",
                                                "items": "i",
                                                "maxItems": "m",
                                            },
                                            "x-assumed-rules": ["maxItems"],
                                        }
                                    },
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    counts = load_census().take_census(old).counts["body field rules"]
    # old format: type implicitly D5, items documented, listed rules decided without a Dn of their own
    assert (counts["decided"], counts["documented"], counts["mock"]) == (2, 1, 0)


# The docs' sidebar: the title of every endpoint page (harvest 00-seed-send-otp-page.txt). A documented tier
# string names pages by these titles; the sites are named by their hosts.
DOCS_PAGES = (
    "Get Account Info",
    "Get Usage Statistics",
    "Get Plan Limits",
    "Send OTP/Verification Code",
    "Resend OTP",
    "Verify OTP",
    "Check OTP Status",
    "List Authentication Templates",
    "Get Comments",
    "Add Comment",
    "List Contacts",
    "Create Contact",
    "Get Contact",
    "Update Contact",
    "Delete Contact",
    "Batch Create Contacts",
    "Batch Delete Contacts",
    "List Groups",
    "Create Group",
    "Get Group",
    "Update Group",
    "Delete Group",
    "Add Contacts to Group",
    "Remove Contacts from Group",
    "Send Text Message",
    "Send Template Message",
    "Send Media Message",
    "Send Interactive Message",
    "List Messages",
    "Get Message",
    "List Sources",
    "Create Source",
    "Get Source",
    "Update Source",
    "Delete Source",
    "List Statuses",
    "Create Status",
    "Get Status",
    "Update Status",
    "Delete Status",
    "List Templates",
    "Sync Templates from WhatsApp",
    "Get Template",
)
DOCS_SITES = ("docs.getrasl.io", "docs.app.wa.cr")


def cited_pages(tier: str) -> list[str]:
    """The page names a documented tier string cites: the start of each `;` clause and each `,` item before a `:`."""
    inner = tier[tier.index("(") + 1 : tier.rindex(")")]
    names = []
    for clause in inner.split(";"):
        head = clause.split(":")[0] if ":" in clause else clause
        names += [item.strip() for item in head.split(",")]
    return names


def names_a_page(name: str) -> bool:
    return any(name == page or name.startswith(page + " ") for page in (*DOCS_PAGES, *DOCS_SITES))


def test_the_operations_summaries_are_the_docs_page_titles(raw):
    assert sorted(op["summary"] for op in operations(raw).values()) == sorted(DOCS_PAGES)


@pytest.mark.parametrize(
    ("tier", "fine"),
    [
        ("documented (Get Contact)", True),
        ("documented (Verify OTP, docs.getrasl.io)", True),
        ("documented (Send OTP/Verification Code; Resend OTP inherits its errors)", True),
        ("documented (Batch Create Contacts: same validation as the single create endpoint)", True),
        ("documented (Authentication)", False),
        ("documented (Authentication: 403 INSUFFICIENT_SCOPE for a token without the scope)", False),
        ("documented (every captured error table)", False),
        ("documented (Get Contact, every captured error table)", False),
    ],
)
def test_a_pseudo_page_is_not_a_docs_page(tier, fine):
    assert all(map(names_a_page, cited_pages(tier))) is fine


def test_every_documented_tier_names_docs_pages(raw):
    documented = [(where, t) for where, t in tier_strings(raw) if t.startswith("documented")]
    assert len(documented) > 150
    bad = [(where, t) for where, t in documented if not all(map(names_a_page, cited_pages(t)))]
    assert not bad, bad[:10]


def shared_response_tiers(raw) -> dict[str, list[str]]:
    """Each shared response's tier strings: its entries' provenance, or its status-only ``x-provenance``."""
    return {
        name: [e["provenance"] for e in r.get("x-error-codes", ())]
        or [r[k] for k in ("x-provenance",) if k in r]
        for name, r in raw["components"]["responses"].items()
    }


def test_a_shared_documented_response_names_the_page_of_every_operation_using_it(raw):
    """P1-P6: a shared response is documented only where each operation using it has the row on its own page."""
    tiers = shared_response_tiers(raw)
    wrong = []
    for op in operations(raw).values():
        for status, response in op["responses"].items():
            name = response.get("$ref", "").rpartition("/")[2]
            for tier in tiers.get(name, ()):
                if tier.startswith("documented") and op["summary"] not in cited_pages(tier):
                    wrong.append((op["operationId"], status, name))
    assert not wrong, wrong


def test_every_error_status_has_a_tier(raw):
    """T8: a response without `x-error-codes` carries `x-provenance` (a status without a code, D12)."""
    tiers = shared_response_tiers(raw)
    missing = [
        (op["operationId"], status)
        for op in operations(raw).values()
        for status, response in op["responses"].items()
        if status[0] in "45"
        and not (response.get("x-error-codes") or response.get("x-provenance"))
        and not tiers.get(response.get("$ref", "").rpartition("/")[2])
    ]
    assert not missing, missing


def drop(path: tuple):
    def change(document: dict) -> None:
        node = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("paths", "/auth/resend", "post", "x-otp", "provenance"), "x-otp"),
        (("paths", "/templates/{id}", "get", "x-path-record", "provenance"), "x-path-record"),
        (("paths", "/messages/text", "post", "x-merge-fields-provenance"), "x-merge-fields"),
        (("paths", "/contacts/batch", "post", "x-partial-items-provenance"), "x-partial-items"),
        (("paths", "/comments/{mobile}", "get", "x-envelope-provenance"), "x-envelope"),
        (
            ("paths", "/auth/status", "post", "x-alternate-success-messages-provenance"),
            "x-alternate-success-messages",
        ),
        (("components", "responses", "CommentsRateLimited", "x-provenance"), "{mobile} 429"),
        (
            ("components", "schemas", "ContactInput", "properties", "phone", "x-normalise-provenance"),
            "normalisers",
        ),
        (("x-filter-operator-aliases", "provenance"), "x-filter-operator-aliases"),
    ],
)
def test_census_reports_an_item_without_its_tier(raw, path, where):
    import copy

    broken = copy.deepcopy(raw)
    drop(path)(broken)
    unmarked = load_census().take_census(broken).unmarked
    assert len(unmarked) >= 1 and all(where in item for item in unmarked), unmarked


def test_census_script_lists_untiered_items_and_fails(tmp_path, raw):
    import copy
    import subprocess
    import sys

    broken = copy.deepcopy(raw)
    del broken["paths"]["/messages/text"]["post"]["x-merge-fields-provenance"]
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(broken))
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "provenance_census.py"), "--spec", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "untiered items: 1" in run.stdout and "POST /messages/text x-merge-fields" in run.stdout


def test_x_sends_message_marks_the_operations_whose_answer_carries_a_whatsapp_message_id(resolved):
    """A call sends a WhatsApp message exactly when its documented answer is the sent message's `message_id`."""
    senders = set()
    for op in resolved.operations.values():
        data = op.response_schemas[op.success_status].get("allOf", [{}])
        props = {k for part in data for k in part.get("properties", {}).get("data", {}).get("properties", {})}
        if op.method == "POST" and "message_id" in props:
            senders.add(op.operation_id)
    marked = {op.operation_id for op in resolved.operations.values() if op.raw.get("x-sends-message")}
    assert len(marked) == 6
    assert marked == senders
