"""The variants and profiles: names, descriptions, the freedom each answers, the levels it is
correct at; ``resolve`` turns names into one consistent ``VariantSet``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

LEVELS = ("all", "documented")  # the suite's --contract-level values


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    freedom: str  # variants answering the same freedom exclude each other
    decision: str  # the decision that leaves this free
    # The suite's levels at which the variant is correct: a variant that breaks a decided rule (D4's layout,
    # D10's boundary) still meets the docs, so only level documented must pass it.
    levels: tuple[str, ...] = LEVELS


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class VariantSet:
    """A resolved, consistent set of variant names (what ``MockCore(variants=...)`` takes)."""

    names: frozenset[str] = frozenset()

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.names))

    def __len__(self) -> int:
        return len(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        Variant(
            "form-coercion",
            "forms are read as PHP does: contact[firstname] fields build objects, "
            "integers may carry a sign or spaces",
            "form-reading",
            "D5: types are strict for JSON bodies only",
        ),
        Variant(
            "objects-as-arrays",
            'a JSON object is taken where an array is expected ({"0": 5, "1": 6} is '
            "[5, 6]) and an array where an object is",
            "array-objects",
            "D19: PHP cannot tell {} from []",
        ),
        Variant(
            "documented-fields-only",
            "resources and send answers carry only the fields the docs list",
            "response-fields",
            "D19: resource fields the docs do not list are free",
        ),
        Variant(
            "extra-fields",
            "every resource also carries undocumented fields (uuid, tenant_id, deleted_at)",
            "response-fields",
            "D19: extra fields beyond the listed ones are free",
        ),
        Variant(
            "large-ids",
            "record ids start near 10**12 (still JSON-safe)",
            "id-start",
            "D8, D19: ids are any positive integers",
        ),
        Variant("sparse-ids", "record ids leave random gaps", "id-gaps", "D8, D19: ids may have gaps"),
        Variant(
            "per-tenant-ids",
            "every tenant's ids start at 1, so two tenants hold records with the same ids",
            "id-scope",
            "D8, D19: ids may be shared across tenants",
        ),
        Variant(
            "rich-seed",
            "new tenants also start with other sources, statuses, groups, contacts and templates "
            "(a second AUTHENTICATION template listed first, other languages)",
            "seed-extra",
            "D14, D19: beyond D14's minimum the starting records are free",
        ),
        Variant(
            "other-seed-names",
            "the default source and status and the non-fixed templates have other names",
            "seed-names",
            "D14, D19: only otp_verification is named",
        ),
        Variant(
            "unknown-query-400",
            "an unknown filter, filter operator or include is refused with 400 "
            "INVALID_QUERY (as Spatie's query builder does)",
            "unknown-query",
            "D19: refused (400 or 422) or ignored",
        ),
        Variant(
            "unknown-query-ignored",
            "an unknown filter, filter operator or include is ignored",
            "unknown-query",
            "D19: refused (400 or 422) or ignored",
        ),
        Variant(
            "all-operators",
            "every filter field takes every operator the docs list for filter[field][operator]",
            "filter-operators",
            "D19: operators beyond the documented ones are free",
        ),
        Variant(
            "content-type-422",
            "a body in a content type the operation does not take is read as an empty "
            "form (422 with the required messages, as Laravel does)",
            "content-type",
            "D19: 400, 415 or 422",
        ),
        Variant(
            "content-type-400",
            "a body in a content type the operation does not take is a 400 INVALID_JSON",
            "content-type",
            "D19: 400, 415 or 422",
        ),
        Variant(
            "no-batch-cap",
            "batch create and batch delete take any number of items",
            "batch-cap",
            "D18: the contract has no maximum batch size",
        ),
        Variant(
            "batch-keep-before",
            "with continue_on_error false the items before the first failing one stay "
            "created (the answer is still the 422)",
            "batch-stop",
            "D18: keeping them or not is free",
        ),
        Variant(
            "batch-item-format-422",
            "a batch item breaking a format rule refuses the whole request with a 422 keyed contacts.N.field",
            "batch-item-format",
            "D18: data.errors or a 422 are both correct",
        ),
        Variant(
            "conditional-fields-refused",
            "fields of another interactive type (list fields on a button "
            "message and the reverse) are refused with 422",
            "conditional-fields",
            "D19: ignored or refused",
        ),
        Variant(
            "conditional-fields-unchecked",
            "fields of another interactive type are dropped unread, even when malformed",
            "conditional-fields",
            "D19: ignored or refused",
        ),
        Variant(
            "other-error-messages",
            "every error message and every success message the docs do not give is other free text",
            "wording",
            "D15, D17: that wording is free",
        ),
        Variant(
            "message-ids-differ",
            "a send answer's chat_message_id is not the record id List Messages and Get Message use",
            "message-ids",
            "D19: whether a send's answer carries that id is not fixed",
        ),
        Variant(
            "other-default-order",
            "lists whose default order is undocumented come newest first",
            "default-order",
            "D19: the default order of a list is free",
        ),
        Variant(
            "no-mock-limits",
            "rules openapi.yaml marks as the mock's choice are not enforced",
            "mock-limits",
            "D19: limits the docs do not state are free",
        ),
        Variant(
            "empty-optional-clears",
            "an empty optional field on update clears the stored value instead of keeping it",
            "empty-update",
            "D16: what an empty optional field means is free",
        ),
        Variant(
            "other-error-layout",
            'every error outside Comments is {"success": false, "message", "error_code", "errors"}: '
            "the code at the top, details (field messages and the rest) under errors, no meta",
            "error-layout",
            "D4: the docs show no error body, so only level all asserts D4's layout",
            levels=("documented",),
        ),
        Variant(
            "max-attempts-on-fifth",
            "the 5th wrong OTP code already answers MAX_ATTEMPTS_EXCEEDED (not INVALID_CODE with 0 left)",
            "attempt-boundary",
            'D10: the boundary is decided; the docs say only "too many failed attempts (default: 5)"',
            levels=("documented",),
        ),
        Variant(
            "fixed-window-otp-limits",
            "the OTP limiters count in fixed windows opened by their first counted call (Laravel's RateLimiter)",
            "otp-window",
            "D10: the window shape of the OTP limiters is free",
        ),
        Variant(
            "trimmed-strings",
            "leading and trailing whitespace of every string input is trimmed before validation "
            "(Laravel's TrimStrings middleware)",
            "trimming",
            "D16: trimming string inputs or keeping them is free",
        ),
        Variant(
            "phone-as-sent",
            "the Contact resource's phone is the number as sent, not cleaned to digits",
            "contact-phone",
            "D9: the Contact resource's phone is as stored, sent or cleaned",
        ),
        Variant(
            "no-comments-message",
            "Get Comments answers only success and data, without a message",
            "comments-message",
            "D12: Get Comments documents only success and data",
        ),
        Variant(
            "null-for-no-value",
            "a listed response field with no value for the record (a template without a header text) "
            "is null instead of an empty string",
            "no-value",
            "D19: null for a listed field without a value",
        ),
        Variant(
            "multipart-parts-as-text",
            "a nested object in a multipart body (Send Media's contact part) is taken as text and ignored, "
            "not decoded and validated",
            "multipart-objects",
            "D19: a multipart part may be decoded or taken as text",
        ),
    ]
}

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        Profile(
            "laravel",
            "as a default Laravel app with Spatie's query builder would answer",
            (
                "form-coercion",
                "objects-as-arrays",
                "unknown-query-400",
                "content-type-422",
                "other-error-messages",
                "extra-fields",
                "batch-item-format-422",
                "empty-optional-clears",
                "no-batch-cap",
                "trimmed-strings",
                "fixed-window-otp-limits",
                "null-for-no-value",
            ),
        ),
        Profile(
            "minimal",
            "documented fields only, other ids, other seed data, lenient queries",
            (
                "documented-fields-only",
                "large-ids",
                "sparse-ids",
                "other-seed-names",
                "unknown-query-ignored",
                "conditional-fields-refused",
                "message-ids-differ",
                "no-mock-limits",
                "other-default-order",
                "no-comments-message",
                "phone-as-sent",
            ),
        ),
        Profile(
            "express",
            "as a hand-written Express app with per-tenant tables might answer",
            (
                "per-tenant-ids",
                "rich-seed",
                "content-type-400",
                "batch-keep-before",
                "all-operators",
                "other-error-messages",
                "message-ids-differ",
                "other-default-order",
                "multipart-parts-as-text",
            ),
        ),
        Profile(
            "docs-letter",
            "follows the docs to the letter but none of the decided layouts: another error layout, "
            "MAX_ATTEMPTS_EXCEEDED on the 5th wrong code (correct at level documented only)",
            ("other-error-layout", "max-attempts-on-fifth", "fixed-window-otp-limits", "trimmed-strings"),
        ),
    ]
}


def levels_of(names: Iterable[str]) -> tuple[str, ...]:
    """The levels at which every named variant (or every variant of a named profile) is correct."""
    chosen = resolve(names)
    return tuple(level for level in LEVELS if all(level in VARIANTS[name].levels for name in chosen))


def resolve(names: Iterable[str]) -> VariantSet:
    """Variant and profile names -> one consistent ``VariantSet``; ValueError for unknown or contradictory names."""
    chosen: set[str] = set()
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in PROFILES:
            chosen.update(PROFILES[name].variants)
        elif name in VARIANTS:
            chosen.add(name)
        else:
            raise ValueError(
                f"unknown variant {name!r}; variants: {', '.join(sorted(VARIANTS))}; profiles: {', '.join(sorted(PROFILES))}"
            )
    by_freedom: dict[str, list[str]] = {}
    for name in sorted(chosen):
        by_freedom.setdefault(VARIANTS[name].freedom, []).append(name)
    clashes = [names_ for names_ in by_freedom.values() if len(names_) > 1]
    if clashes:
        raise ValueError(
            "contradictory variants (two answers to one freedom): "
            + "; ".join(" vs ".join(c) for c in clashes)
        )
    return VariantSet(frozenset(chosen))


def listing() -> list[str]:
    """The lines ``wacr-mock --list-variants`` prints."""
    lines = ["variants:"]
    lines += [f"  {v.name:28} {v.description} [{v.decision}]" for v in VARIANTS.values()]
    lines.append("profiles:")
    lines += [f"  {p.name:28} {p.description}: {', '.join(p.variants)}" for p in PROFILES.values()]
    return lines
