"""The ``pytest11`` entry point of ``wacr-contract``.

It loads the contract suite's plugin when the suite's dependencies are installed
(``pip install 'wacr-contract[suite]'``). A project that installed the package only for
the mock keeps a working pytest, untouched by the suite.
"""

from __future__ import annotations

import importlib.util

import pytest

# The checks' shared modules assert too: rewritten like test modules, a failing assert shows its values.
pytest.register_assert_rewrite(
    "contract_tests.expect",
    "contract_tests.operations",
    "contract_tests.records",
    "contract_tests.strategies",
    "contract_tests.target",
)

SUITE_DEPENDENCIES = ("hypothesis", "schemathesis")

pytest_plugins = (
    ["contract_tests.plugin", "contract_tests.drawn"]
    if all(importlib.util.find_spec(name) for name in SUITE_DEPENDENCIES)
    else []
)
