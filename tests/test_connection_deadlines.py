"""Connection deadlines on a real ``wacr-mock``: a request head that never completes, or an idle
connection, is closed after ``--head-timeout``; a trickling body gets a 408 after ``--body-timeout``."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.helpers import MockServer, run_mock_to_exit, start_mock

HEAD_SECONDS = 0.5  # small, so the tests stay quick; the default is 10 s
BODY_SECONDS = 0.5
WAIT_LIMIT = 8.0  # far beyond either deadline, far below "for ever"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    mock = start_mock("--head-timeout", str(HEAD_SECONDS), "--body-timeout", str(BODY_SECONDS))
    yield mock
    mock.stop()


def connect(server: MockServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_LIMIT)


def seconds_until_closed(connection: socket.socket, trickle: bytes = b"") -> tuple[float, bytes]:
    """Sends ``trickle`` a byte every 0.1 s (then nothing) until the server closes; returns the time it
    took and what the server sent."""
    started = time.perf_counter()
    received = b""
    connection.settimeout(0.1)
    for byte in [trickle[i : i + 1] for i in range(len(trickle))] + [b""] * int(WAIT_LIMIT * 10):
        if time.perf_counter() - started > WAIT_LIMIT:
            break
        try:
            if byte:
                connection.sendall(byte)
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.perf_counter() - started, received
        if not chunk:
            return time.perf_counter() - started, received
        received += chunk
    raise AssertionError(f"the connection was still open after {WAIT_LIMIT}s")


def read_answer(connection: socket.socket) -> bytes:
    """One whole answer (head and ``Content-Length`` bytes of body), however the packets split it."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_connection_that_never_sends_is_closed(server: MockServer) -> None:
    with connect(server) as connection:
        seconds, received = seconds_until_closed(connection)
    assert HEAD_SECONDS * 0.8 <= seconds < HEAD_SECONDS + 3
    assert received == b""


def test_a_request_head_trickled_byte_by_byte_is_cut_off(server: MockServer) -> None:
    # 200 bytes at 10 a second: 20 s of head, every byte in time to reset an idle timer.
    head = b"GET /api/v2/account HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 150
    with connect(server) as connection:
        seconds, received = seconds_until_closed(connection, head)
    assert seconds < HEAD_SECONDS + 3
    assert received == b""


def test_a_keep_alive_connection_gets_a_new_deadline_after_each_answer(server: MockServer) -> None:
    request = b"GET /__mock__/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connect(server) as connection:
        for _ in range(3):  # each within the deadline of the previous answer: all answered
            time.sleep(HEAD_SECONDS / 3)
            connection.sendall(request)
            assert read_answer(connection).startswith(b"HTTP/1.1 200")
        seconds, _ = seconds_until_closed(connection)  # then idle: closed
    assert seconds < HEAD_SECONDS + 3


def test_a_trickling_body_gets_a_408_and_is_closed(server: MockServer) -> None:
    head = (
        b"POST /api/v2/sources HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wacr_test_full\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    with connect(server) as connection:
        connection.sendall(head)
        seconds, received = seconds_until_closed(connection, b'{"name": "slow"')
    assert received.startswith(b"HTTP/1.1 408")
    assert b'"REQUEST_TIMEOUT"' in received
    assert seconds < BODY_SECONDS + 3


@pytest.mark.parametrize("value", ["0", "-1", "abc", "3601"])
def test_a_deadline_must_be_a_positive_number_of_seconds(value: str) -> None:
    finished = run_mock_to_exit("--head-timeout", value)
    assert finished.returncode == 2
    assert "is not a number of seconds above 0 and at most 3600" in finished.stdout + finished.stderr
