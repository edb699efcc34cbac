"""Legitimate variants (``mockserver/variants/``): each one changes what the mock answers.

Every check compares the default mock with the variant through the public interface (HTTP
through the in-process transport, or a real ``wacr-mock`` process), so a variant that stops
doing anything fails here.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise

import httpx
import pytest

from mockserver.core import MockCore
from mockserver.mutants import apply_mutant
from mockserver.spec import Spec
from mockserver.transport import MockTransport
from mockserver.variants import PROFILES, VARIANTS, VariantSet, levels_of, resolve
from tests.helpers import PROJECT, api_client, run_mock_to_exit

BOUNDARY = "variant-test-boundary"


class Mock:
    """One in-process mock (default or with variants), reached over HTTP."""

    def __init__(self, spec: Spec, *variants: str) -> None:
        self.core = MockCore(spec, validate_responses=True, variants=resolve(variants))
        transport = MockTransport(self.core)
        self.control = httpx.Client(transport=transport, base_url="http://mock.test/__mock__")
        tenant = self.control.post("/tenants", json={}).json()
        self.tenant = tenant
        self.api = self.client(tenant["token"])

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            transport=MockTransport(self.core),
            base_url="http://mock.test/api/v2",
            headers={"Authorization": f"Bearer {token}"},
        )

    def new_tenant(self) -> tuple[dict, httpx.Client]:
        tenant = self.control.post("/tenants", json={}).json()
        return tenant, self.client(tenant["token"])

    def contact(self, phone: str, **fields) -> dict:
        response = self.api.post("/contacts", json=self.batch_item(phone, **fields))
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def batch_item(self, phone: str, **fields) -> dict:
        """A valid contact body on this tenant (Create Contact and Batch Create items alike)."""
        return {
            "firstname": "Bo",
            "lastname": "Day",
            "phone": phone,
            "type": "lead",
            "source_id": self.tenant["default_source_id"],
            "status_id": self.tenant["default_status_id"],
            **fields,
        }

    def violations(self) -> list[str]:
        return self.core.response_validator.violations


@pytest.fixture
def mocks(spec: Spec) -> Iterator:
    """``mocks(*variants)``: a fresh in-process mock; with no names, the default mock."""
    made: list[Mock] = []

    def make(*variants: str) -> Mock:
        mock = Mock(spec, *variants)
        made.append(mock)
        return mock

    yield make
    for mock in made:
        assert mock.violations() == [], "a variant's answer broke a spec rule it does not vary"


def multipart(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    chunks = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    body = b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def error_of(response: httpx.Response) -> dict:
    return response.json().get("error") or {}


# --- resolve ------------------------------------------------------------------------------------


def test_there_are_enough_variants_and_profiles() -> None:
    assert len(VARIANTS) >= 15
    assert len(PROFILES) >= 3
    for variant in VARIANTS.values():
        assert variant.description and variant.decision.startswith("D"), variant


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profiles_resolve_to_their_variants(profile: str) -> None:
    resolved = resolve([profile])
    assert isinstance(resolved, VariantSet)
    assert set(resolved) == set(PROFILES[profile].variants)
    assert resolve([profile, PROFILES[profile].variants[0]]) == resolved


def test_no_names_is_the_default() -> None:
    assert not resolve([])
    assert not resolve(["", " "])


def test_unknown_names_are_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        resolve(["large-ids", "huge-ids"])
    assert "huge-ids" in str(caught.value)
    assert "large-ids" in str(caught.value) and "minimal" in str(caught.value)


@pytest.mark.parametrize(
    "names",
    [
        ["unknown-query-400", "unknown-query-ignored"],
        ["content-type-422", "content-type-400"],
        ["documented-fields-only", "extra-fields"],
        ["conditional-fields-refused", "conditional-fields-unchecked"],
        ["laravel", "unknown-query-ignored"],
        ["laravel", "minimal"],
    ],
)
def test_two_answers_to_one_freedom_are_refused(names: list[str]) -> None:
    with pytest.raises(ValueError, match="contradictory"):
        resolve(names)


def test_the_core_takes_names_or_a_resolved_set(spec: Spec) -> None:
    assert set(MockCore(spec, variants=["large-ids"]).variants) == {"large-ids"}
    with pytest.raises(ValueError):
        MockCore(spec, variants=["no-such-variant"])


# --- form-coercion, objects-as-arrays -------------------------------------------------------------


def send_media_with_contact_fields(mock: Mock, phone: str) -> dict:
    body, headers = multipart(
        {
            "phone": phone,
            "media_type": "image",
            "media_url": "https://example.com/picture.jpg",
            "contact[firstname]": "Zora",
            "contact_id": "",
        }
    )
    response = mock.api.post("/messages/media", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return mock.api.get(f"/contacts/{response.json()['data']['contact_id']}").json()["data"]


def test_form_coercion_reads_bracketed_form_fields(mocks) -> None:
    assert send_media_with_contact_fields(mocks(), "+919000000101")["firstname"] == ""
    assert send_media_with_contact_fields(mocks("form-coercion"), "+919000000101")["firstname"] == "Zora"


def test_form_coercion_takes_signed_integers_in_forms(mocks) -> None:
    def send(mock: Mock) -> httpx.Response:
        contact = mock.contact("+919000000111")
        body, headers = multipart(
            {
                "phone": "+919000000111",
                "media_type": "image",
                "media_url": "https://example.com/a.jpg",
                "contact_id": f" +{contact['id']} ",
            }
        )
        return mock.api.post("/messages/media", content=body, headers=headers)

    assert send(mocks()).status_code == 422
    assert send(mocks("form-coercion")).status_code == 200


def test_objects_as_arrays(mocks) -> None:
    def delete_two(mock: Mock) -> httpx.Response:
        ids = [mock.contact(f"+91900000020{n}")["id"] for n in range(2)]
        return mock.api.request("DELETE", "/contacts/batch", json={"ids": {"0": ids[0], "1": ids[1]}})

    assert delete_two(mocks()).status_code == 422
    answer = delete_two(mocks("objects-as-arrays"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["summary"]["deleted"] == 2


def test_json_types_stay_strict_with_the_laravel_profile(mocks) -> None:
    """D5: a JSON string where an integer is expected is a 422, whatever the variant."""
    mock = mocks("laravel")
    body = mock.batch_item("+919000000301")
    body["source_id"] = str(body["source_id"])
    assert mock.api.post("/contacts", json=body).status_code == 422


# --- response fields ----------------------------------------------------------------------------


def send_and_list(mock: Mock, phone: str) -> tuple[dict, list[dict]]:
    sent = mock.api.post("/messages/text", json={"phone": phone, "message": "hello"})
    assert sent.status_code == 200, sent.text
    return sent.json()["data"], mock.api.get("/messages").json()["data"]


def test_documented_fields_only(mocks) -> None:
    def fields(mock: Mock) -> tuple[set[str], set[str]]:
        _, items = send_and_list(mock, "+919000000401")
        return set(items[0]), set(mock.api.get(f"/messages/{items[0]['id']}").json()["data"])

    listed, detail = fields(mocks())
    assert "direction" in listed and {"created_at", "updated_at", "direction"} <= detail
    listed, detail = fields(mocks("documented-fields-only"))
    assert not {"created_at", "updated_at", "direction"} & (listed | detail)
    assert {"id", "message_id", "sent_at", "status"} <= listed & detail


def test_extra_fields(mocks) -> None:
    plain = mocks().contact("+919000000501")
    assert "uuid" not in plain
    mock = mocks("extra-fields")
    contact = mock.contact("+919000000501")
    assert contact["tenant_id"] == mock.tenant["tenant_id"] and contact["deleted_at"] is None
    again = mock.api.get(f"/contacts/{contact['id']}").json()["data"]
    assert again["uuid"] == contact["uuid"]
    listed = mock.api.get("/sources").json()["data"]
    assert all("uuid" in source for source in listed)


# --- ids --------------------------------------------------------------------------------------------


def source_ids(mock: Mock, client: httpx.Client | None = None, count: int = 4) -> list[int]:
    client = client or mock.api
    return [client.post("/sources", json={"name": f"Source {n}"}).json()["data"]["id"] for n in range(count)]


def test_large_ids(mocks) -> None:
    assert max(source_ids(mocks())) < 10**6
    ids = source_ids(mocks("large-ids"))
    assert all(10**12 <= i < 2**53 for i in ids)


def test_sparse_ids(mocks) -> None:
    ids = source_ids(mocks())
    assert [b - a for a, b in pairwise(ids)] == [1, 1, 1]
    ids = source_ids(mocks("sparse-ids"), count=8)
    steps = [b - a for a, b in pairwise(ids)]
    assert all(step >= 1 for step in steps) and any(step > 1 for step in steps)


def test_per_tenant_ids_share_ids_but_not_records(mocks) -> None:
    mock = mocks("per-tenant-ids")
    other, other_api = mock.new_tenant()
    assert other["default_source_id"] == mock.tenant["default_source_id"]
    mine = mock.contact("+919000000601")
    theirs = other_api.post(
        "/contacts",
        json={
            **mock.batch_item("+919000000602"),
            "source_id": other["default_source_id"],
            "status_id": other["default_status_id"],
        },
    ).json()["data"]
    assert mine["id"] == theirs["id"]
    assert mock.api.get(f"/contacts/{mine['id']}").json()["data"]["phone"] == "919000000601"
    assert [c["phone"] for c in other_api.get("/contacts").json()["data"]] == ["919000000602"]
    # The control call needs the tenant when an id names several contacts.
    assert mock.control.patch(f"/contacts/{mine['id']}", json={"is_opted_out": True}).status_code == 400
    opted = mock.control.patch(
        f"/contacts/{mine['id']}", json={"is_opted_out": True, "tenant_id": mock.tenant["tenant_id"]}
    )
    assert opted.status_code == 200 and opted.json()["phone"] == "919000000601"


def test_default_ids_are_shared_across_tenants(mocks) -> None:
    mock = mocks()
    other, _ = mock.new_tenant()
    assert other["default_source_id"] != mock.tenant["default_source_id"]


# --- starting data -----------------------------------------------------------------------------------


def template_names(client: httpx.Client, path: str = "/templates") -> list[tuple[str, str]]:
    return [
        (t["template_name"], t["language"]) for t in client.get(path, params={"per_page": 100}).json()["data"]
    ]


def test_rich_seed(mocks) -> None:
    plain = mocks()
    assert plain.api.get("/contacts").json()["data"] == []
    mock = mocks("rich-seed")
    auth = template_names(mock.api, "/auth/templates")
    assert len(auth) >= 2 and auth[0] != ("otp_verification", "en") and ("otp_verification", "en") in auth
    assert len({language for _, language in template_names(mock.api)}) > 1
    assert mock.api.get("/contacts").json()["data"] != []
    assert len(mock.api.get("/groups").json()["data"]) >= 2
    sources = [s["id"] for s in mock.api.get("/sources").json()["data"]]
    assert mock.tenant["default_source_id"] in sources and mock.tenant["default_source_id"] != min(sources)


def test_other_seed_names(mocks) -> None:
    plain = {name for name, _ in template_names(mocks().api)}
    mock = mocks("other-seed-names")
    names = {name for name, _ in template_names(mock.api)}
    assert "otp_verification" in names and names - {"otp_verification"}
    assert not (names - {"otp_verification"}) & plain
    source = mock.api.get(f"/sources/{mock.tenant['default_source_id']}").json()["data"]
    assert source["name"] != "Website"


# --- unknown query names, operators ------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"filter[no_such_field]": "1"}, {"include": "groups,no_such_relation"}])
def test_unknown_query_names(mocks, params: dict) -> None:
    assert mocks().api.get("/contacts", params=params).status_code == 422
    refused = mocks("unknown-query-400").api.get("/contacts", params=params)
    assert refused.status_code == 400 and error_of(refused)["code"] == "INVALID_QUERY"
    assert mocks("unknown-query-ignored").api.get("/contacts", params=params).status_code == 200


def test_ignored_unknown_include_keeps_the_known_ones(mocks) -> None:
    mock = mocks("unknown-query-ignored")
    mock.contact("+919000000701")
    item = mock.api.get("/contacts", params={"include": "source,no_such_relation"}).json()["data"][0]
    assert item["source"]["id"] == mock.tenant["default_source_id"]


def test_all_operators(mocks) -> None:
    params = {"filter[type][like]": "lea", "filter[created_at][ne]": "2000-01-01"}
    assert mocks().api.get("/contacts", params=params).status_code == 422
    mock = mocks("all-operators")
    mock.contact("+919000000801")
    mock.contact("+919000000802", type="customer")
    answer = mock.api.get("/contacts", params=params)
    assert answer.status_code == 200
    assert [c["phone"] for c in answer.json()["data"]] == ["919000000801"]


# --- content types -----------------------------------------------------------------------------------


def post_as_text(mock: Mock) -> httpx.Response:
    return mock.api.post("/sources", content=b"name=Fair", headers={"Content-Type": "text/plain"})


def test_content_type_variants(mocks) -> None:
    assert post_as_text(mocks()).status_code == 415
    as_form = post_as_text(mocks("content-type-422"))
    assert as_form.status_code == 422 and list(error_of(as_form)["details"]) == ["name"]
    bad = post_as_text(mocks("content-type-400"))
    assert bad.status_code == 400 and error_of(bad)["code"] == "INVALID_JSON"


# --- batches ---------------------------------------------------------------------------------------


def test_no_batch_cap(mocks) -> None:
    ids = {"ids": list(range(1, 102))}
    assert mocks().api.request("DELETE", "/contacts/batch", json=ids).status_code == 422
    answer = mocks("no-batch-cap").api.request("DELETE", "/contacts/batch", json=ids)
    assert answer.status_code == 200 and answer.json()["data"]["summary"]["total"] == 101


def batch_with_a_duplicate(mock: Mock) -> tuple[httpx.Response, list[str]]:
    mock.contact("+919000000902")
    items = [mock.batch_item(f"+91900000090{n}") for n in (1, 2, 3)]
    response = mock.api.post(
        "/contacts/batch", json={"contacts": items, "options": {"continue_on_error": False}}
    )
    return response, sorted(c["phone"] for c in mock.api.get("/contacts").json()["data"])


def test_batch_keep_before(mocks) -> None:
    response, phones = batch_with_a_duplicate(mocks())
    assert response.status_code == 422 and phones == ["919000000902"]
    response, phones = batch_with_a_duplicate(mocks("batch-keep-before"))
    assert response.status_code == 422 and list(error_of(response)["details"]) == ["contacts.1.phone"]
    assert phones == ["919000000901", "919000000902"]


def test_batch_item_format_422(mocks) -> None:
    def send(mock: Mock) -> httpx.Response:
        items = [mock.batch_item("+919000001001"), mock.batch_item("+919000001002", type="vendor")]
        return mock.api.post("/contacts/batch", json={"contacts": items})

    listed = send(mocks())
    assert listed.status_code == 200 and listed.json()["data"]["summary"]["failed"] == 1
    mock = mocks("batch-item-format-422")
    refused = send(mock)
    assert refused.status_code == 422 and list(error_of(refused)["details"]) == ["contacts.1.type"]
    assert mock.api.get("/contacts").json()["data"] == []


def test_batch_duplicates_stay_item_failures_with_format_422(mocks) -> None:
    mock = mocks("batch-item-format-422")
    mock.contact("+919000001101")
    answer = mock.api.post("/contacts/batch", json={"contacts": [mock.batch_item("+919000001101")]})
    assert answer.status_code == 200 and answer.json()["data"]["summary"]["failed"] == 1


# --- conditional fields ----------------------------------------------------------------------------

BUTTONS = {
    "phone": "+919000001201",
    "type": "button",
    "body_text": "Choose",
    "buttons": [{"id": "a", "title": "A"}],
}


def test_conditional_fields_refused(mocks) -> None:
    body = {**BUTTONS, "list_button_text": "Open"}
    assert mocks().api.post("/messages/interactive", json=body).status_code == 200
    refused = mocks("conditional-fields-refused").api.post("/messages/interactive", json=body)
    assert refused.status_code == 422 and list(error_of(refused)["details"]) == ["list_button_text"]


def test_conditional_fields_unchecked(mocks) -> None:
    body = {**BUTTONS, "sections": "not a list"}
    assert mocks().api.post("/messages/interactive", json=body).status_code == 422
    assert (
        mocks("conditional-fields-unchecked").api.post("/messages/interactive", json=body).status_code == 200
    )


# --- wording ----------------------------------------------------------------------------------------


def test_other_error_messages(mocks) -> None:
    def answers(mock: Mock) -> tuple[dict, dict, str, str]:
        missing = mock.api.get("/contacts/999999999").json()
        invalid = mock.api.post("/sources", json={}).json()
        created = mock.api.get("/contacts").json()["message"]
        account = mock.api.get("/account").json()["message"]
        return missing, invalid, created, account

    missing, invalid, created, account = answers(mocks())
    other_missing, other_invalid, other_created, other_account = answers(mocks("other-error-messages"))
    assert other_missing["error"]["message"] != missing["error"]["message"]
    assert other_missing["message"] == other_missing["error"]["message"]
    assert other_invalid["error"]["message"] != invalid["error"]["message"]
    assert other_invalid["error"]["details"] == invalid["error"]["details"]  # documented per-field messages
    assert other_created != created  # List Contacts' message is the spec's choice (D15)
    assert other_account == account  # documented (Get Account Info)


def test_other_wording_reaches_the_flat_comments_answers(mocks) -> None:
    """The flat (D12) envelope is built where every other one is: Get Comments' message is an
    assumed wording (D15), so the variant rewords it as it does List Contacts'."""

    def comments(mock: Mock) -> dict:
        assert (
            mock.api.post("/messages/text", json={"phone": "+919000001250", "message": "hi"}).status_code
            == 200
        )
        return mock.api.get("/comments/919000001250").json()

    default, other = comments(mocks()), comments(mocks("other-error-messages"))
    assert default["message"] == "Comments retrieved successfully"
    assert other["message"] == "Request completed."
    assert [list(answer) for answer in (default, other)] == [["success", "message", "data"]] * 2


# --- message ids, order ----------------------------------------------------------------------------


def test_message_ids_differ(mocks) -> None:
    sent, items = send_and_list(mocks(), "+919000001301")
    assert sent["chat_message_id"] == items[0]["id"]
    mock = mocks("message-ids-differ")
    sent, items = send_and_list(mock, "+919000001301")
    assert sent["chat_message_id"] not in [m["id"] for m in items]
    assert mock.api.get(f"/messages/{items[0]['id']}").status_code == 200
    assert mock.api.get(f"/messages/{sent['chat_message_id']}").status_code == 404


def test_other_default_order(mocks) -> None:
    def listed(mock: Mock) -> list[int]:
        source_ids(mock, count=2)
        return [s["id"] for s in mock.api.get("/sources").json()["data"]]

    assert listed(mocks()) == sorted(listed(mocks()))
    ids = listed(mocks("other-default-order"))
    assert ids == sorted(ids, reverse=True)


def test_other_default_order_keeps_a_documented_default(mocks) -> None:
    """List Messages' default order (-created_at) is in the docs' example, so it stays."""
    mock = mocks("other-default-order")
    for n in range(2):
        mock.api.post("/messages/text", json={"phone": f"+91900000140{n}", "message": "hi"})
    stamps = [m["sent_at"] for m in mock.api.get("/messages").json()["data"]]
    assert stamps == sorted(stamps, reverse=True)


# --- the mock's own limits, empty optional fields -----------------------------------------------------


def test_no_mock_limits(mocks) -> None:
    """Send OTP's purpose has no documented length (the other OTP pages document max:50)."""
    otp = {
        "phone": "+919000001501",
        "code": "123456",
        "template_name": "otp_verification",
        "purpose": "p" * 80,
    }
    assert mocks().api.post("/auth/send-otp", json=otp).status_code == 422
    mock = mocks("no-mock-limits")
    assert mock.api.post("/auth/send-otp", json=otp).status_code == 200
    assert mock.api.post("/auth/status", json={**otp, "purpose": "p" * 51}).status_code == 422
    ids = {"ids": list(range(1, 102))}
    assert mock.api.request("DELETE", "/contacts/batch", json=ids).status_code == 200
    many = {
        **BUTTONS,
        "type": "list",
        "list_button_text": "Open",
        "buttons": None,
        "sections": [{"title": "t" * 40, "rows": [{"id": "r", "title": "Row"}]}],
    }
    assert mocks().api.post("/messages/interactive", json=many).status_code == 422
    assert mock.api.post("/messages/interactive", json=many).status_code == 200


def test_documented_limits_stay_with_no_mock_limits(mocks) -> None:
    mock = mocks("no-mock-limits")
    too_many = {**BUTTONS, "buttons": [{"id": str(n), "title": "B"} for n in range(4)]}
    assert mock.api.post("/messages/interactive", json=too_many).status_code == 422


def test_empty_optional_clears(mocks) -> None:
    def update(mock: Mock) -> dict:
        contact = mock.contact("+919000001601", company="Acme", city="Pune")
        answer = mock.api.patch(f"/contacts/{contact['id']}", json={"company": "", "city": None})
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    kept = update(mocks())
    assert (kept["company"], kept["city"]) == ("Acme", "Pune")
    cleared = update(mocks("empty-optional-clears"))
    assert (cleared["company"], cleared["city"]) == (None, None)


# --- the latitude of the 2026-12-05 amendments (D4, D9, D10, D12, D16, D19) ----------------------------


def test_levels_say_where_a_variant_is_correct() -> None:
    assert VARIANTS["other-error-layout"].levels == ("documented",)
    assert VARIANTS["max-attempts-on-fifth"].levels == ("documented",)
    assert VARIANTS["trimmed-strings"].levels == ("all", "documented")
    assert levels_of(["laravel"]) == ("all", "documented")
    assert levels_of(["docs-letter"]) == levels_of(["laravel", "max-attempts-on-fifth"]) == ("documented",)


def test_other_error_layout(mocks) -> None:
    def errors(mock: Mock) -> tuple[dict, dict]:
        unauthorized = mock.client("no-such-token").get("/contacts").json()
        invalid = mock.api.post("/contacts", json={"firstname": "Bo"}).json()
        return unauthorized, invalid

    unauthorized, invalid = errors(mocks())
    assert unauthorized["error"]["code"] == "UNAUTHORIZED" and "error_code" not in unauthorized
    assert "phone" in invalid["error"]["details"]
    unauthorized, invalid = errors(mocks("other-error-layout"))
    assert unauthorized["error_code"] == "UNAUTHORIZED" and unauthorized["success"] is False
    assert "error" not in unauthorized and "meta" not in unauthorized
    assert invalid["error_code"] == "VALIDATION_ERROR"
    assert invalid["errors"]["phone"] == ["Phone number is required"]


def send_otp(mock: Mock, phone: str, code: str = "123456") -> None:
    sent = mock.api.post(
        "/auth/send-otp", json={"phone": phone, "code": code, "template_name": "otp_verification"}
    )
    assert sent.status_code == 200, sent.text


def verify(mock: Mock, phone: str, code: str) -> httpx.Response:
    return mock.api.post("/auth/verify", json={"phone": phone, "code": code})


def code_of(response: httpx.Response) -> str | None:
    body = response.json()
    return body.get("error_code") or (body.get("error") or {}).get("code")


def test_max_attempts_on_fifth(mocks) -> None:
    def five_wrong_then_right(mock: Mock) -> tuple[list[str | None], httpx.Response]:
        send_otp(mock, "+919000002001")
        answers = [code_of(verify(mock, "+919000002001", "000000")) for _ in range(5)]
        return answers, verify(mock, "+919000002001", "123456")

    answers, right = five_wrong_then_right(mocks())
    assert answers == ["INVALID_CODE"] * 5 and code_of(right) == "MAX_ATTEMPTS_EXCEEDED"
    answers, right = five_wrong_then_right(mocks("max-attempts-on-fifth"))
    assert answers == ["INVALID_CODE"] * 4 + ["MAX_ATTEMPTS_EXCEEDED"]
    assert code_of(right) == "MAX_ATTEMPTS_EXCEEDED", "after 5 wrong codes the right one no longer verifies"


def test_fixed_window_otp_limits(mocks) -> None:
    """Verify allows 10 calls a minute: one at 0 s and nine at 30 s fill the window. At 60 s a sliding window
    frees one slot (the call at 0 s), a fixed window opened at 0 s closes and frees all ten."""

    def admitted_at_a_minute(mock: Mock) -> list[int]:
        tenant_id = mock.tenant["tenant_id"]
        mock.control.post("/clock", json={"tenant_id": tenant_id, "freeze": True})
        statuses = [verify(mock, "+919000002101", "000000").status_code]
        mock.control.post("/clock", json={"tenant_id": tenant_id, "advance_seconds": 30})
        statuses += [verify(mock, "+919000002101", "000000").status_code for _ in range(9)]
        assert 429 not in statuses
        mock.control.post("/clock", json={"tenant_id": tenant_id, "advance_seconds": 30})
        return [verify(mock, "+919000002101", "000000").status_code for _ in range(2)]

    assert admitted_at_a_minute(mocks()) == [422, 429]
    assert admitted_at_a_minute(mocks("fixed-window-otp-limits")) == [422, 422]


def test_trimmed_strings(mocks) -> None:
    def verify_padded(mock: Mock) -> httpx.Response:
        send_otp(mock, "+919000002201")
        return verify(mock, "+919000002201", " 123456 ")

    assert code_of(verify_padded(mocks())) == "INVALID_CODE"
    assert verify_padded(mocks("trimmed-strings")).status_code == 200


def test_phone_as_sent(mocks) -> None:
    assert mocks().contact("+91 90000 02301")["phone"] == "919000002301"
    mock = mocks("phone-as-sent")
    contact = mock.contact("+91 90000 02301")
    assert contact["phone"] == "+91 90000 02301"
    assert mock.api.get(f"/contacts/{contact['id']}").json()["data"]["phone"] == "+91 90000 02301"
    again = mock.api.post("/contacts", json=mock.batch_item("919000002301"))
    assert again.status_code == 422, "uniqueness still compares the cleaned phone (D9)"
    sent = mock.api.post("/messages/text", json={"phone": "919000002301", "message": "hi"})
    assert sent.json()["data"]["contact_id"] == contact["id"], "lookups still use the cleaned phone"


def test_no_comments_message(mocks) -> None:
    def comments(mock: Mock) -> dict:
        assert mock.api.post("/messages/text", json={"phone": "+919000002401", "message": "hi"}).is_success
        answer = mock.api.get("/comments/919000002401")
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert set(comments(mocks())) == {"success", "message", "data"}
    assert set(comments(mocks("no-comments-message"))) == {"success", "data"}


def test_null_for_no_value(mocks) -> None:
    def without_header(mock: Mock) -> tuple[dict, dict]:
        templates = mock.api.get("/templates", params={"per_page": 100}).json()["data"]
        template = next(t for t in templates if t["header_data_format"] == "NONE")
        auth = mock.api.get("/auth/templates").json()["data"][0]
        return template, auth

    template, auth = without_header(mocks())
    assert (template["header_data_text"], auth["header_text"]) == ("", "")
    template, auth = without_header(mocks("null-for-no-value"))
    assert (template["header_data_text"], auth["header_text"]) == (None, None)


def test_multipart_parts_as_text(mocks) -> None:
    def send_with_a_broken_contact_part(mock: Mock) -> httpx.Response:
        body, headers = multipart(
            {
                "phone": "+919000002501",
                "media_type": "image",
                "media_url": "https://example.com/a.jpg",
                "contact": '{"firstname": 5}',
            }
        )
        return mock.api.post("/messages/media", content=body, headers=headers)

    refused = send_with_a_broken_contact_part(mocks())
    assert refused.status_code == 422 and "contact.firstname" in refused.json()["error"]["details"]
    assert send_with_a_broken_contact_part(mocks("multipart-parts-as-text")).status_code == 200


# --- every profile as a whole --------------------------------------------------------------------


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profiles_serve_the_basic_journey(mocks, profile: str) -> None:
    mock = mocks(profile)
    contact = mock.contact("+919000001701")
    assert mock.api.get(f"/contacts/{contact['id']}").status_code == 200
    sent = mock.api.post("/messages/text", json={"phone": "+919000001701", "message": "hi"})
    assert sent.status_code == 200
    otp = mock.api.post(
        "/auth/send-otp",
        json={"phone": "+919000001702", "code": "123456", "template_name": "otp_verification"},
    )
    assert otp.status_code == 200, otp.text
    assert mock.control.get("/health").json()["variants"] == sorted(PROFILES[profile].variants)


def shares_a_phone(api: httpx.Client) -> bool:
    body = {"firstname": "A", "lastname": "B", "phone": "+919000001801", "type": "lead"}
    body.update(
        source_id=api.get("/sources").json()["data"][0]["id"],
        status_id=api.get("/statuses").json()["data"][0]["id"],
    )
    return (
        api.post("/contacts", json=body).status_code == 201
        and api.post("/contacts", json=body).status_code == 201
    )


def keeps_a_deleted_status(api: httpx.Client) -> bool:
    created = api.post("/statuses", json={"name": "Gone"}).json()["data"]
    assert api.delete(f"/statuses/{created['id']}").status_code == 200
    return api.get(f"/statuses/{created['id']}").status_code == 200


@pytest.mark.parametrize(
    ("mutant", "profile", "shows_the_bug"),
    [
        ("duplicate_phone_allowed", "laravel", shares_a_phone),
        ("deleted_record_still_readable", "express", keeps_a_deleted_status),
    ],
)
def test_mutants_bite_with_a_profile_on_and_stay_in_their_instance(mutant, profile, shows_the_bug) -> None:
    """A mutant changes its own instance through the core's seams: the bug shows there, under a profile,
    and a second instance in the same process stays correct."""
    mutated = MockCore(variants=[profile])
    apply_mutant(mutated, mutant)
    correct = MockCore(variants=[profile])
    assert shows_the_bug(api_client(mutated))
    assert not shows_the_bug(api_client(correct))


# --- the CLI --------------------------------------------------------------------------------------------


def test_list_variants() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "--list-variants"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    for name in [*VARIANTS, *PROFILES]:
        assert name in done.stdout


@pytest.mark.parametrize("names", [["no-such-variant"], ["content-type-400", "content-type-422"]])
def test_bad_variant_names_are_one_line_and_exit_2(names: list[str]) -> None:
    args = [arg for name in names for arg in ("--variant", name)]
    done = run_mock_to_exit(*args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert names[0] in done.stderr


def test_a_real_server_runs_a_profile(start_server) -> None:
    server = start_server("--variant", "minimal", "--variant", "rich-seed")
    with httpx.Client(timeout=30.0) as http:
        health = http.get(f"{server.root}/__mock__/health").json()
        assert set(health["variants"]) == set(PROFILES["minimal"].variants) | {"rich-seed"}
        token = http.post(f"{server.root}/__mock__/tenants", json={}).json()["token"]
        sources = http.get(f"{server.api}/sources", headers={"Authorization": f"Bearer {token}"}).json()[
            "data"
        ]
        assert all(s["id"] >= 10**12 for s in sources) and len(sources) >= 3
