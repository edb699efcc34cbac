"""``MockCore``: one mock instance. One request in, one response out, no web framework.

The instance holds the compiled spec, the store, the handler table and the D6 steps
(``mockserver/steps.py``). Everything it needs is given at construction; what may change
later is named here: ``steps``, ``handlers``, ``reference_rules``, ``paging`` and the
``after_dispatch`` and ``after_request`` hooks.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable

from mockserver import envelopes, journal
from mockserver.behaviour import Behaviour, ErrorLayout
from mockserver.clock import iso
from mockserver.control import Controlled, ControlSettings, handle_control
from mockserver.errors import ApiError
from mockserver.exchange import Exchange, Pipeline, ReferenceRule, Steps
from mockserver.handlers import handler_table
from mockserver.http import CoreRequest, CoreResponse, is_control_path
from mockserver.listing import Paging
from mockserver.response_check import ResponseValidator
from mockserver.routing import Router
from mockserver.seed import apply_fixtures, default_world
from mockserver.spec import Spec
from mockserver.steps import DEFAULT_REFERENCE_RULES, DEFAULT_STEPS, INJECTED_HEADER
from mockserver.store import Database, Store, StoreError
from mockserver.variants import VariantSet, behaviour_for, edited_spec, resolve

log = logging.getLogger("wacr-mock")

AfterDispatch = Callable[[Exchange, CoreResponse], None]
AfterRequest = Callable[[CoreRequest, CoreResponse], None]


# The journal keeps 2000 entries; a cap per entry keeps its bytes bounded too.
JOURNAL_TEXT_LIMIT = 2048


def internal_error(exchange: Exchange, layout: ErrorLayout) -> CoreResponse:
    """The documented 500 (D4, in the instance's error ``layout``): a mock bug, or a change the store could not
    commit."""
    response = envelopes.error(
        exchange.envelope,
        500,
        "INTERNAL_ERROR",
        "Internal server error",
        None,
        exchange.request_id,
        exchange.now,
        layout,
    )
    response.headers["Content-Type"] = "application/json"
    return response


class MockCore:
    """A complete mock instance: compiled spec, state, clocks and handlers."""

    def __init__(
        self,
        spec: Spec | None = None,
        *,
        variants: VariantSet | Iterable[str] = (),
        fixtures: Iterable[str] = (),
        validate_responses: bool = False,
        control: ControlSettings | None = None,
    ) -> None:
        """``variants``: legitimate variants (``mockserver/variants/``), fixed for the instance's life.
        ``fixtures``: seed files applied on top of the default world, at start and on every reset."""
        self.variants = variants if isinstance(variants, VariantSet) else resolve(variants)
        base = spec or Spec.load()
        self.behaviour: Behaviour = behaviour_for(self.variants, base)
        self.spec = edited_spec(base, self.behaviour)
        self.router = Router(list(self.spec.operations.values()))
        self.control = control if control is not None else ControlSettings()
        self.fixtures = tuple(str(path) for path in fixtures)
        self.response_validator = (
            ResponseValidator(self.spec, lenient=bool(self.variants)) if validate_responses else None
        )
        # The seams: each instance has its own, so changing one changes this instance only.
        self.steps: Steps = DEFAULT_STEPS
        self.handlers = {**handler_table(self.spec.operations), **self.behaviour.handlers}
        self.reference_rules: dict[str, ReferenceRule] = dict(DEFAULT_REFERENCE_RULES)
        self.paging = Paging()
        self.after_dispatch: list[AfterDispatch] = []
        self.after_request: list[AfterRequest] = []  # e.g. the state file's writer
        self.on_close: list[Callable[[], None]] = []  # run once by close(), when the server stops
        self.lock = threading.RLock()
        self.journal: deque[dict] = deque(maxlen=2000)
        self.injected: dict[str, dict] = {}  # /__mock__/faults: errors and delays asked for, by operation
        self.store = self.new_store()
        self.database = Database.in_memory()
        self.database.replace(self.store)

    def use_database(self, database: Database) -> None:
        """Keeps the state in ``database`` from now on (``--state-file``): its rows when it has any,
        else this instance's starting world written into it. StoreError when that write fails."""
        with self.lock:
            if database.has_data():
                store = database.load(self.blank_store())
            else:
                store = self.store
                database.replace(store)
            self.database.close(self.store)
            self.database, self.store = database, store
            self.on_close.append(lambda: self.database.close(self.store))

    def blank_store(self) -> Store:
        return Store(ids=self.behaviour.ids(), seed=self.behaviour.seed)

    def new_store(self, fixtures: Iterable[str] | None = None) -> Store:
        """The default world (D14) plus the seed files (``fixtures``, by default the instance's own):
        what the instance starts with and resets to."""
        store = self.blank_store()
        default_world(store, (scope for op in self.spec.operations.values() for scope in op.scopes))
        for path in self.fixtures if fixtures is None else fixtures:
            apply_fixtures(store, path)
        return store

    def close(self) -> None:
        """The server stops: the ``on_close`` hooks run (e.g. the state file's last write)."""
        with self.lock:
            hooks, self.on_close = self.on_close, []
            for hook in hooks:
                hook()

    def reset(self) -> None:
        with self.lock:
            store = self.new_store()
            self.database.replace(store)  # StoreError: the old state stays, in memory and on file
            self.store = store
            self.journal.clear()
            self.injected.clear()

    # --- one request ------------------------------------------------------------------------------

    def handle(self, request: CoreRequest) -> CoreResponse:
        # One request at a time: the store has no finer locks, and a mock needs no more.
        with self.lock:
            if is_control_path(request.path):
                try:
                    response = handle_control(
                        self.controlled(), request
                    )  # not journaled: the journal is of API calls
                    self.database.commit(self.store)
                except StoreError as failure:
                    response = CoreResponse(500, {"error": self.refused_write(request, failure)})
                response.headers.setdefault("Content-Type", "application/json")
            else:
                exchange, response = self.answer(request)
                try:
                    self.database.commit(self.store, exchange.tenant, exchange.token)
                except StoreError as failure:
                    self.refused_write(request, failure)
                    response = internal_error(exchange, self.behaviour.error_layout)
                self.note(request, response, exchange)
            for hook in self.after_request:
                hook(request, response)
            return response

    def refuses_before_body(self, request: CoreRequest) -> bool:
        """Whether the route or the token refuses ``request`` whatever its body (D6 checks them first):
        an adapter then answers without reading a large body (F4). Control calls are not judged here."""
        if is_control_path(request.path):
            return False
        named = dict(self.steps.named)
        exchange = Exchange(request, "", 0.0)
        with self.lock:
            pipeline = self.pipeline()
            try:
                for name in ("route", "authenticate"):
                    if name in named:
                        named[name](pipeline, exchange)
            except ApiError:
                return True
            except Exception:  # noqa: BLE001  (a changed step: let the full pipeline answer)
                return False
        return False

    def refused_write(self, request: CoreRequest, failure: StoreError) -> str:
        """A commit failed: the working set goes back to the last commit, and one line says why."""
        self.store = self.database.load(self.blank_store())
        reason = f"could not save the change ({failure}); nothing was changed"
        log.error("%s %s refused: %s", request.method, request.path, reason)
        return reason

    def controlled(self) -> Controlled:
        """What a control call may read and change, as it stands for this call."""
        return Controlled(
            store=self.store,
            spec=self.spec,
            behaviour=self.behaviour,
            settings=self.control,
            variants=self.variants,
            journal=self.journal,
            injected=self.injected,
            reset=self.reset,
            world_from=lambda paths: self.new_store(fixtures=paths),
        )

    def pipeline(self) -> Pipeline:
        """The seams the steps read, as they stand for this request (a reset replaces the store, a
        mutant the paging)."""
        return Pipeline(
            router=self.router,
            store=self.store,
            spec=self.spec,
            behaviour=self.behaviour,
            handlers=self.handlers,
            reference_rules=self.reference_rules,
            paging=self.paging,
            injected=self.injected,
        )

    def answer(self, request: CoreRequest) -> tuple[Exchange, CoreResponse]:
        exchange = Exchange(request, str(uuid.uuid4()), self.store.default_clock.now())
        pipeline = self.pipeline()
        try:
            for _, step in self.steps:
                step(pipeline, exchange)
                if exchange.reply is not None:  # answered early (Prefer: example=...): skip the rest
                    break
            response = envelopes.success(
                exchange.operation,
                exchange.answered,
                exchange.request_id,
                exchange.now,
                exchange.caller_tenant.id,
                self.behaviour,
            )
        except ApiError as error:
            message = self.behaviour.error_text(error.status, error.code, error.message)
            response = envelopes.error(
                exchange.envelope,
                error.status,
                error.code,
                message,
                error.details,
                exchange.request_id,
                exchange.now,
                self.behaviour.error_layout,
            )
            response.headers.update(error.headers)
        except Exception:  # noqa: BLE001  (a mock bug still answers in the contract's shape)
            log.exception(
                "unhandled error in %s %s (request %s)", request.method, request.path, exchange.request_id
            )
            response = internal_error(exchange, self.behaviour.error_layout)
        if exchange.counted:
            # Read after the handler: an OTP limiter's 429 gives its slot back (D6).
            token = exchange.caller_token
            response.headers["X-RateLimit-Limit"] = str(token.rate_limit_per_minute)
            response.headers["X-RateLimit-Remaining"] = str(
                max(0, token.rate_limit_per_minute - token.window.used())
            )
        if exchange.injected is not None:
            response.delay_seconds = exchange.injected.get("delay_ms", 0) / 1000
        response.headers.setdefault("Content-Type", "application/json")
        for hook in self.after_dispatch:
            hook(exchange, response)
        # An injected error is the caller's wish, documented or not: it is not a mock bug.
        if (
            self.response_validator is not None
            and exchange.op is not None
            and INJECTED_HEADER not in response.headers
        ):
            self.response_validator.check(exchange.op, response)
        return exchange, response

    def note(self, request: CoreRequest, response: CoreResponse, exchange: Exchange) -> None:
        """One journal entry (``GET /__mock__/requests``)."""
        op, tenant = exchange.op, exchange.tenant
        self.journal.append(
            {
                "method": request.method,
                "path": request.path[:JOURNAL_TEXT_LIMIT],
                "query": request.query_string[:JOURNAL_TEXT_LIMIT],
                "operation_id": op.operation_id if op else None,
                "tenant_id": tenant.id if tenant else None,
                "status": response.status,
                "request_id": response.headers.get("X-Request-Id"),
                "at": iso(exchange.now),
                # Headers and bodies, secrets masked: GET /__mock__/requests?bodies=true, the dashboard.
                "detail": journal.detail(
                    request.method,
                    request.headers,
                    request.body,
                    op,
                    response.status,
                    response.headers,
                    response.body,
                    sent=response.encoded(),  # encoded once: the adapters send these bytes
                ),
            }
        )
