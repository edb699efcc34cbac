"""One module per API tag, each with an explicit ``HANDLERS`` table keyed by operationId."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mockserver.context import Handler
from mockserver.handlers import (
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

MODULES = (account, auth, comments, contacts, groups, messages, sources, statuses, templates)


def merged(tables: Iterable[Mapping[str, Handler]]) -> dict[str, Handler]:
    """One table from many; an operationId in two tables is a mistake, not an override."""
    result: dict[str, Handler] = {}
    for table in tables:
        twice = sorted(set(result) & set(table))
        if twice:
            raise RuntimeError(f"operations with two handlers: {twice}")
        result.update(table)
    return result


HANDLERS: Mapping[str, Handler] = merged(module.HANDLERS for module in MODULES)


def handler_table(operation_ids: Iterable[str]) -> dict[str, Handler]:
    """A fresh table for one mock instance, checked against the spec's operations both ways."""
    wanted = set(operation_ids)
    missing = sorted(wanted - set(HANDLERS))
    unknown = sorted(set(HANDLERS) - wanted)
    if missing or unknown:
        raise RuntimeError(
            f"handlers do not match the spec: without a handler {missing}; not in the spec {unknown}"
        )
    return dict(HANDLERS)
