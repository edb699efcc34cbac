"""What the journal keeps of one exchange beyond its summary: the request and the response
(headers and bodies, secrets masked) and, for a refused request, the rule that refused it.

Shown by ``GET /__mock__/requests?bodies=true`` and the dashboard (``/__mock__/``). Secrets
never enter the journal: the token of ``Authorization``, cookies, admin secrets, and in request
bodies every OTP ``code`` and anything named like a token, secret or password. Response bodies
of the API carry no secret, so they are kept as answered; each body is encoded only as far as
the journal keeps it, so a long answer costs no more than a short one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mockserver.spec import Operation

TEXT_LIMIT = 4096  # characters of a body kept per entry: 2000 entries stay a few MB
PARSE_LIMIT = 256 * 1024  # a larger request body is kept as cut text, unparsed (and unmasked past the cut)
MASK = "••••"
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-mock-admin-secret", "proxy-authorization"}
)
SECRET_KEY = re.compile(r"token|secret|password|api[_-]?key", re.I)
OTP_KEYS = frozenset({"code", "otp", "otp_code"})
DOCS_SITE = "https://docs.app.wa.cr/"
# The published page of each documented operation (from the docs harvest), by its title's slug.
DOCS_PAGES = {
    "add-comment": "add-comment-28559825e0",
    "add-contacts-to-group": "add-contacts-to-group-28559806e0",
    "batch-create-contacts": "batch-create-contacts-28559788e0",
    "batch-delete-contacts": "batch-delete-contacts-28559789e0",
    "check-otp-status": "check-otp-status-28559800e0",
    "create-contact": "create-contact-28559784e0",
    "create-group": "create-group-28559802e0",
    "create-source": "create-source-28559812e0",
    "create-status": "create-status-28559817e0",
    "get-account-info": "get-account-info-28559821e0",
    "get-comments": "get-comments-28559824e0",
    "get-contact": "get-contact-28559785e0",
    "get-message": "get-message-28559795e0",
    "get-plan-limits": "get-plan-limits-28559823e0",
    "get-template": "get-template-28559810e0",
    "get-usage-statistics": "get-usage-statistics-28559822e0",
    "list-authentication-templates": "list-authentication-templates-28559797e0",
    "list-contacts": "list-contacts-28559783e0",
    "list-groups": "list-groups-28559801e0",
    "list-messages": "list-messages-28559794e0",
    "list-templates": "list-templates-28559808e0",
    "remove-contacts-from-group": "remove-contacts-from-group-28559807e0",
    "resend-otp": "resend-otp-28559799e0",
    "send-interactive-message": "send-interactive-message-28559793e0",
    "send-media-message": "send-media-message-28559792e0",
    "send-otpverification-code": "send-otpverification-code-28559796e0",
    "send-template-message": "send-template-message-28559791e0",
    "send-text-message": "send-text-message-28559790e0",
    "sync-templates-from-whatsapp": "sync-templates-from-whatsapp-28559809e0",
    "update-contact": "update-contact-28559786e0",
    "update-group": "update-group-28559804e0",
    "update-source": "update-source-28559814e0",
    "update-status": "update-status-28559819e0",
    "verify-otp": "verify-otp-28559798e0",
}
DECISION = re.compile(r"\bD(\d{1,2})\b")
DECISIONS_PAGE = "docs/decisions.md"


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header names lower-case; a secret's value is masked (the scheme of ``Authorization`` stays)."""
    shown = {}
    for name, value in headers.items():
        name = name.lower()
        if name in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {MASK}".strip()
        shown[name] = value
    return shown


def masked_value(value: Any, otp: bool) -> Any:
    if isinstance(value, dict):
        return {
            key: MASK
            if SECRET_KEY.search(key) or (otp and key.lower() in OTP_KEYS)
            else masked_value(item, otp)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [masked_value(item, otp) for item in value]
    return value


def limited_json(value: Any) -> str:
    """``value`` as indented JSON, encoded only as far as the journal keeps (a long list costs no more)."""
    chunks, size = [], 0
    for chunk in json.JSONEncoder(ensure_ascii=False, indent=1).iterencode(value):
        chunks.append(chunk)
        size += len(chunk)
        if size > TEXT_LIMIT:
            return "".join(chunks)[:TEXT_LIMIT] + "…"
    return "".join(chunks)


def body_text(raw: bytes | Any, otp: bool = False) -> str:
    """A body as text for the journal: JSON with its secrets masked, else the text itself, cut at the limit.

    A request body (bytes) is read only up to ``PARSE_LIMIT``; a larger one is kept as cut text."""
    if isinstance(raw, (bytes, bytearray)):
        if not raw:
            return ""
        try:
            if len(raw) > PARSE_LIMIT:
                raise ValueError("too large to read for the journal")
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            text = bytes(raw[:TEXT_LIMIT]).decode("utf-8", "replace")
            return text + ("…" if len(raw) > TEXT_LIMIT else "")
        value = masked_value(value, otp)
    else:
        value = raw
    return "" if value is None else limited_json(value)


def docs_page(provenance: str) -> str | None:
    """The page a provenance names: a published docs page, or the decisions file."""
    found = re.match(r"\s*documented\s*\(([^);,]*)", provenance or "")
    if found:
        slug = re.sub(r"[^a-z0-9]+", "-", found.group(1).lower().replace("/", "")).strip("-")
        page = DOCS_PAGES.get(slug)
        return DOCS_SITE + page if page else DOCS_SITE
    decision = DECISION.search(provenance or "")
    if decision:
        return f"{DECISIONS_PAGE}#d{decision.group(1)}"
    return DECISIONS_PAGE if provenance else None


def field_rules(op: Operation, details: dict[str, list[str]]) -> list[dict]:
    """For each failing field of a 422, the rule its message belongs to and that rule's provenance."""
    fields = {**{f.name: f for f in op.query.fields}, **op.body_fields}
    rules = []
    for path, messages in details.items():
        field = fields.get(path.split(".")[0])
        for message in messages if isinstance(messages, list) else [messages]:
            rule = next((r for r, m in (field.messages if field else {}).items() if m == message), None)
            named = (field.schema.get("x-rule-provenance") or {}) if field else {}
            provenance = named.get(rule) or op.raw.get("x-provenance") or "documented"
            rules.append(
                {
                    "field": path,
                    "rule": rule,
                    "message": message,
                    "provenance": provenance,
                    "docs": docs_page(provenance),
                }
            )
    return rules


def refusal(op: Operation | None, status: int, body: Any) -> dict | None:
    """Why an error answer was given: its code, the spec's rule (``when``), provenance and docs page."""
    if status < 400 or not isinstance(body, dict):
        return None
    error = found if isinstance(found := body.get("error"), dict) else {}
    code = error.get("code")
    details = error.get("details") if code == "VALIDATION_ERROR" else body.get("errors")
    entry: dict[str, Any] = {}
    if op is not None:
        listed = op.raw.get("responses", {}).get(str(status), {}).get("x-error-codes", ())
        entry = next((e for e in listed if e.get("code") == code), listed[0] if listed else {})
    provenance = entry.get("provenance") or (op.raw.get("x-provenance") if op is not None else None) or ""
    explained: dict[str, Any] = {
        "status": status,
        "code": code,
        "message": body.get("message"),
        "rule": entry.get("when") or ("no operation has this path and method" if op is None else None),
        "provenance": provenance or ("D5" if op is None else None),
        "docs": docs_page(provenance) if provenance else (f"{DECISIONS_PAGE}#d5" if op is None else None),
    }
    if op is not None and isinstance(details, dict):
        explained["fields"] = field_rules(op, details)
    return explained


# Bodies up to this size are kept as they came and rendered only when the journal is read with bodies
# (most entries never are); a larger one is rendered at once, so an entry never holds more than this.
LAZY_LIMIT = 16 * 1024


@dataclass(frozen=True)
class Detail:
    """The journal's full view of one exchange; its bodies are rendered when
    ``GET /__mock__/requests?bodies=true`` asks (``rendered()``)."""

    request_headers: dict[str, str]
    request_body: bytes | str  # as it came, or its text when large
    response_headers: dict[str, str]
    response_body: Any  # the value answered, its JSON as sent (``Encoded``), or its text when large
    refusal: dict | None
    otp: bool

    def rendered(self) -> dict:
        return {
            "request": {
                "headers": masked_headers(self.request_headers),
                "body": kept_text(self.request_body, self.otp),
            },
            "response": {
                "headers": masked_headers(self.response_headers),
                "body": kept_text(self.response_body),
            },
            "refusal": self.refusal,
        }


class Encoded(bytes):
    """A response body as sent (JSON bytes): shown as the value it encodes, unmasked, as answers are."""


def kept(raw: Any, otp: bool = False) -> Any:
    """What an entry keeps of a body: the body itself when small, else its text at once."""
    if isinstance(raw, (bytes, bytearray)) and len(raw) > LAZY_LIMIT:
        return kept_text(raw, otp)
    return raw


def kept_text(kept_body: Any, otp: bool = False) -> str:
    if isinstance(kept_body, str):
        return kept_body  # rendered when it was kept
    if isinstance(kept_body, Encoded):
        return body_text(json.loads(kept_body) if kept_body else None)
    return body_text(kept_body, otp)


def detail(
    method: str,
    request_headers: dict[str, str],
    request_body: bytes,
    op: Operation | None,
    status: int,
    response_headers: dict[str, str],
    response_body: Any,
    sent: bytes | None = None,
) -> Detail:
    """The journal's full view of one exchange. ``sent``: ``response_body`` as encoded for the client,
    kept instead of the value (a later change to a record the value shares cannot reach it)."""
    otp = op is not None and op.path.startswith("/auth/")
    return Detail(
        request_headers,
        kept(request_body, otp),
        response_headers,
        kept(Encoded(sent)) if sent is not None else response_body,
        refusal(op, status, response_body),
        otp,
    )
