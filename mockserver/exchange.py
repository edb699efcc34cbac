"""One request's way through the D6 steps: the ``Exchange`` each step reads and fills, what a step may
read of its instance (``Pipeline``), and the named, ordered ``Steps`` (``mockserver/steps.py`` holds
the steps themselves)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mockserver.behaviour import Behaviour
from mockserver.context import Context, Handler, Reply
from mockserver.http import CoreRequest
from mockserver.listing import Paging
from mockserver.routing import Match, Router
from mockserver.spec import Operation, Spec
from mockserver.store import Store, Tenant, Token
from mockserver.validation import Outcome, ReferenceCheck

T = TypeVar("T")


@dataclass
class Exchange:
    """One request on its way through the steps; each step fills what the next ones need."""

    request: CoreRequest
    request_id: str
    now: float
    match: Match | None = None
    op: Operation | None = None
    token: Token | None = None
    tenant: Tenant | None = None
    counted: bool = False  # the per-token limiter counted this call, so the answer carries its headers
    injected: dict | None = None  # a /__mock__/faults entry for this operation
    record: dict | None = None
    body: dict[str, Any] = field(default_factory=dict)
    form: bool = False  # the body came as multipart/form-data
    ctx: Context | None = None
    reply: Reply | None = None

    # What the earlier steps filled, for the later ones: a step run out of order is a mock bug.
    @property
    def operation(self) -> Operation:
        return filled(self.op, "op", "route")

    @property
    def route_match(self) -> Match:
        return filled(self.match, "match", "route")

    @property
    def caller_token(self) -> Token:
        return filled(self.token, "token", "authenticate")

    @property
    def caller_tenant(self) -> Tenant:
        return filled(self.tenant, "tenant", "authenticate")

    @property
    def context(self) -> Context:
        return filled(self.ctx, "ctx", "validate")

    @property
    def answered(self) -> Reply:
        return filled(self.reply, "reply", "dispatch")

    @property
    def envelope(self) -> str:
        """The answer style: the operation's, or, before one is known, the route's (all share one)."""
        if self.op is not None:
            return self.op.envelope
        if self.match is not None:
            return next(iter(self.match.route.methods.values())).envelope
        return "standard"


def filled(value: T | None, name: str, step: str) -> T:
    if value is None:
        raise RuntimeError(f"the exchange has no {name} yet: a step before {step!r} needs it")
    return value


@dataclass(frozen=True)
class Pipeline:
    """What a step may read of its instance, taken for one request: the seams, not the instance's
    lock, journal or hooks (``MockCore.pipeline()`` builds it; steps never see ``MockCore``)."""

    router: Router
    store: Store
    spec: Spec
    behaviour: Behaviour
    handlers: dict[str, Handler]
    reference_rules: dict[str, ReferenceRule]
    paging: Paging
    injected: dict[str, dict]  # /__mock__/faults: errors and delays asked for, by operation


Step = Callable[[Pipeline, Exchange], None]
ReferenceRule = Callable[[Context, ReferenceCheck, Outcome], None]


@dataclass(frozen=True)
class Steps:
    """Named steps in order; ``replace`` and ``wrap`` give a changed copy."""

    named: tuple[tuple[str, Step], ...]

    def __iter__(self) -> Iterator[tuple[str, Step]]:
        return iter(self.named)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.named)

    def replace(self, name: str, step: Step) -> Steps:
        if name not in self.names:
            raise KeyError(f"no step {name!r}; the steps are {self.names}")
        return Steps(tuple((n, step if n == name else s) for n, s in self.named))

    def wrap(self, name: str, around: Callable[[Step, Pipeline, Exchange], None]) -> Steps:
        original = dict(self.named)[name] if name in self.names else None
        if original is None:
            raise KeyError(f"no step {name!r}; the steps are {self.names}")
        return self.replace(name, lambda core, exchange: around(original, core, exchange))
