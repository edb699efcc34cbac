"""One module per API tag; each registers its operations by operationId."""

from __future__ import annotations

from collections.abc import Callable

HANDLERS: dict[str, Callable] = {}


def handles(operation_id: str) -> Callable[[Callable], Callable]:
    def register(function: Callable) -> Callable:
        HANDLERS[operation_id] = function
        return function

    return register


from mockserver.handlers import (  # noqa: E402,F401  (registration side effects)
    account,
    auth,
    comments,
    contacts,
    groups,
    messages,
    sources,
    statuses,
    templates,
)
