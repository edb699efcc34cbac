"""Bounded work per request (F4): a huge list gets a small 422, fast (the mock's choice, D19)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from mockserver.asgi import MockApp
from mockserver.core import MockCore
from mockserver.validation import MAX_FAILING_ITEMS, MAX_LIST_ITEMS

CONTACT = {"firstname": "a", "lastname": "b", "phone": "15551112222", "type": "lead"}


def post(client: httpx.Client, path: str, body: dict) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    answer = client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    return answer, time.perf_counter() - started


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/contacts", {**CONTACT, "groups": [1] * 1_000_000}, "groups"),
        ("/contacts", {**CONTACT, "groups": ["x"] * 1_000_000}, "groups"),
        ("/contacts/batch", {"contacts": [{"firstname": 1}] * 200_000}, "contacts"),
        (
            "/auth/send-otp",
            {
                "phone": "15551112222",
                "template_name": "otp_verification",
                "additional_params": [[]] * 500_000,
            },
            "additional_params",
        ),
    ],
    ids=["valid-items-over-the-limit", "failing-items", "batch-over-maxitems", "otp-params"],
)
def test_a_huge_list_gets_a_small_422(client: httpx.Client, path: str, body: dict, field: str) -> None:
    answer, seconds = post(client, path, body)
    assert answer.status_code == 422, answer.text[:300]
    assert len(answer.content) < 50_000
    assert seconds < 10  # a few ms of checks; the rest is reading 3-6 MB of JSON on a shared machine
    details = answer.json().get("error", {}).get("details") or answer.json().get("errors")
    item_keys = [k for k in details if k.startswith(f"{field}.") and k != f"{field}.*"]
    assert len(item_keys) <= MAX_FAILING_ITEMS
    assert "were not checked" in details[f"{field}.*"][0]


def test_the_first_failing_items_are_listed_then_counted(client: httpx.Client) -> None:
    unknown = list(range(10_000, 10_250))  # 250 group ids the tenant does not have
    answer, _ = post(client, "/contacts", {**CONTACT, "groups": unknown})
    details = answer.json()["error"]["details"]
    assert [f"groups.{i}" for i in range(MAX_FAILING_ITEMS)] == [k for k in details if k[7:].isdigit()]
    assert details["groups.*"] == [
        "150 more items of groups were not checked (the mock stops at 100 failing items, or at the list's size limit)"
    ]


def test_a_list_without_maxitems_is_refused_past_the_mocks_limit(client: httpx.Client) -> None:
    answer, _ = post(client, "/contacts", {**CONTACT, "groups": [1] * (MAX_LIST_ITEMS + 1)})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["groups"] == [
        f"The groups may not have more than {MAX_LIST_ITEMS} items."
    ]


# --- the ASGI adapter: what it reads, when, and for how long -------------------------------------


class Receiver:
    """An ASGI ``receive`` that hands out ``chunks`` (then waits for ever), counting what was read."""

    def __init__(self, chunks: list[bytes], more_after: bool = False) -> None:
        self.chunks = list(chunks)
        self.more_after = more_after
        self.read = 0

    async def __call__(self) -> dict:
        if not self.chunks:
            await asyncio.sleep(3600)  # a client that stopped sending
        chunk = self.chunks.pop(0)
        self.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks) or self.more_after}


async def answer_of(
    app: MockApp, method: str, path: str, headers: dict[str, str], receive: Receiver
) -> tuple[int, dict]:
    """One ASGI call, as uvicorn makes it: the status and the JSON body sent back."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "scheme": "http",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def call_app(
    app: MockApp, method: str, path: str, headers: dict[str, str], receive: Receiver
) -> tuple[int, dict]:
    return asyncio.run(answer_of(app, method, path, headers, receive))


BIG = [b"x" * 65536] * 32  # 2 MiB


@pytest.mark.parametrize(
    ("path", "token", "status"),
    [("/api/v2/no-such-route", "wacr_test_full", 404), ("/api/v2/contacts", "wrong", 401)],
)
def test_a_large_body_is_not_read_when_the_route_or_token_refuses_it(
    path: str, token: str, status: int
) -> None:
    app = MockApp(MockCore())
    receive = Receiver(BIG)
    headers = {
        "authorization": f"Bearer {token}",
        "content-type": "application/json",
        "content-length": "2097152",
    }
    answer, body = call_app(app, "POST", path, headers, receive)
    assert answer == status and body["success"] is False
    assert receive.read == 0


def test_a_trickling_body_is_cut_off_with_a_408() -> None:
    app = MockApp(MockCore(), body_seconds=0.3)
    receive = Receiver([b'{"na'], more_after=True)
    headers = {"authorization": "Bearer wacr_test_full", "content-type": "application/json"}
    started = time.perf_counter()
    status, body = call_app(app, "POST", "/api/v2/sources", headers, receive)
    assert status == 408 and body["error"]["code"] == "REQUEST_TIMEOUT"
    assert time.perf_counter() - started < 3


def test_a_large_upload_does_not_stall_other_clients() -> None:
    """While a big multipart body is parsed (in a worker thread), the loop still answers others."""
    app = MockApp(MockCore())
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("phone", "15551112222"), ("media_type", "image"))
    ]
    form = (
        "".join(parts).encode()
        + f'--{boundary}\r\nContent-Disposition: form-data; name="media_file"; filename="a.jpg"\r\n'.encode()
        + b"Content-Type: image/jpeg\r\n\r\n"
        + b"\xff" * (10 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    upload_headers = {
        "authorization": "Bearer wacr_test_full",
        "content-type": f"multipart/form-data; boundary={boundary}",
        "content-length": str(len(form)),
    }
    finished: dict[str, float] = {}

    async def one(name: str, method: str, path: str, headers: dict[str, str], receive: Receiver) -> None:
        status, _ = await answer_of(app, method, path, headers, receive)
        finished[name] = time.perf_counter()
        finished[name + " status"] = status

    async def both() -> None:
        upload = asyncio.create_task(
            one("upload", "POST", "/api/v2/messages/media", upload_headers, Receiver([form]))
        )
        await asyncio.sleep(0.01)  # the upload is being parsed
        await one("health", "GET", "/__mock__/health", {"host": "127.0.0.1"}, Receiver([b""]))
        await upload

    asyncio.run(both())
    assert finished["health status"] == 200
    assert finished["upload status"] in (200, 201, 422)
    assert finished["health"] < finished["upload"]
