"""The values Hypothesis drew, shown in a failing check's report ("Failing test case: check(clash={'phone'})").

Schemathesis, once it has made a strategy, swaps Hypothesis' printer of failing examples for one that
prints nothing (a speed-up for its own runs); the suite's checks would then read ``check(clash=,)``. While
a contract check runs, Hypothesis' own printer is put back. It prints only a failing example (or at
verbose output), so the suite's speed is not at stake.
"""

from __future__ import annotations

import hypothesis.core
import pytest
from hypothesis.vendor.pretty import RepresentationPrinter

from contract_tests.plugin import is_contract_check


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    if not is_contract_check(item):
        return (yield)
    swapped = hypothesis.core.RepresentationPrinter
    hypothesis.core.RepresentationPrinter = RepresentationPrinter  # type: ignore[misc]
    try:
        return (yield)
    finally:
        hypothesis.core.RepresentationPrinter = swapped  # type: ignore[misc]
