"""``--state-file``: state survives a restart; an unreadable file is reported and left alone."""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import struct
from pathlib import Path

import httpx
import pytest

from mockserver import cli
from mockserver.core import MockCore
from mockserver.store import APPLICATION_ID, FORMAT, Database
from tests.helpers import run_mock_to_exit, server_tenant


def test_records_and_tenants_survive_a_restart(start_server, tmp_path: Path) -> None:
    state = tmp_path / "state.bin"
    first = start_server("--state-file", str(state))
    tenant = server_tenant(first)
    with first.client() as http:
        source = http.post("/sources", json={"name": "Kept across restarts"}).json()["data"]
    first.stop()
    assert state.is_file()

    second = start_server("--state-file", str(state))
    with second.client() as http:
        again = http.get(f"/sources/{source['id']}")
    assert again.status_code == 200 and again.json()["data"] == source
    with second.client(tenant["token"]) as http:
        assert http.get("/account").json()["data"]["id"] == tenant["tenant_id"]
        # ids are never reused (D8): the next record gets a new id
        fresh = http.post("/sources", json={"name": "After restart"}).json()["data"]
    assert fresh["id"] > source["id"]


def test_a_refused_call_that_changed_state_survives_a_restart(start_server, tmp_path: Path) -> None:
    """Wrong OTP codes are 422s that still count attempts: a restart must not hand out fresh ones."""
    state = tmp_path / "state.bin"
    first = start_server("--state-file", str(state))
    tenant = server_tenant(first)
    otp = {"phone": "15550007777", "purpose": "login"}
    with first.client(tenant["token"]) as http:
        sent = http.post(
            "/auth/send-otp", json={**otp, "template_name": "otp_verification", "code": "246810"}
        )
        assert sent.status_code == 200, sent.text
        for _ in range(2):
            assert http.post("/auth/verify", json={**otp, "code": "000000"}).status_code == 422
    first.stop()

    second = start_server("--state-file", str(state))
    peek = httpx.get(f"{second.root}/__mock__/otps", params={"tenant_id": tenant["tenant_id"], **otp})
    assert peek.json()["verification_attempts"] == 2


def test_reads_are_saved_at_shutdown(start_server, tmp_path: Path) -> None:
    """Reads move the token's rate-limit window; a clean stop keeps it."""
    state = tmp_path / "state.bin"
    first = start_server("--state-file", str(state))
    tenant = server_tenant(first, rate_limit_per_minute=3)
    with first.client(tenant["token"]) as http:
        for _ in range(3):
            assert http.get("/account").status_code == 200
    first.stop()

    second = start_server("--state-file", str(state))
    with second.client(tenant["token"]) as http:
        assert http.get("/account").status_code == 429


def test_a_second_server_on_the_same_file_is_refused(start_server, tmp_path: Path) -> None:
    """Two writers would overwrite each other's acknowledged writes."""
    state = tmp_path / "state.bin"
    start_server("--state-file", str(state))
    finished = run_mock_to_exit("--state-file", str(state))
    assert finished.returncode == 1
    assert f"--state-file {state} is in use by another wacr-mock" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_the_file_is_private_and_no_other_file_is_left(start_server, tmp_path: Path) -> None:
    """Tokens and OTP codes are inside: only the owner may read it; its write-ahead log too."""
    state = tmp_path / "state.bin"
    server = start_server("--state-file", str(state))
    with server.client() as http:
        assert http.post("/sources", json={"name": "Private"}).status_code == 201
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    server.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.bin"]


def test_a_second_server_is_refused_however_the_path_is_spelled(start_server, tmp_path: Path) -> None:
    """The lock is on the file itself: a symlink or another spelling of the path names the same file."""
    state = tmp_path / "state.bin"
    start_server("--state-file", str(state))
    alias = tmp_path / "alias.bin"
    alias.symlink_to(state)
    (tmp_path / "sub").mkdir()
    for spelled in (alias, tmp_path / "sub" / ".." / "state.bin"):
        finished = run_mock_to_exit("--state-file", str(spelled))
        assert finished.returncode == 1, finished.stderr
        assert "is in use by another wacr-mock" in finished.stderr and "Traceback" not in finished.stderr
    assert alias.is_symlink()


def test_an_unreadable_state_file_refuses_to_start_and_is_kept(tmp_path: Path) -> None:
    """The real command exits 1 with a message, and leaves the file as it was."""
    state = tmp_path / "state.bin"
    state.write_bytes(b"not a state file")
    finished = run_mock_to_exit("--state-file", str(state))
    assert finished.returncode == 1
    assert f"--state-file {state} cannot be read" in finished.stderr and "Traceback" not in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1
    assert state.read_bytes() == b"not a state file"


# The crafted pickles of the reliability review: a dotted name reaching os.system, and a 32-byte
# file asking for a 1.5 GB bytearray. Neither is read at all now: the file is not an SQLite store.
DOTTED_NAME_RUNS_CODE = b"\x80\x04\x8c\x0emockserver.cli\x8c\x09os.system\x93\x8c\x12touch ran-code\x85R."
BYTEARRAY_BOMB = (
    b"\x80\x04\x8c\x08builtins\x8c\x09bytearray\x93J" + struct.pack("<i", 1_500_000_000) + b"\x85R."
)


def sqlite_file(path: Path, application_id: int, version: int, extra: str = "") -> bytes:
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA application_id = {application_id}")
    connection.execute(f"PRAGMA user_version = {version}")
    connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, body TEXT NOT NULL)")
    if extra:
        connection.execute(extra)
    connection.commit()
    connection.close()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty"),
        (b"\x80\x04K\x01.", "an older wacr-mock .a pickle."),
        (DOTTED_NAME_RUNS_CODE, "an older wacr-mock .a pickle."),
        (BYTEARRAY_BOMB, "an older wacr-mock .a pickle."),
        (b'{"format": 4}', "cannot be read"),
        ("sqlite-other", "SQLite file of another program"),
        ("sqlite-old-format", f"not {FORMAT}"),
        ("sqlite-extra-trigger", "does not hold the tables of a wacr-mock store"),
    ],
    ids=[
        "empty",
        "old-pickle",
        "pickle-runs-code",
        "pickle-bomb",
        "json",
        "sqlite-of-another-program",
        "another-format",
        "a-trigger-added",
    ],
)
def test_other_unreadable_state_files_are_refused_and_kept(
    tmp_path: Path, content: bytes | str, says: str, monkeypatch
) -> None:
    """In process (fast): every file that is not a store of this version is refused in one line,
    left as it was, and nothing in it runs."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state.bin"
    if content == "sqlite-other":
        content = sqlite_file(state, 1234, FORMAT)
    elif content == "sqlite-old-format":
        content = sqlite_file(state, APPLICATION_ID, FORMAT - 1)
    elif content == "sqlite-extra-trigger":
        content = sqlite_file(
            state,
            APPLICATION_ID,
            FORMAT,
            "CREATE TRIGGER t AFTER INSERT ON meta BEGIN DELETE FROM meta; END",
        )
    else:
        state.write_bytes(content)
    with pytest.raises(SystemExit, match=says) as refused:
        cli.build(cli.parser().parse_args(["--state-file", str(state)]))
    assert "\n" not in str(refused.value)
    assert state.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.bin"]
    assert not (tmp_path / "ran-code").exists()


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE records SET tenant_id = 99 WHERE collection = 'sources'",
        "UPDATE records SET collection = 'nothing' WHERE collection = 'statuses'",
    ],
    ids=["no-such-tenant", "no-such-collection"],
)
def test_a_state_file_with_a_wrong_record_row_is_refused_at_start_and_kept(
    tmp_path: Path, change: str
) -> None:
    """Records are read when a tenant is first used; rows no tenant would ever read are found at start."""
    state = tmp_path / "state.bin"
    core = MockCore()
    core.use_database(Database.open_file(state))
    core.close()
    with contextlib.closing(sqlite3.connect(state)) as connection, connection:
        connection.execute(change)
    content = state.read_bytes()
    with pytest.raises(SystemExit, match="holds rows this version cannot read") as refused:
        cli.build(cli.parser().parse_args(["--state-file", str(state)]))
    assert "\n" not in str(refused.value)
    assert state.read_bytes() == content
