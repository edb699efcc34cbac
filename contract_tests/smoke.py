"""What ``--smoke`` runs: the smoke selection saved in ``smoke-selection.json`` beside this module.

``python -m contract_tests.smoke_selection`` measures the checks and writes the file; this module only reads it,
so a run of the suite loads nothing of the measuring.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SELECTION_FILE = Path(__file__).resolve().with_name("smoke-selection.json")
BUDGET = 600  # requests a live smoke run may send (issue 16): 10 minutes at 60 a minute
LEVELS = ("documented", "all")


def check_id(nodeid: str) -> str:
    """A check's id, the same wherever the suite runs from: its module's file name and its name in it."""
    path, _, rest = nodeid.partition("::")
    return f"{Path(path).name}::{rest}"


def node_id(item: pytest.Item) -> str:
    """``item``'s node id with its own name: schemathesis gives its items one node id for all operations."""
    return f"{item.nodeid.rsplit('::', 1)[0]}::{item.name}"


def chosen(level: str, path: Path = SELECTION_FILE) -> set[str]:
    """The ids of the checks ``--smoke`` runs at ``level``."""
    return set(json.loads(path.read_text(encoding="utf-8"))["selection"][level]["checks"])
