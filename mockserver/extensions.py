"""The spec's operation-level ``x-`` blocks, compiled into typed values when the spec loads.

A typo in one of them (an unknown key, a missing one, a wrong type, an unknown extension)
stops the mock at start-up with the operation's name, as a rule without a message does,
instead of surfacing as a ``KeyError`` in the middle of a request.
``docs/spec-conventions.md`` describes each block.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from mockserver.validation import SpecError

ENVELOPES = ("standard", "flat")  # D2/D3/D4, and the flat Comments answers of D12
NORMALISERS = ("phone",)  # D9: a phone is compared by its digits

# Extensions read where they are needed (listing, the suite, the census), kept as raw values.
RAW_EXTENSIONS = frozenset(
    {
        "x-alternate-success-messages",
        "x-alternate-success-messages-provenance",
        "x-behaviour-provenance",
        "x-collection",
        "x-default-sort",
        "x-envelope-provenance",
        "x-filters",
        "x-includes",
        "x-list-provenance",
        "x-media-messages",
        "x-media-messages-provenance",
        "x-media-rules-provenance",
        "x-merge-fields",
        "x-merge-fields-provenance",
        "x-partial-items",
        "x-partial-items-provenance",
        "x-provenance",
        "x-scope-provenance",
        "x-search-fields",
        "x-sort-fields",
        "x-success-message",
        "x-success-message-provenance",
        "x-template-parameter-messages",
        "x-template-parameter-messages-provenance",
    }
)


@dataclass(frozen=True)
class RateLimit:
    """``x-rate-limit``: at most ``calls`` in a sliding window of ``per_seconds``, counted per ``key``."""

    calls: int
    per_seconds: int
    key: str  # a format string over tenant_id and phone


@dataclass(frozen=True)
class OtpRules:
    """``x-otp``: how many wrong codes an OTP survives, and the length of generated codes (D10)."""

    max_attempts: int = 5
    generated_code_length: int = 6


@dataclass(frozen=True)
class Reference:
    collection: str
    field: str


@dataclass(frozen=True)
class InUse:
    """``x-in-use``: a delete refused while records of another collection still point here (D13)."""

    referenced_by: Reference
    details_field: str
    message: str  # with {count}


@dataclass(frozen=True)
class MediaRule:
    extensions: tuple[str, ...]
    max_bytes: int


@dataclass(frozen=True)
class FileLimit:
    max_bytes: int


@dataclass(frozen=True)
class PathRecord:
    """``x-path-record``: which record a path parameter names; a missing one is the operation's 404.

    Without the block, ``{id}`` names the record of the operation's ``x-collection`` by id.
    """

    param: str = "id"
    collection: str = ""
    field: str = "id"
    normalise: str = ""  # one of NORMALISERS, or "" to compare the value as sent
    not_found: str = ""  # the 404 message, where the operation's responses give none
    listed_by: str = ""  # the operation listing every record of the collection, where more than one lists it


@dataclass(frozen=True)
class Extensions:
    envelope: str = "standard"
    sends_message: bool = False  # x-sends-message: a call sends a WhatsApp message
    path_record: PathRecord | None = None
    rate_limit: RateLimit | None = None
    otp: OtpRules = OtpRules()
    in_use: InUse | None = None
    media_rules: dict[str, MediaRule] = dataclasses.field(default_factory=dict)
    file_limits: dict[str, FileLimit] = dataclasses.field(default_factory=dict)


def _typed(kind: Any, value: Any, where: str) -> Any:
    """``value`` as ``kind`` (a block dataclass, int, str, tuple[str, ...]), or SpecError."""
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return block(kind, value, where)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{where}: expected an integer, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise SpecError(f"{where}: expected a string, got {value!r}")
        return value
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise SpecError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    raise SpecError(f"{where}: no reader for {kind!r}")  # a new field type needs one here


def block(kind: type, raw: Any, where: str) -> Any:
    """One ``x-`` block as the dataclass ``kind``: every key known, every required key given.

    ``provenance`` is allowed in every block: it is the tier of the rule (docs/spec-conventions.md).
    """
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = set(raw) - set(fields) - {"provenance"}
    if unknown:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(fields)}")
    missing = [
        name
        for name, f in fields.items()
        if name not in raw and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise SpecError(f"{where}: missing keys {missing}")
    return kind(
        **{
            name: _typed(hints[name], value, f"{where}.{name}")
            for name, value in raw.items()
            if name in fields
        }
    )


def _mapping_of(kind: type, raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a mapping, got {raw!r}")
    return {name: block(kind, value, f"{where}.{name}") for name, value in raw.items()}


def _path_record(raw: dict, path: str, where: str) -> PathRecord | None:
    params = [segment[1:-1] for segment in path.strip("/").split("/") if segment.startswith("{")]
    if not params:
        if "x-path-record" in raw:
            raise SpecError(f"{where}: x-path-record on a path without parameters")
        return None
    record = block(PathRecord, raw.get("x-path-record", {}), f"{where} x-path-record")
    if not record.collection:
        if not raw.get("x-collection"):
            raise SpecError(f"{where}: a path parameter needs x-collection or x-path-record.collection")
        record = dataclasses.replace(record, collection=raw["x-collection"])
    if record.param not in params:
        raise SpecError(f"{where}: x-path-record.param {record.param!r} is not a parameter of {path}")
    if record.normalise and record.normalise not in NORMALISERS:
        raise SpecError(f"{where}: x-path-record.normalise must be one of {NORMALISERS}")
    return record


def compile_extensions(raw: dict, path: str, where: str) -> Extensions:
    """The operation's typed blocks; an ``x-`` key this module does not know is refused."""
    known = RAW_EXTENSIONS | {
        "x-envelope",
        "x-sends-message",
        "x-path-record",
        "x-rate-limit",
        "x-otp",
        "x-in-use",
        "x-media-rules",
        "x-file-limits",
    }
    unknown = sorted(key for key in raw if key.startswith("x-") and key not in known)
    if unknown:
        raise SpecError(
            f"{where}: unknown extensions {unknown} (docs/spec-conventions.md lists the known ones)"
        )
    envelope = raw.get("x-envelope", "standard")
    if envelope not in ENVELOPES:
        raise SpecError(f"{where}: x-envelope must be one of {ENVELOPES}, got {envelope!r}")
    sends_message = raw.get("x-sends-message", False)
    if not isinstance(sends_message, bool):
        raise SpecError(f"{where}: x-sends-message must be true or false, got {sends_message!r}")
    for key in (k for k in raw if k.endswith("-provenance") and isinstance(raw[k], dict)):
        if not all(isinstance(v, str) for v in raw[key].values()):
            raise SpecError(f"{where}: every value of {key} must be a tier string")
    return Extensions(
        envelope=envelope,
        sends_message=sends_message,
        path_record=_path_record(raw, path, where),
        rate_limit=block(RateLimit, raw["x-rate-limit"], f"{where} x-rate-limit")
        if "x-rate-limit" in raw
        else None,
        otp=block(OtpRules, raw.get("x-otp", {}), f"{where} x-otp"),
        in_use=block(InUse, raw["x-in-use"], f"{where} x-in-use") if "x-in-use" in raw else None,
        media_rules=_mapping_of(MediaRule, raw.get("x-media-rules", {}), f"{where} x-media-rules"),
        file_limits=_mapping_of(FileLimit, raw.get("x-file-limits", {}), f"{where} x-file-limits"),
    )


@dataclass(frozen=True)
class RootMessages:
    """The spec root's messages for rules that belong to no one field's schema."""

    phone_digits: str  # x-send-messages: a phone without digits (D9)
    list_messages: dict[str, str]  # x-list-messages: unknown filter, operator, value (D19)
    operator_aliases: dict[str, str]  # x-filter-operator-aliases: `>=` for gte and so on (List Contacts)


def compile_root_messages(document: dict) -> RootMessages:
    send = document.get("x-send-messages") or {}
    listed = {k: v for k, v in (document.get("x-list-messages") or {}).items() if k != "provenance"}
    missing = [key for key in ("unknown_filter", "bad_operator", "bad_value") if key not in listed]
    if "phone_digits" not in send or missing:
        raise SpecError(f"the spec root needs x-send-messages.phone_digits and x-list-messages {missing}")
    aliases = {
        k: v for k, v in (document.get("x-filter-operator-aliases") or {}).items() if k != "provenance"
    }
    if not all(isinstance(v, str) for v in aliases.values()):
        raise SpecError(f"x-filter-operator-aliases must map each alias to an operator name, got {aliases!r}")
    return RootMessages(send["phone_digits"], listed, aliases)
