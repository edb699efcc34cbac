"""The package as an outside team gets it: a wheel in an empty virtualenv, used from another folder.

Builds the wheel, installs it with the suite's extra (``wacr-contract[suite]``, pinned by
constraints.txt) into a fresh venv, starts ``wacr-mock`` from there and runs part of the
contract suite against it by URL with ``pytest --pyargs contract_tests``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import pytest

PROJECT = Path(__file__).resolve().parent.parent
API_LINE = re.compile(r"API:\s+(http://\S+/api/v2)")


def run(*command: str | Path, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only the built wheel and what it depends on; returns its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--wheel-dir",
        work / "dist",
        PROJECT,
        cwd=work,
    )
    (wheel,) = (work / "dist").glob("wacr_contract-*.whl")
    venv.EnvBuilder(with_pip=True).create(work / "venv")
    bin_dir = work / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    run(
        bin_dir / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "-c",
        PROJECT / "constraints.txt",
        f"wacr-contract[suite] @ {wheel.as_uri()}",
        cwd=work,
    )
    return bin_dir


def test_the_wheel_serves_the_mock_and_runs_the_suite_from_another_folder(
    installed: Path, tmp_path: Path
) -> None:
    version = run(installed / "wacr-mock", "--version", cwd=tmp_path)
    assert version.stdout.startswith("wacr-mock ")
    process = subprocess.Popen(
        [installed / "wacr-mock", "--port", "0", "--log-level", "warning"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if API_LINE.search(line):
                break
        match = API_LINE.search("".join(lines))
        assert match, "".join(lines)
        result = run(
            installed / "python",
            "-m",
            "pytest",
            "--pyargs",
            "contract_tests",
            "-q",
            "-p",
            "no:cacheprovider",
            "--base-url",
            match.group(1),
            "-k",
            "test_taken_name_gets_the_documented_message or test_list_envelope_shape",
            cwd=tmp_path,
        )
        assert re.search(r"\d+ passed", result.stdout), result.stdout
        root = match.group(1).removesuffix("/api/v2")
        for page in ("/__mock__/", "/__mock__/ui/app.js", "/__mock__/ui/style.css"):  # package data
            assert httpx.get(root + page).status_code == 200, page
        # The plain schemathesis CLI with the wheel's own schemathesis.toml, from a folder without one.
        st = run(
            installed / "wacr-contract",
            "st",
            match.group(1),
            "-H",
            "Authorization: Bearer wacr_test_full",
            "--include-operation-id",
            "getAccount",
            "--phases",
            "examples,coverage",
            "--max-examples",
            "2",
            cwd=tmp_path,
        )
        assert re.search(r"\d+ passed", st.stdout) and "failed" not in st.stdout, st.stdout
        # -n auto works in the suite's install: pytest-xdist comes with the extra.
        run(installed / "python", "-c", "import xdist", cwd=tmp_path)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_wheel_gives_other_projects_the_wacr_respx_fixture(installed: Path, tmp_path: Path) -> None:
    """The fixture and its marker come from the package's pytest11 entry point: no conftest.py needed."""
    (tmp_path / "test_signup.py").write_text(
        "import httpx, pytest\n\n"
        "@pytest.mark.wacr_base_url('https://crm.example')\n"
        "def test_account(wacr_respx):\n"
        "    answer = httpx.get('https://crm.example/api/v2/account', headers={'Authorization': 'Bearer wacr_test_full'})\n"
        "    assert answer.status_code == 200 and answer.json()['success'] is True\n"
    )
    result = run(
        installed / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers", cwd=tmp_path
    )
    assert "1 passed" in result.stdout, result.stdout


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_dependencies_are_ranges_and_the_tested_set_is_pinned_apart() -> None:
    """An exact pin in pyproject.toml makes installing beside another project fail (ResolutionImpossible); the
    exact versions the tests ran with live in constraints.txt, which tox and .ci/run install with."""
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads TOML itself")

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    pinned = [r for r in requirements if "==" in r or "===" in r]
    assert not pinned, f"exact pins in pyproject.toml: {pinned}"
    constraints = {
        requirement_name(line): line
        for line in (PROJECT / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert all("==" in line for line in constraints.values()), "constraints.txt pins exact versions"
    unpinned = {requirement_name(r) for r in requirements} - set(constraints) - {"wacr-contract"}
    assert not unpinned, f"not in constraints.txt: {sorted(unpinned)}"
