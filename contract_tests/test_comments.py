"""Property: a note added to a chat with Add Comment is what Get Comments lists, newest first, as documented.

Add Comment (documented): ``status_message`` defaults to "Internal comment"; ``message_id`` and
``ref_message_id`` come back as sent. Get Comments (documented): "all internal notes ... newest first", each item
with the note text in ``message``. A chat exists once a message was sent to the mobile (D12), so these checks send
one text. The docs list Add Comment's fields flat without saying whether ``data`` wraps them: both are read.
"""

from __future__ import annotations

import secrets
import time

import pytest

from contract_tests import records
from contract_tests.target import Api, Control, TenantHandle

DEFAULT_STATUS_MESSAGE = "Internal comment"  # Add Comment: the default of status_message


def added(api: Api, mobile: str, body: dict) -> dict:
    """Add Comment's answer fields: flat as the docs list them, or under ``data`` (D12 keeps them flat)."""
    response = api.post(f"/comments/{mobile}", json=body)
    assert 200 <= response.status_code < 300, f"Add Comment: {response.status_code} {response.text}"
    answer = response.json()
    return answer["data"] if isinstance(answer.get("data"), dict) else answer


def one_second_later(control: Control | None, tenant: TenantHandle) -> None:
    """Two notes a second apart, so "newest first" orders them whatever the timestamps' precision."""
    if control is not None and tenant.tenant_id is not None:
        control.move_clock(tenant.tenant_id, advance_seconds=5)
    else:
        time.sleep(1.1)


@pytest.mark.documented
@pytest.mark.sends
@pytest.mark.operation("addComment", "getComments")
def test_added_notes_are_listed_newest_first(api: Api, tenant: TenantHandle, control: Control | None) -> None:
    """Add Comment then Get Comments (documented): each added note is listed, the later one first; the note sent
    without ``status_message`` gets "Internal comment"; ``message_id`` and ``ref_message_id`` are echoed."""
    mobile = records.chat_mobile(api)
    first_text, second_text = (f"Note {secrets.token_hex(4)}" for _ in range(2))
    first = added(api, mobile, {"comment": first_text})
    assert first["status_message"] == DEFAULT_STATUS_MESSAGE, first
    one_second_later(control, tenant)
    ids = {"message_id": f"wamid.{secrets.token_hex(8)}", "ref_message_id": f"wamid.{secrets.token_hex(8)}"}
    second = added(api, mobile, {"comment": second_text, "status_message": "Called back", **ids})
    assert {key: second[key] for key in ids} == ids, second
    response = api.get(f"/comments/{mobile}")
    assert response.status_code == 200, response.text
    texts = [item["message"] for item in response.json()["data"]]
    assert first_text in texts and second_text in texts, texts
    assert texts.index(second_text) < texts.index(first_text), f"not newest first: {texts}"
