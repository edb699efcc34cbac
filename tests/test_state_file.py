"""``--state-file``: state survives a restart; an unreadable file is reported and left alone."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import httpx
import pytest

from mockserver import cli
from mockserver.persistence import FORMAT
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


def test_the_file_is_private_and_no_temporary_file_is_left(start_server, tmp_path: Path) -> None:
    """Tokens and OTP codes are inside: only the owner may read it."""
    state = tmp_path / "state.bin"
    server = start_server("--state-file", str(state))
    with server.client() as http:
        assert http.post("/sources", json={"name": "Private"}).status_code == 201
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.bin", "state.bin.lock"]


def test_an_unreadable_state_file_refuses_to_start_and_is_kept(tmp_path: Path) -> None:
    """The real command exits 1 with a message, and leaves the file as it was."""
    state = tmp_path / "state.bin"
    state.write_bytes(b"not a state file")
    finished = run_mock_to_exit("--state-file", str(state))
    assert finished.returncode == 1
    assert f"--state-file {state} cannot be read" in finished.stderr and "Traceback" not in finished.stderr
    assert state.read_bytes() == b"not a state file"


class RunsCode:
    """A pickle that would run a command when loaded."""

    def __reduce__(self):
        return (os.system, ("touch ran-code",))


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x80\x04K\x01.",
        pickle.dumps({"format": 99, "store": None}),
        pickle.dumps(["not", "a", "dict"]),
        pickle.dumps({"format": FORMAT, "store": {"tenants": {}}}),
        pickle.dumps({"format": FORMAT, "store": RunsCode()}),
    ],
    ids=["empty", "another-pickle", "another-format", "not-a-mapping", "not-a-store", "runs-code"],
)
def test_other_unreadable_state_files_are_refused_and_kept(
    tmp_path: Path, content: bytes, monkeypatch
) -> None:
    """In process (fast): every unreadable file gives the same clear refusal, and none runs code."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state.bin"
    state.write_bytes(content)
    with pytest.raises(SystemExit, match="cannot be read"):
        cli.build(cli.parser().parse_args(["--state-file", str(state)]))
    assert state.read_bytes() == content
    assert not (tmp_path / "ran-code").exists()
