"""The seams where a correct server may differ from the mock (D19, docs/decisions.md).

``Behaviour`` bundles every such choice as a typed hook or option. ``MockCore`` gets one at
construction and calls each hook at exactly one place; the default ``Behaviour()`` is the
mock's own behaviour. ``mockserver/variants/`` builds the others from variant names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.errors import ApiError
from mockserver.limits import SlidingWindow, Window
from mockserver.seed import SeedOptions
from mockserver.spec import merge_all_of
from mockserver.store import IdAllocator
from mockserver.validation import ObjectValidator, coerce_text

if TYPE_CHECKING:
    from mockserver.spec import Operation
    from mockserver.store import Tenant

# A body reader turns a parsed body into the one the validator sees (form coercion, PHP arrays, ...).
BodyReader = Callable[[dict, ObjectValidator], dict]
# A body check adds failures the compiled validator does not know (field -> messages).
BodyCheck = Callable[[dict, ObjectValidator], dict[str, list[str]]]
# A presenter reshapes one part of an answer: a list "item", the "data", or a flat Comments "body".
Presenter = Callable[["Operation", Any, str, int], Any]

UNKNOWN_QUERY_POLICIES = ("refuse", "bad-request", "ignore")


def coerce_form(body: dict, validator: ObjectValidator) -> dict:
    """Text fields of a form that spell the field's type become that type (integers, booleans, JSON parts)."""
    return {
        name: coerce_text(value, known.schema) if (known := validator.by_name(name)) else value
        for name, value in body.items()
    }


def refuse_foreign_body(op: Operation, media_type: str) -> dict:
    """A body in a content type the operation does not take: the mock answers 415 (D19 leaves 400/415/422 free)."""
    raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be one of: {', '.join(op.bodies)}")


def spec_default_sort(op: Operation) -> str:
    return op.ext("default-sort", "id")


def unchanged(op: Operation, value: Any, part: str, tenant_id: int) -> Any:
    return value


def same_error_text(status: int, code: str, message: str) -> str:
    return message


def same_success_text(op: Operation, message: str) -> str:
    return message


def record_id(tenant: Tenant, message: dict) -> int:
    """The send answer's ``chat_message_id`` is the id List Messages and Get Message show."""
    return message["id"]


def keep_emptied(op: Operation, tenant: Tenant, record: dict | None, emptied: list[str]) -> dict[str, Any]:
    """An empty optional field is a field not sent (D16): on update, no change. The hook returns the
    body fields to set in their place."""
    return {}


# An error layout builds an error body from (code, message, details, meta); D4's is the mock's own.
ErrorLayout = Callable[[str, str, "dict | None", dict], dict]


def d4_error_body(code: str, message: str, details: dict | None, meta: dict) -> dict:
    """D4: ``error {code, message, details?}`` beside ``success``, ``message`` and ``meta``."""
    entry: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        entry["details"] = details
    return {"success": False, "message": message, "error": entry, "meta": meta}


@dataclass(frozen=True)
class Behaviour:
    """Every free choice of the mock, with the mock's own answer as the default."""

    form_readers: tuple[BodyReader, ...] = (coerce_form,)
    body_readers: tuple[BodyReader, ...] = ()
    body_checks: tuple[BodyCheck, ...] = ()
    foreign_body: Callable[[Operation, str], dict] = refuse_foreign_body
    unknown_query: str = "refuse"  # an unknown filter, operator or include: 422, 400, or ignored
    all_operators: bool = False
    default_sort: Callable[[Operation], str] = spec_default_sort
    present: Presenter = unchanged
    error_text: Callable[[int, str, str], str] = same_error_text
    success_text: Callable[[Operation, str], str] = same_success_text
    chat_message_id: Callable[[Tenant, dict], int] = record_id
    emptied: Callable[[Operation, Tenant, dict | None, list[str]], dict[str, Any]] = keep_emptied
    batch_format_refuses: bool = False  # a batch item breaking a format rule refuses the request (D18)
    error_layout: ErrorLayout = d4_error_body  # the body of every error outside Comments
    omit_optional_message: bool = False  # no `message` where the answer's schema does not require one (D12)
    phone_as_sent: bool = False  # the Contact resource's `phone` as sent instead of cleaned (D9)
    otp_window: Callable[[], Window] = SlidingWindow  # the OTP limiters' window shape (D10)
    handlers: Mapping[str, Callable] = field(default_factory=dict)  # per-instance handler table entries
    spec_edits: tuple[Callable[[dict], None], ...] = ()  # applied to a copy of openapi.yaml before compiling
    ids: Callable[[], IdAllocator] = IdAllocator
    seed: SeedOptions = field(default_factory=SeedOptions)

    def __post_init__(self) -> None:
        if self.unknown_query not in UNKNOWN_QUERY_POLICIES:
            raise ValueError(f"unknown_query must be one of {UNKNOWN_QUERY_POLICIES}")


# --- response schemas, as the presenters walk them ------------------------------------------------


def success_schema(op: Operation) -> dict:
    statuses = sorted(s for s in op.response_schemas if 200 <= s < 300)
    return merge_all_of(op.response_schemas[statuses[0]]) if statuses else {}


def data_schema(op: Operation) -> dict:
    """The schema of an answer's ``data`` (of the whole body for flat Comments answers without one)."""
    body = success_schema(op)
    return merge_all_of(body.get("properties", {}).get("data", {}))


def item_schema(op: Operation) -> dict:
    items = data_schema(op).get("items")
    return merge_all_of(items) if isinstance(items, dict) else {}
