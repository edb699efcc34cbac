"""pytest plugin of the mock (``pytest11`` entry point ``wacr-respx``): the ``wacr_respx`` fixture.

    def test_signup(wacr_respx):                          # httpx calls to https://app.wa.cr go to the mock
        httpx.get("https://app.wa.cr/api/v2/account", headers={"Authorization": "Bearer wacr_test_full"})

    @pytest.mark.wacr_base_url("https://staging.example")  # another base URL
    def test_staging(wacr_respx): ...

Installed with the package, so no conftest.py is needed. The mock's core is imported only when a
test asks for the fixture, so other projects' runs do not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wacr_base_url(url): base URL the wacr_respx fixture mocks")


@pytest.fixture
def wacr_respx(request: pytest.FixtureRequest) -> Iterator:
    """A fresh in-process mock answering every httpx request under the base URL, for one test."""
    from mockserver.respx_adapter import DEFAULT_BASE_URL, wacr_mock

    marker = request.node.get_closest_marker("wacr_base_url")
    with wacr_mock(marker.args[0] if marker else DEFAULT_BASE_URL) as mock:
        yield mock
