"""The OTP and message checks pass servers that choose otherwise where the docs and decisions leave it free.

Each case runs the affected checks in a pytest process of their own against the in-process mock turned, by
``tests/otp_variants_plugin.py``, into such a server, at the level(s) where its choice is legitimate.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OTP = "contract_tests/test_otp_lifecycle.py"
MESSAGES = "contract_tests/test_messages_templates.py"

# (variants, level, modules, -k selection): the checks whose assertion each freedom reaches.
CASES = [
    ("fixed-window", "all", [OTP], "limit or follows_the_model"),
    ("fixed-window", "documented", [OTP], "limit"),
    ("max-on-fifth", "documented", [OTP], "exact_code or limit or read_only"),
    ("category-first", "all", [MESSAGES], "cannot_be_sent"),
    ("null-message-status", "all", [MESSAGES], "listed or finds or merge"),
    ("other-feature-name", "all", [MESSAGES], "limit"),
    ("flat-errors", "documented", [OTP, MESSAGES], "not follows_the_model"),
]


def run_checks(variants: str, level: str, selection: str, *modules: str, **options: str):
    """The selected checks of ``modules`` at ``level``, in a pytest process whose mock is ``variants``."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "tests.otp_variants_plugin",
        "-q",
    ]
    command += ["--contract-level", level, "-k", selection, *modules]
    env = {**os.environ, "WACR_OTP_VARIANTS": variants, **options}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    ("variants", "level", "modules", "selection"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_checks_pass_a_legitimate_variant(variants, level, modules, selection):
    run = run_checks(variants, level, selection, *modules, HYPOTHESIS_PROFILE="ci")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout, run.stdout[-2000:]


@pytest.mark.parametrize(("variants", "level"), [("max-on-fifth", "all"), ("flat-errors", "all")])
def test_a_decided_check_still_tells_the_variant_apart(variants, level):
    """The same choices are caught where a decision fixes them (D10's attempt boundary, D4's layout): the proof
    above is not a suite that passes everything."""
    run = run_checks(variants, level, "exact_code", OTP)
    assert run.returncode == 1, run.stdout[-4000:]
