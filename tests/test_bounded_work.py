"""Bounded work per request (F4): a huge list gets a small 422, fast (the mock's choice, D19)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable

import httpx
import pytest

from mockserver.asgi import MockApp
from mockserver.core import MockCore
from mockserver.multipart import parse_multipart, parse_multipart_file
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


def media_form(file_bytes: int, boundary: str = "b0undary") -> tuple[bytes, dict[str, str]]:
    """A valid Send Media form with a ``file_bytes`` document, and its headers."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("phone", "15551112222"), ("media_type", "document"))
    ]
    form = (
        "".join(parts).encode()
        + f'--{boundary}\r\nContent-Disposition: form-data; name="media_file"; filename="a.pdf"\r\n'.encode()
        + b"Content-Type: application/pdf\r\n\r\n"
        + b"%" * file_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "authorization": "Bearer wacr_test_full",
        "content-type": f"multipart/form-data; boundary={boundary}",
        "content-length": str(len(form)),
    }
    return form, headers


def health_during(path: str, headers: dict[str, str], body: bytes) -> dict[str, float]:
    """POSTs ``body`` to ``path`` and, while it is handled, asks ``GET /__mock__/health``: the statuses, and
    the seconds from the start to each answer."""
    app = MockApp(MockCore())
    started = time.perf_counter()
    finished: dict[str, float] = {}

    async def one(name: str, method: str, path: str, headers: dict[str, str], receive: Receiver) -> None:
        status, _ = await answer_of(app, method, path, headers, receive)
        finished[name] = time.perf_counter() - started
        finished[name + " status"] = status

    async def both() -> None:
        big = asyncio.create_task(one("big", "POST", path, headers, Receiver([body])))
        await asyncio.sleep(0.01)  # the big body is being read and parsed
        finished["health sent"] = time.perf_counter() - started
        await one("health", "GET", "/__mock__/health", {"host": "127.0.0.1"}, Receiver([b""]))
        await big

    asyncio.run(both())
    return finished


def test_a_large_upload_does_not_stall_other_clients() -> None:
    """A big multipart body goes to a file and is parsed there in a worker thread: the loop still answers."""
    form, headers = media_form(10 * 1024 * 1024)
    finished = health_during("/api/v2/messages/media", headers, form)
    assert finished["big status"] == 200
    assert finished["health status"] == 200
    assert finished["health"] - finished["health sent"] < 0.5


def test_a_large_json_body_does_not_stall_other_clients() -> None:
    """A 10 MB JSON body is parsed in a worker thread by a scanner that lets the loop run between its
    steps (the C scanner would hold it for the whole body): health is answered while it is parsed."""
    batch = json.dumps(
        {"contacts": [{"firstname": 1, "phone": "x"}] * 350_000}, separators=(",", ":")
    ).encode()
    headers = {
        "authorization": "Bearer wacr_test_full",
        "content-type": "application/json",
        "content-length": str(len(batch)),
    }
    finished = health_during("/api/v2/contacts/batch", headers, batch)
    assert finished["big status"] == 422
    assert finished["health status"] == 200
    assert finished["health"] < finished["big"]


def test_an_upload_goes_to_disk_not_to_memory() -> None:
    """A 40 MB upload fed in 64 KiB chunks: the mock's own allocations stay far below the upload's size."""
    form, headers = media_form(40 * 1024 * 1024)
    chunks = [form[i : i + 65536] for i in range(0, len(form), 65536)]
    app = MockApp(MockCore())
    receive = Receiver(chunks)
    del form
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        status, _ = call_app(app, "POST", "/api/v2/messages/media", headers, receive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200
    assert peak - before < 8 * 1024 * 1024


BOUNDARY = "b0undary"
BIG = b"\xff\r\n--b0undaryX\n" * 100_000  # 1.8 MB: over the size a part is parsed whole


def form_part(name: str, value: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode() + value + b"\r\n"


CLOSE = f"--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize(
    "body",
    [
        form_part("phone", b"1555")
        + form_part("f", BIG, "a.pdf", "Content-Type: application/pdf\r\n")
        + CLOSE,
        form_part("phone", b"1555") + form_part("f", BIG, "a.pdf") + CLOSE + b"epilogue",
        b"preamble\r\n" + form_part("phone", b"1555") + form_part("f", BIG, "a.pdf") + CLOSE,
        form_part("f", BIG + f"\n--{BOUNDARY}\n".encode() + BIG, "a.pdf") + CLOSE,
        form_part("f", b"QUJD\r\n" * 300_000, "a.pdf", "Content-Transfer-Encoding: base64\r\n") + CLOSE,
        form_part("caption", "é".encode() * 700_000) + form_part("f", BIG, "a.pdf") + CLOSE,
        form_part("phone", b"1555") + form_part("f", BIG, "a.pdf"),
        form_part("", BIG, "a.pdf") + form_part("phone", b"1") + CLOSE,
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\n".encode() + BIG + b"\r\n" + CLOSE,
        form_part("f", BIG + f"\r\n--{BOUNDARY}--X".encode() + BIG, "a.pdf") + CLOSE,
        form_part("f", BIG + f"\r\n--{BOUNDARY} \r\n".encode() + BIG, "a.pdf") + CLOSE,
        form_part("caption", b"abc", extra="Content-Type: text/plain; charset=nope\r\n")
        + form_part("f", BIG, "a.pdf")
        + CLOSE,
        b"",
    ],
    ids=[
        "plain",
        "epilogue",
        "preamble",
        "bare-lf-delimiter",
        "base64-part",
        "large-text-part",
        "no-closing-delimiter",
        "unnamed-part",
        "part-without-name",
        "close-followed-by-text",
        "delimiter-with-blank",
        "unknown-charset",
        "empty",
    ],
)
def test_a_spooled_upload_reads_as_the_email_parser_reads_it(body: bytes) -> None:
    """A large upload is split at its boundaries where it lies; whatever the framing, the fields (or the
    ValueError, the core's 400) are those the e-mail parser gives for the same bytes."""
    content_type = f"multipart/form-data; boundary={BOUNDARY}"

    def outcome(parse: Callable[[], dict]) -> dict | tuple[str, str]:
        try:
            return parse()
        except ValueError as error:
            return ("ValueError", str(error))

    with tempfile.TemporaryFile() as spool:
        spool.write(body)
        assert outcome(lambda: parse_multipart_file(spool, content_type)) == outcome(
            lambda: parse_multipart(body, content_type)
        )
