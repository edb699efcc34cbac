"""Errors a handler raises; the core turns them into the D4 (or D12) envelope."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status, documented code, message and optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


class ValidationFailed(ApiError):
    def __init__(self, details: dict[str, list[str]], message: str = "Validation failed") -> None:
        super().__init__(422, "VALIDATION_ERROR", message, details)


def rate_limited(retry_after: int, message: str = "Too many requests") -> ApiError:
    retry_after = max(1, int(retry_after))
    return ApiError(
        429,
        "RATE_LIMIT_EXCEEDED",
        message,
        {"retry_after": retry_after},
        {"Retry-After": str(retry_after)},
    )
