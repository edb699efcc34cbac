"""What a handler gets and what it returns: ``Context`` and ``Reply``.

The context is the handler's whole view of the mock: the operation, the caller's tenant and
token, the request as validated, the record the path names, the request's one ``now``, and
the instance's free choices (``behaviour``). Handlers never see ``MockCore``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mockserver.behaviour import Behaviour
from mockserver.errors import ApiError
from mockserver.extensions import RootMessages
from mockserver.spec import Operation
from mockserver.store import Tenant, Token

# How a list is ordered and cut into pages; ``listing.Paging`` (a seam of ``MockCore``) holds the two.
Sorter = Callable[[list[dict], str], list[dict]]
Pager = Callable[[Sequence[dict], int, int, str, list[tuple[str, str]]], tuple[list[dict], dict, dict]]


class PagingPolicy(Protocol):
    """What a list answer needs of the instance's paging (``listing`` builds Replies, so it sits
    above this module and is named here only by this shape)."""

    @property
    def sort(self) -> Sorter: ...

    @property
    def page(self) -> Pager: ...


@dataclass
class Reply:
    """What a handler returns: ``data`` goes into the operation's envelope (``mockserver/envelopes.py``
    builds every envelope; a handler never writes ``success`` or ``message``)."""

    data: Any
    message: str | None = None
    fields: dict | None = None  # a flat (D12) answer's own top-level fields, in place of ``data``
    listing: tuple[dict, dict] | None = None  # (pagination meta, links) of a list answer


@dataclass
class Context:
    op: Operation
    tenant: Tenant
    token: Token
    now: float  # read once per request, so every timestamp of one answer agrees
    params: dict[str, str]
    raw_query: list[tuple[str, str]]
    body: dict[str, Any]  # as validated: form fields read, empty values dropped (D16)
    record: dict | None  # the record the path names
    origin: str  # scheme://host:port the request came to, for links
    behaviour: Behaviour
    messages: RootMessages
    paging: PagingPolicy
    query: dict[str, Any] = field(default_factory=dict)  # the query parameters that passed validation
    sent: dict[str, Any] = field(default_factory=dict)  # the body as parsed, before readers and D16
    item_errors: dict[str, list[str]] = field(default_factory=dict)  # failures of single batch items

    @property
    def path_record(self) -> dict:
        """The record the path names, for an operation with ``x-path-record`` (``load_record`` found it)."""
        if self.record is None:
            raise RuntimeError(f"{self.op.operation_id} names no record in its path (no x-path-record)")
        return self.record

    def error(
        self, status: int, code: str, details: dict | None = None, message: str | None = None
    ) -> ApiError:
        """The operation's documented error, with the message its ``x-error-codes`` give."""
        return ApiError(status, code, message or self.op.error_message(status, code), details)


Handler = Callable[[Context], Reply]
