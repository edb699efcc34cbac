"""Phone cleaning (D9): the cleaned phone keeps the ASCII digits of the string as sent."""

from __future__ import annotations

import httpx
import pytest

from mockserver.phones import clean_phone


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("+91 (999) 999-9999", "919999999999"),
        ("15550001111", "15550001111"),
        ("1555²000٣111", "1555000111"),  # digits of other scripts are not phone digits
        ("no digits", ""),
    ],
)
def test_clean_phone(raw: str, cleaned: str) -> None:
    assert clean_phone(raw) == cleaned


def test_two_spellings_address_one_contact(client: httpx.Client) -> None:
    created = client.post(
        "/contacts",
        json={
            "firstname": "Sp",
            "lastname": "Elling",
            "phone": "+1 (555) 000-4444",
            "type": "lead",
            "source_id": 1,
            "status_id": 1,
        },
    )
    assert created.status_code == 201 and created.json()["data"]["phone"] == "15550004444"
    again = client.post(
        "/contacts",
        json={
            "firstname": "Sp",
            "lastname": "Elling",
            "phone": "1-555-000-4444",
            "type": "lead",
            "source_id": 1,
            "status_id": 1,
        },
    )
    assert again.status_code == 422 and list(again.json()["error"]["details"]) == ["phone"]
