"""Fixtures of the mock's own test suite.

Two ways to reach the mock:

- in process: ``core`` (a fresh ``MockCore`` per test) behind ``client`` / ``control``
  (httpx clients on ``mockserver.transport.MockTransport``), fast and deterministic;
- as users run it: ``mock_server`` (one ``python -m mockserver --port 0`` for the whole
  session) and ``start_server`` (a fresh process with the given CLI options), both on
  127.0.0.1 and stopped after.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.core import MockCore
from mockserver.spec import Spec
from mockserver.transport import MockTransport
from tests.helpers import MockServer, api_client, start_mock


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec.load()


@pytest.fixture
def core(spec: Spec) -> MockCore:
    return MockCore(spec, validate_responses=True)


@pytest.fixture
def client(core: MockCore) -> Iterator[httpx.Client]:
    with api_client(core) as http:
        yield http


@pytest.fixture
def control(core: MockCore) -> Iterator[httpx.Client]:
    """The control API of the in-process core (base URL ``.../__mock__``)."""
    with httpx.Client(transport=MockTransport(core), base_url="http://mock.test/__mock__") as http:
        yield http


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    """The mock as ``python -m mockserver --port 0`` starts it, shared by the session."""
    server = start_mock()
    yield server
    server.stop()


@pytest.fixture
def start_server() -> Iterator:
    """``start_server(*cli_args)``: a fresh mock process, stopped at the end of the test."""
    started: list[MockServer] = []

    def start(*args: str) -> MockServer:
        server = start_mock(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
