"""``--state-file``: state survives a restart; an unreadable file is reported and left alone."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mockserver import cli
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


def test_a_refused_call_does_not_change_the_file(start_server, tmp_path: Path) -> None:
    state = tmp_path / "state.bin"
    server = start_server("--state-file", str(state))
    before = state.read_bytes()
    with server.client() as http:
        assert http.post("/sources", json={}).status_code == 422
        assert http.get("/sources").status_code == 200
    assert state.read_bytes() == before


def test_an_unreadable_state_file_refuses_to_start_and_is_kept(tmp_path: Path) -> None:
    """The real command exits 1 with a message, and leaves the file as it was."""
    state = tmp_path / "state.bin"
    state.write_bytes(b"not a state file")
    finished = run_mock_to_exit("--state-file", str(state))
    assert finished.returncode == 1
    assert f"--state-file {state} cannot be read" in finished.stderr and "Traceback" not in finished.stderr
    assert state.read_bytes() == b"not a state file"


@pytest.mark.parametrize(
    "content",
    [b"", b"\x80\x04K\x01.", pickle.dumps({"format": 99, "store": None}), pickle.dumps(["not", "a", "dict"])],
    ids=["empty", "another-pickle", "another-format", "not-a-mapping"],
)
def test_other_unreadable_state_files_are_refused_and_kept(tmp_path: Path, content: bytes) -> None:
    """In process (fast): every unreadable file gives the same clear refusal."""
    state = tmp_path / "state.bin"
    state.write_bytes(content)
    with pytest.raises(SystemExit, match="cannot be read"):
        cli.build(cli.parser().parse_args(["--state-file", str(state)]))
    assert state.read_bytes() == content
