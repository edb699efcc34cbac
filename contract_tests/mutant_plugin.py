"""The meta run's pytest plugin: the in-process mock becomes the mutant ``WACR_MUTANT`` names.

``python -m contract_tests.meta`` loads it with ``-p contract_tests.mutant_plugin``; the
contract suite itself knows nothing of mutants.
"""

from __future__ import annotations

import os

import pytest

from contract_tests import in_process


def pytest_configure(config: pytest.Config) -> None:
    name = os.environ.get("WACR_MUTANT")
    if not name:
        raise pytest.UsageError(
            "contract_tests.mutant_plugin needs WACR_MUTANT (a name from wacr-mock --list-mutants)"
        )
    try:
        in_process.mutate(name)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
