"""Input meant to break the mock: it answers each in the contract's shape and keeps serving.

Each case once crashed a handler, hung the process or answered outside the envelope.
"""

from __future__ import annotations

import httpx

from mockserver.core import MockCore
from mockserver.limits import SlidingWindow, prune_idle
from tests.helpers import api_client


def assert_error(response: httpx.Response, status: int) -> dict:
    """D4: a JSON error envelope with a code and a request id, at the given status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"], body
    assert body["meta"]["request_id"] == response.headers["X-Request-Id"]
    return body


def test_deeply_nested_json_is_a_400_not_a_crash(client: httpx.Client) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    body = assert_error(
        client.post("/sources", content=nested, headers={"Content-Type": "application/json"}), 400
    )
    assert body["error"]["code"] == "INVALID_JSON"
    assert client.get("/sources").status_code == 200


def test_a_path_id_longer_than_any_id_is_a_404(client: httpx.Client) -> None:
    # Python's int() refuses strings of more than 4300 digits; the mock must not pass them on.
    for digits in ("9" * 20, "1" * 5000):
        assert_error(client.get(f"/contacts/{digits}"), 404)
        assert_error(client.delete(f"/groups/{digits}"), 404)


def test_a_multipart_part_in_an_unknown_charset_is_a_400(client: httpx.Client) -> None:
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="to"\r\n'
        "Content-Type: text/plain; charset=no-such-charset\r\n\r\n"
        "+6281234567890\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    assert_error(client.post("/messages/media", content=body, headers=headers), 400)


def test_a_handler_bug_is_a_500_in_the_error_envelope_and_the_mock_keeps_serving(core: MockCore) -> None:
    def broken(ctx, *args):
        raise RuntimeError("a bug in a handler")

    core.handlers["getAccount"] = broken  # the instance's handler table is a declared seam
    with api_client(core) as http:
        body = assert_error(http.get("/account"), 500)
        assert body["error"]["code"] == "INTERNAL_ERROR"
        assert http.get("/account/usage").status_code == 200


def test_a_filter_key_that_does_not_parse_is_refused_not_dropped(client: httpx.Client) -> None:
    """Dropping it would answer the unfiltered list as if it were filtered."""
    for key in ("filter[]", "filter[type][gt][x]", "filter[type"):
        body = assert_error(client.get("/contacts", params={key: "lead"}), 422)
        assert key in body["error"]["details"], body


def test_a_path_is_decoded_once(client: httpx.Client) -> None:
    """``%25`` + ``3N`` is the text ``%3N``, not the id N."""
    source_id = client.get("/sources").json()["data"][0]["id"]
    assert 1 <= source_id <= 9
    assert client.get(f"/sources/%3{source_id}").status_code == 200  # %3N decodes to the digit N
    assert_error(client.get(f"/sources/%253{source_id}"), 404)


def test_journal_entries_have_a_bounded_size(
    core: MockCore, control: httpx.Client, client: httpx.Client
) -> None:
    client.get("/contacts/" + "x" * 50_000, params={"q": "y" * 50_000})
    entry = control.get("/requests").json()["requests"][-1]
    assert entry["status"] == 404
    assert len(entry["path"]) <= 2048 and len(entry["query"]) <= 2048


def test_an_idle_limiter_is_dropped() -> None:
    """One OTP limiter per phone ever seen would grow without end."""
    windows = {
        "otp-verify:1:15550001": SlidingWindow(),
        "otp-verify:1:15550002": SlidingWindow(),
        "other:1": SlidingWindow(),
    }
    windows["otp-verify:1:15550001"].admit(now=1000.0, calls=10, seconds=60)
    windows["otp-verify:1:15550002"].admit(now=1050.0, calls=10, seconds=60)
    windows["other:1"].admit(now=1000.0, calls=10, seconds=60)
    prune_idle(windows, now=1070.0, seconds=60, prefix="otp-verify:")
    assert sorted(windows) == ["other:1", "otp-verify:1:15550002"]


def test_the_documented_null_operator_is_taken(client: httpx.Client) -> None:
    """``filter[assigned_id][null]=true`` (List Contacts' example): the spec's YAML ``[..., null]`` reads as None."""
    response = client.get("/contacts", params={"filter[assigned_id][null]": "true"})
    assert response.status_code == 200, response.text
    assert all(item["assigned_id"] is None for item in response.json()["data"])
