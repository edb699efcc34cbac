"""Authentication (OTP): send, resend, verify and status (D10), and the auth template list."""

from __future__ import annotations

import math
import secrets

from mockserver import listing, outbox
from mockserver.clock import iso
from mockserver.context import Context, Reply
from mockserver.errors import ValidationFailed, rate_limited
from mockserver.extensions import RateLimit
from mockserver.limits import prune_idle
from mockserver.phones import clean_phone
from mockserver.store import Otp

DEFAULT_PURPOSE = "authentication"


def otp_key(ctx: Context) -> tuple[str, str]:
    return clean_phone(ctx.body["phone"]), ctx.body.get("purpose") or DEFAULT_PURPOSE


def hit_limiter(ctx: Context) -> None:
    """Counts this call against the operation's ``x-rate-limit`` window (D10).

    A refused call is not counted here, nor by the per-token limiter (D6).
    """
    rule = rate_rule(ctx)
    prune_idle(ctx.tenant.limiters, ctx.now, rule.per_seconds, prefix=rule.key.split("{", 1)[0])
    window = ctx.tenant.limiters.setdefault(limiter_key(ctx), ctx.behaviour.otp_window())
    retry_after = window.admit(ctx.now, rule.calls, rule.per_seconds)
    if retry_after is not None:
        ctx.token.window.give_back()
        raise rate_limited(retry_after, ctx.op.error_message(429, "RATE_LIMIT_EXCEEDED"))


def rate_rule(ctx: Context) -> RateLimit:
    """The operation's ``x-rate-limit``: every operation whose handler counts a limiter has one."""
    rule = ctx.op.extensions.rate_limit
    if rule is None:
        raise RuntimeError(f"{ctx.op.operation_id} counts a limiter but has no x-rate-limit")
    return rule


def limiter_key(ctx: Context) -> str:
    phone, _ = otp_key(ctx)
    return rate_rule(ctx).key.format(tenant_id=ctx.tenant.id, phone=phone)


def clear_limiter(ctx: Context) -> None:
    ctx.tenant.limiters.pop(limiter_key(ctx), None)


def auth_template(ctx: Context) -> dict:
    """The named template must be APPROVED (404) and AUTHENTICATION (422), as documented."""
    name = ctx.body["template_name"]
    language = ctx.body.get("language") or "en"
    candidates = [
        t
        for t in ctx.tenant.table("templates").values()
        if t["template_name"] == name and t["status"] == "APPROVED"
    ]
    template = next((t for t in candidates if t["language"] == language), None) or next(
        iter(candidates), None
    )
    if template is None:
        raise ctx.error(404, "RESOURCE_NOT_FOUND")
    if template["category"] != "AUTHENTICATION":
        raise ValidationFailed(
            {"template_name": [ctx.op.field_message("template_name", "template_category")]}
        )
    return template


def send(ctx: Context, code: str) -> Reply:
    expiry_minutes = ctx.body.get("expiry_minutes") or 10
    phone, contact, template = outbox.prepare(ctx, template=lambda: auth_template(ctx))
    params = [code, str(expiry_minutes), *(ctx.body.get("additional_params") or [])]
    text = template["body_data"]
    for index, value in enumerate(params, start=1):
        text = text.replace(f"{{{{{index}}}}}", str(value))
    sent = outbox.record(ctx, phone, contact, "template", text)
    now = ctx.now
    _, purpose = otp_key(ctx)
    ctx.tenant.otps[(phone, purpose)] = Otp(
        phone, purpose, code, now, now + expiry_minutes * 60, max_attempts=ctx.op.extensions.otp.max_attempts
    )
    return Reply(
        {
            "message_id": sent["message_id"],
            "contact_id": sent["contact_id"],
            "phone": phone,
            "template_name": template["template_name"],
            "language": template["language"],
            "code_sent": True,
            "expiry_minutes": expiry_minutes,
            "expires_at": iso(now + expiry_minutes * 60),
            "status": "sent",
            "sent_at": sent["sent_at"],
        }
    )


def send_otp(ctx: Context) -> Reply:
    return send(ctx, ctx.body["code"])


def resend_otp(ctx: Context) -> Reply:
    hit_limiter(ctx)
    length = ctx.op.extensions.otp.generated_code_length
    return send(ctx, "".join(secrets.choice("0123456789") for _ in range(length)))


def verify_otp(ctx: Context, refuse_at_max: bool = False) -> Reply:
    """``refuse_at_max``: the wrong code that reaches the maximum already answers MAX_ATTEMPTS_EXCEEDED
    (D10 decides INVALID_CODE with ``attempts_remaining: 0`` there; the docs allow both)."""
    hit_limiter(ctx)
    key = otp_key(ctx)
    otp = ctx.tenant.otps.get(key)
    if otp is None:
        raise ctx.error(422, "OTP_NOT_FOUND")
    if otp.attempts >= otp.max_attempts:
        raise ctx.error(422, "MAX_ATTEMPTS_EXCEEDED")
    if ctx.now >= otp.expires_at:
        raise ctx.error(422, "OTP_EXPIRED")
    if ctx.body["code"] != otp.code:
        otp.attempts += 1
        if refuse_at_max and otp.attempts >= otp.max_attempts:
            raise ctx.error(422, "MAX_ATTEMPTS_EXCEEDED")
        raise ctx.error(422, "INVALID_CODE", {"attempts_remaining": otp.max_attempts - otp.attempts})
    del ctx.tenant.otps[key]
    clear_limiter(ctx)
    return Reply({"phone": key[0], "purpose": key[1], "verified_at": iso(ctx.now)})


def check_otp_status(ctx: Context) -> Reply:
    otp = ctx.tenant.otps.get(otp_key(ctx))
    if otp is None:
        return Reply({"has_active_otp": False}, ctx.op.alternate_message("no_active_otp"))
    now = ctx.now
    return Reply(
        {
            "has_active_otp": True,
            "expires_at": iso(otp.expires_at),
            "expires_in_seconds": math.floor(otp.expires_at - now),
            "is_expired": now >= otp.expires_at,
            "verification_attempts": otp.attempts,
            "max_attempts": otp.max_attempts,
            "attempts_remaining": max(0, otp.max_attempts - otp.attempts),
            "created_at": iso(otp.created_at),
        }
    )


def list_auth_templates(ctx: Context) -> Reply:
    usable = [
        t
        for t in ctx.tenant.table("templates").values()
        if t["category"] == "AUTHENTICATION" and t["status"] == "APPROVED"
    ]
    return listing.respond(ctx, usable, present_auth_template)


def present_auth_template(template: dict) -> dict:
    return {
        "id": template["id"],
        "template_name": template["template_name"],
        "language": template["language"],
        "body_text": template["body_data"],
        "body_params_count": template["body_params_count"],
        "header_format": template["header_data_format"],
        "header_text": template["header_data_text"],
        "footer_text": template["footer_data"],
        "status": template["status"],
        "created_at": template["created_at"],
    }


HANDLERS = {
    "sendOtp": send_otp,
    "resendOtp": resend_otp,
    "verifyOtp": verify_otp,
    "checkOtpStatus": check_otp_status,
    "listAuthTemplates": list_auth_templates,
}
