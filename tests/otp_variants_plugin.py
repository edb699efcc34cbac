"""A pytest plugin that turns the in-process mock into servers the OTP and message checks must pass.

Each variant is a choice the docs or the decisions leave free (D4, D10, D19) that the mock itself does not
make; ``WACR_OTP_VARIANTS`` (comma-separated) names the ones to apply. They change the core only through the
seams it declares (``handlers``, ``after_dispatch``), as the mutants do, and are proofs for
``tests/test_otp_message_variants.py``, not variants of the mock: ``wacr-mock --variant`` holds those.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import pytest

from contract_tests import in_process
from mockserver.context import Context, Reply
from mockserver.core import MockCore
from mockserver.errors import ApiError, ValidationFailed, rate_limited
from mockserver.handlers import auth
from mockserver.http import CoreResponse
from mockserver.mutants import wrap_handler


def fixed_window(core: MockCore) -> None:
    """D10: the OTP limiters are fixed windows, opened by their first counted call (Laravel's RateLimiter)."""
    windows: dict[tuple[int, str], tuple[float, int]] = {}  # (tenant, limiter key) -> (opened at, counted)

    def limit(clears: bool) -> Callable:
        def around(original, ctx: Context) -> Reply:
            rule = ctx.op.extensions.rate_limit
            key = (ctx.tenant.id, auth.limiter_key(ctx))
            opened, counted = windows.get(key, (ctx.now, 0))
            if ctx.now >= opened + rule.per_seconds:
                opened, counted = ctx.now, 0
            if counted >= rule.calls:
                ctx.token.window.give_back()
                retry_after = math.ceil(opened + rule.per_seconds - ctx.now)
                raise rate_limited(retry_after, ctx.op.error_message(429, "RATE_LIMIT_EXCEEDED"))
            windows[key] = (opened, counted + 1)
            ctx.tenant.limiters.pop(auth.limiter_key(ctx), None)  # the mock's own window never fills
            reply = original(ctx)
            if clears:  # reached only by a successful verify
                windows.pop(key, None)
            return reply

        return around

    wrap_handler(core, "verifyOtp", limit(clears=True))
    wrap_handler(core, "resendOtp", limit(clears=False))


def max_on_fifth(core: MockCore) -> None:
    """D10 amended: the wrong code that uses up the last attempt already answers MAX_ATTEMPTS_EXCEEDED."""

    def verify(original, ctx: Context) -> Reply:
        otp = ctx.tenant.otps.get(auth.otp_key(ctx))
        try:
            return original(ctx)
        except ApiError as error:
            if error.code == "INVALID_CODE" and otp is not None and otp.attempts >= otp.max_attempts:
                raise ctx.error(422, "MAX_ATTEMPTS_EXCEEDED") from None
            raise

    wrap_handler(core, "verifyOtp", verify)


def category_first(core: MockCore) -> None:
    """Send/Resend OTP check the template's category before its status: a REJECTED MARKETING template is a 422
    (the docs give both answers and order neither)."""

    def send(original, ctx: Context) -> Reply:
        named = [
            t
            for t in ctx.tenant.table("templates").values()
            if t["template_name"] == ctx.body["template_name"]
        ]
        if named and all(t["category"] != "AUTHENTICATION" for t in named):
            message = ctx.op.field_message("template_name", "template_category")
            raise ValidationFailed({"template_name": [message]})
        return original(ctx)

    wrap_handler(core, "sendOtp", send)
    wrap_handler(core, "resendOtp", send)


def null_message_status(core: MockCore) -> None:
    """List Messages and Get Message answer ``status: null`` (documented as string|null)."""

    def blank(original, ctx: Context) -> Reply:
        reply = original(ctx)
        items = reply.data if isinstance(reply.data, list) else [reply.data]
        for item in items:
            if isinstance(item, dict) and "status" in item:
                item["status"] = None
        return reply

    wrap_handler(core, "listMessages", blank)
    wrap_handler(core, "getMessage", blank)


def other_feature_name(core: MockCore) -> None:
    """FEATURE_LIMIT_EXCEEDED names its feature otherwise (D4 names the keys, not the value)."""

    def rename(exchange, response: CoreResponse) -> None:
        error = response.body.get("error") if isinstance(response.body, dict) else None
        if isinstance(error, dict) and error.get("code") == "FEATURE_LIMIT_EXCEEDED":
            error["details"]["feature"] = f"plan_{error['details']['feature']}"

    core.after_dispatch.append(rename)


def flat_errors(core: MockCore) -> None:
    """Errors laid out as {success, message, error_code, errors} instead of D4's ``error`` object (legitimate at
    the documented level only)."""

    def flatten(exchange, response: CoreResponse) -> None:
        body = response.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body.pop("error")
            body["error_code"] = error["code"]
            if "details" in error:
                body["errors"] = error["details"]

    core.after_dispatch.append(flatten)


VARIANTS: dict[str, Callable[[MockCore], None]] = {
    "fixed-window": fixed_window,
    "max-on-fifth": max_on_fifth,
    "category-first": category_first,
    "null-message-status": null_message_status,
    "other-feature-name": other_feature_name,
    "flat-errors": flat_errors,
}


def pytest_configure(config: pytest.Config) -> None:
    names = [name.strip() for name in os.environ.get("WACR_OTP_VARIANTS", "").split(",") if name.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        raise pytest.UsageError(f"unknown WACR_OTP_VARIANTS {unknown}; known: {', '.join(VARIANTS)}")
    for name in names:
        VARIANTS[name](in_process.core())
