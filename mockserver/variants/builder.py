"""Each variant's seam (``APPLY``), and the ``Behaviour`` and spec a set of variants gives."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.behaviour import (
    Behaviour,
    Presenter,
    coerce_form,
)
from mockserver.handlers.auth import verify_otp
from mockserver.handlers.contacts import batch_create_contacts
from mockserver.limits import FixedWindow
from mockserver.seed import SeedOptions
from mockserver.spec import Operation, Spec
from mockserver.store import IdAllocator
from mockserver.variants.answers import (
    documented_only,
    documented_schemas,
    laravel_error_body,
    nulls_for_no_value,
    other_error_text,
    other_success_text,
    with_extra_fields,
)
from mockserver.variants.bodies import (
    assemble_brackets,
    coerce_form_leniently,
    drop_inapplicable,
    foreign_body_is_bad_request,
    leave_object_parts_as_text,
    php_arrays,
    read_foreign_as_empty_form,
    refuse_inapplicable,
    trim_strings,
)
from mockserver.variants.catalogue import VARIANTS, VariantSet
from mockserver.variants.records import (
    clear_emptied,
    newest_first_unless_documented,
    separate_chat_message_id,
)
from mockserver.variants.spec_edits import drop_batch_caps, drop_mock_rules

# --- the variants' hooks -------------------------------------------------------------------------------


def _batch_keep_before() -> dict[str, Callable]:
    return {"batchCreateContacts": functools.partial(batch_create_contacts, keep_before=True)}


def _max_attempts_on_fifth() -> dict[str, Callable]:
    return {"verifyOtp": functools.partial(verify_otp, refuse_at_max=True)}


@dataclass
class _Builder:
    """Collects the variants' choices; ``freeze`` gives the ``Behaviour``."""

    options: dict[str, Any] = field(default_factory=dict)
    form_readers: list = field(default_factory=lambda: [coerce_form])
    body_readers: list = field(default_factory=list)
    presenters: list = field(default_factory=list)  # applied in turn: variants of several freedoms compose
    body_checks: list = field(default_factory=list)
    handlers: dict[str, Callable] = field(default_factory=dict)
    spec_edits: list = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)
    seed: dict[str, bool] = field(default_factory=dict)

    def freeze(self) -> Behaviour:
        allocator = functools.partial(IdAllocator, **self.ids) if self.ids else IdAllocator
        options = dict(self.options)
        if self.presenters:
            options["present"] = chain(self.presenters)
        return replace(
            Behaviour(),
            form_readers=tuple(self.form_readers),
            body_readers=tuple(self.body_readers),
            body_checks=tuple(self.body_checks),
            handlers=dict(self.handlers),
            spec_edits=tuple(self.spec_edits),
            ids=allocator,
            seed=SeedOptions(**self.seed),
            **options,
        )


def chain(presenters: list[Presenter]) -> Presenter:
    def present(op: Operation, value: Any, part: str, tenant_id: int) -> Any:
        for presenter in presenters:
            value = presenter(op, value, part, tenant_id)
        return value

    return present


def _option(key: str, value: Any) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.options.__setitem__(key, value)


def _id_scheme(key: str, value: Any) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.ids.__setitem__(key, value)


def _seed(key: str) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.seed.__setitem__(key, True)


def _form_coercion(b: _Builder, spec: Spec) -> None:
    b.form_readers = [assemble_brackets, coerce_form_leniently]


def _trimmed_strings(b: _Builder, spec: Spec) -> None:
    """Before every other reader (forms and JSON alike), as the middleware runs before the app reads."""
    b.form_readers.insert(0, trim_strings)
    b.body_readers.insert(0, trim_strings)


def _presenter(make: Callable[[Spec], Presenter]) -> Callable[[_Builder, Spec], None]:
    return lambda b, spec: b.presenters.append(make(spec))


def _other_wording(b: _Builder, spec: Spec) -> None:
    b.options.update(error_text=other_error_text, success_text=other_success_text)


# How each variant sets its seam; a registered variant without an entry fails at import (below).
APPLY: dict[str, Callable[[_Builder, Spec], None]] = {
    "form-coercion": _form_coercion,
    "objects-as-arrays": lambda b, spec: b.body_readers.insert(0, php_arrays),
    "documented-fields-only": _presenter(lambda spec: documented_only(documented_schemas(spec))),
    "extra-fields": _presenter(lambda spec: with_extra_fields),
    "large-ids": _id_scheme("start", 10**12),
    "sparse-ids": _id_scheme("max_gap", 97),
    "per-tenant-ids": _id_scheme("per_tenant", True),
    "rich-seed": _seed("rich"),
    "other-seed-names": _seed("other_names"),
    "unknown-query-400": _option("unknown_query", "bad-request"),
    "unknown-query-ignored": _option("unknown_query", "ignore"),
    "all-operators": _option("all_operators", True),
    "content-type-422": _option("foreign_body", read_foreign_as_empty_form),
    "content-type-400": _option("foreign_body", foreign_body_is_bad_request),
    "no-batch-cap": lambda b, spec: b.spec_edits.append(drop_batch_caps),
    "batch-keep-before": lambda b, spec: b.handlers.update(_batch_keep_before()),
    "batch-item-format-422": _option("batch_format_refuses", True),
    "conditional-fields-refused": lambda b, spec: b.body_checks.append(refuse_inapplicable),
    "conditional-fields-unchecked": lambda b, spec: b.body_readers.append(drop_inapplicable),
    "other-error-messages": _other_wording,
    "message-ids-differ": _option("chat_message_id", separate_chat_message_id),
    "other-default-order": _option("default_sort", newest_first_unless_documented),
    "no-mock-limits": lambda b, spec: b.spec_edits.append(drop_mock_rules),
    "empty-optional-clears": _option("emptied", clear_emptied),
    "other-error-layout": _option("error_layout", laravel_error_body),
    "max-attempts-on-fifth": lambda b, spec: b.handlers.update(_max_attempts_on_fifth()),
    "fixed-window-otp-limits": _option("otp_window", FixedWindow),
    "trimmed-strings": _trimmed_strings,
    "phone-as-sent": _option("phone_as_sent", True),
    "no-comments-message": _option("omit_optional_message", True),
    "null-for-no-value": _presenter(nulls_for_no_value),
    "multipart-parts-as-text": lambda b, spec: b.form_readers.insert(0, leave_object_parts_as_text),
}
if set(APPLY) != set(VARIANTS):
    raise RuntimeError(
        f"variants without a seam or seams without a variant: {sorted(set(APPLY) ^ set(VARIANTS))}"
    )


def behaviour_for(variants: VariantSet, spec: Spec) -> Behaviour:
    """The hooks of ``variants`` (the default ``Behaviour()`` when there are none)."""
    builder = _Builder()
    for name in variants:
        APPLY[name](builder, spec)
    return builder.freeze()


def edited_spec(spec: Spec, behaviour: Behaviour) -> Spec:
    """The spec the validators are compiled from: ``spec`` itself unless a variant edits its rules."""
    if not behaviour.spec_edits:
        return spec
    document = copy.deepcopy(spec.document)
    for edit in behaviour.spec_edits:
        edit(document)
    return Spec(document)
