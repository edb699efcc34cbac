"""The code's shape, kept true: no import cycles, no private names reached across modules,
imports at the top of modules except where start-up speed needs them, and seams that exist."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mockserver.core import MockCore
from mockserver.handlers import merged
from mockserver.mutants import MUTANTS, apply_mutant
from tests.helpers import PROJECT

# cli keeps ``--help`` and ``--list-*`` fast; the respx fixture imports respx only when used;
# the suite's in_process module keeps the mock out of runs against a live server.
LAZY_IMPORTS_ALLOWED = {"mockserver.cli", "mockserver.pytest_plugin", "contract_tests.in_process"}


def load_census(root: Path = PROJECT):
    spec = importlib.util.spec_from_file_location(
        "architecture_census", PROJECT / "scripts" / "architecture_census.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.census(Path(root))


@pytest.fixture(scope="module")
def census() -> dict:
    return load_census()


def test_no_import_cycles(census: dict) -> None:
    """Every import counts: inside functions and under ``if TYPE_CHECKING:`` too."""
    loops = [
        f"{' -> '.join(loop)} (tying {', '.join(members)})"
        for loop, members in zip(census["cycles"], census["cycle_members"], strict=True)
    ]
    assert not loops, "import cycles: " + "; ".join(loops)


def test_a_type_only_import_closes_a_cycle(tmp_path: Path) -> None:
    """The census sees an import under ``if TYPE_CHECKING:`` and inside a function, and names the loop."""
    package = tmp_path / "mockserver"
    package.mkdir()
    (tmp_path / "contract_tests").mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mockserver.high import High\n"
    )
    (package / "high.py").write_text("def make():\n    from mockserver import middle\n")
    (package / "middle.py").write_text("import mockserver.low\n")
    census = load_census(tmp_path)
    assert census["cycles"] == [["mockserver.high", "mockserver.middle", "mockserver.low", "mockserver.high"]]


def test_no_private_names_of_other_modules(census: dict) -> None:
    assert census["private_imports"] == {}


def test_mock_imports_at_module_level(census: dict) -> None:
    lazy = {
        name: found
        for name, found in census["function_level_imports"].items()
        if name.startswith("mockserver")
    }
    assert set(lazy) <= LAZY_IMPORTS_ALLOWED, lazy


def test_handler_tables_refuse_a_second_handler_for_one_operation() -> None:
    with pytest.raises(RuntimeError, match="two handlers: \\['getAccount'\\]"):
        merged([{"getAccount": lambda ctx: None}, {"getAccount": lambda ctx: None}])


def test_every_mutant_applies_to_a_fresh_instance_only() -> None:
    """Each mutant changes at least one declared seam of its own instance and nothing of another."""
    untouched = MockCore()
    correct = seams(untouched)
    for name in MUTANTS:
        mutated = MockCore(untouched.spec)
        apply_mutant(mutated, name)
        assert seams(mutated) != correct, f"{name} changed no seam"
        assert seams(untouched) == correct, f"{name} changed another instance"


def seams(core: MockCore) -> tuple:
    return (
        core.steps,
        tuple(sorted((op, id(handler)) for op, handler in core.handlers.items())),
        tuple(sorted((rule, id(check)) for rule, check in core.reference_rules.items())),
        core.paging,
        tuple(core.after_dispatch),
    )
