"""Forms the docs allow are accepted: List Contacts' operator aliases and URLs of any scheme.

The spec states both (``x-filter-operator-aliases`` at its root; ``format: uri`` in docs/spec-conventions.md),
and the mock reads them from there.
"""

from __future__ import annotations

import httpx
import pytest

ALIASES = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "!=": "ne"}


def contact_ids(client: httpx.Client, field: str, operator: str, value: str) -> list[int]:
    answer = client.get("/contacts", params={f"filter[{field}][{operator}]": value, "per_page": 100})
    assert answer.status_code == 200, answer.text
    return sorted(item["id"] for item in answer.json()["data"])


@pytest.fixture
def two_contacts(client: httpx.Client) -> list[dict]:
    source = client.get("/sources").json()["data"][0]["id"]
    status = client.get("/statuses").json()["data"][0]["id"]
    made = []
    for phone in ("+919000000901", "+919000000902"):
        body = {"firstname": "Ada", "lastname": "Lovelace", "phone": phone, "type": "lead"}
        answer = client.post("/contacts", json={**body, "source_id": source, "status_id": status})
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["data"])
    return made


def test_the_spec_states_the_documented_aliases(spec) -> None:
    stated = {k: v for k, v in spec.document["x-filter-operator-aliases"].items() if k != "provenance"}
    assert stated == ALIASES
    assert spec.document["x-filter-operator-aliases"]["provenance"] == "documented (List Contacts)"


@pytest.mark.parametrize(
    ("alias", "field", "value"),
    [(">=", "created_at", "2000-01-01"), ("<", "created_at", "2000-01-01"), ("!=", "status_id", "0")],
)
def test_an_alias_filters_as_its_operator(client: httpx.Client, two_contacts, alias, field, value) -> None:
    by_alias = contact_ids(client, field, alias, value)
    assert by_alias == contact_ids(client, field, ALIASES[alias], value)


def test_aliases_filter_by_id(client: httpx.Client, two_contacts) -> None:
    first, second = two_contacts
    status = str(first["status_id"])
    assert contact_ids(client, "status_id", "!=", status) == []
    assert contact_ids(client, "status_id", ">=", status) == sorted([first["id"], second["id"]])
    assert contact_ids(client, "created_at", "<", "2000-01-01") == []


@pytest.mark.parametrize("url", ["ftp://files.example.com/photo.jpg", "HTTPS://EXAMPLE.COM/photo.jpg"])
def test_a_url_of_any_scheme_is_a_valid_url(client: httpx.Client, url: str) -> None:
    answer = client.post(
        "/messages/media", json={"phone": "+919000000903", "media_type": "image", "media_url": url}
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "url", ["files.example.com/photo.jpg", "ftp//files.example.com/photo.jpg", "mailto:ada"]
)
def test_a_value_without_scheme_and_host_is_not_a_url(client: httpx.Client, url: str) -> None:
    answer = client.post(
        "/messages/media", json={"phone": "+919000000904", "media_type": "image", "media_url": url}
    )
    assert answer.status_code == 422
    assert list(answer.json()["error"]["details"]) == ["media_url"]
