"""The README's GitHub Actions recipe, run as written against a live-like server.

The block is parsed from README.md; its ``wacr-contract`` command runs with the job's environment
against a ``wacr-mock --no-control`` seeded with staging-like tokens (a full and a scope-less one).
Only the pace changes: 60 a minute would make this test take 9 minutes, so it runs at 6000.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from contract_tests.in_process import start_server

README = Path(__file__).resolve().parent.parent / "README.md"
SEED = """tenants:
  - id: 1
    limits: {contacts: -1, conversations: -1}
    tokens:
      - {token: staging_full, scopes: ["*"], rate_limit_per_minute: 100000}
      - {token: staging_none, scopes: [], rate_limit_per_minute: 100000}
"""


def recipe() -> dict:
    block = README.read_text().split("```yaml\n# GitHub Actions\n")[1].split("```")[0]
    return yaml.safe_load(block)


def contract_command(job: dict) -> str:
    return next(step["run"] for step in job["steps"] if str(step.get("run", "")).startswith("wacr-contract "))


def test_the_recipe_runs_smoke_on_push_and_the_full_profile_nightly_and_uploads_always() -> None:
    workflow = recipe()
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert "push" in triggers and "schedule" in triggers
    job = workflow["jobs"]["contract"]
    assert "'--smoke'" in job["env"]["PROFILE"] and "'--level documented'" in job["env"]["PROFILE"]
    upload = next(step for step in job["steps"] if "upload-artifact" in step.get("uses", ""))
    assert upload["if"] == "always()"
    assert "--report reports/" in contract_command(job) and "--junitxml reports/" in contract_command(job)


# No documented smoke check calls these yet (check selection, separate work): the gate exits 5 naming them.
def test_the_recipes_push_job_passes_against_a_live_like_server(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    server = start_server("--no-control", "--seed", str(seed))
    command = contract_command(recipe()["jobs"]["contract"]).replace(
        "--rate-limit 60/m", "--rate-limit 6000/m"
    )
    env = {
        **os.environ,
        "STAGING_URL": server.api_url,
        "STAGING_TOKEN": "staging_full",
        "STAGING_LIMITED_TOKEN": "staging_none",
        "PROFILE": "--smoke",
    }
    try:
        # As Actions runs a step: bash, with the job's environment.
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        server.stop()
    assert (tmp_path / "reports" / "contract" / "report.json").is_file()
    assert (tmp_path / "reports" / "contract.xml").is_file()
    closing = [
        line for line in result.stdout.splitlines() if line.startswith("WA.cr contract: ") and "exit" in line
    ]
    assert result.returncode == 0, result.stdout[-3000:]
    assert closing and "exit 0" in closing[-1], closing
