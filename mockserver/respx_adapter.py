"""respx adapter: route httpx calls for a base URL to an in-process mock.

    with wacr_mock("https://app.wa.cr") as mock:      # sync and async httpx clients alike
        httpx.get("https://app.wa.cr/api/v2/account", headers={"Authorization": "Bearer wacr_test_full"})
        mock.core.store  # the state, for assertions

The pytest fixture ``wacr_respx`` (``mockserver.pytest_plugin``, installed as a pytest plugin with
the package) does the same for one test; mark the test with ``@pytest.mark.wacr_base_url("https://...")``
to change the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import respx

from mockserver.core import MockCore
from mockserver.transport import to_httpx

DEFAULT_BASE_URL = "https://app.wa.cr"


@dataclass
class RespxMock:
    core: MockCore
    router: respx.MockRouter
    base_url: str


def _side_effect(core: MockCore):
    def answer(request: httpx.Request) -> httpx.Response:
        return to_httpx(core, request, request.read())

    return answer


@contextmanager
def wacr_mock(base_url: str = DEFAULT_BASE_URL, core: MockCore | None = None) -> Iterator[RespxMock]:
    """Every httpx request under ``base_url`` is answered by the mock; others are not mocked."""
    core = core or MockCore()
    with respx.mock(base_url=base_url, assert_all_called=False, assert_all_mocked=True) as router:
        router.route().mock(side_effect=_side_effect(core))
        yield RespxMock(core, router, base_url)
