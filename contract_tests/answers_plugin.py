"""The meta run's counting plugin: how many answers the in-process mock gave, and how many were 5xx.

``python -m contract_tests.meta`` loads it (``-p contract_tests.answers_plugin``) into every in-process
run and reads the line it prints: the answers are the run's cost in requests, and a 5xx answer that no
check asked for means the mock crashed, so a mutant run with one is reported as BROKEN, not as caught.
"""

from __future__ import annotations

import pytest

from contract_tests import in_process

COUNT = pytest.StashKey[in_process.AnswerCount]()
LINE = "wacr-meta: {answers} answers, {server_errors} server errors"


def pytest_configure(config: pytest.Config) -> None:
    config.stash[COUNT] = in_process.count_answers()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    count = config.stash[COUNT]
    terminalreporter.write_line(LINE.format(answers=count.answers, server_errors=count.server_errors))
