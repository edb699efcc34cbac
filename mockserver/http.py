"""The core's request and response values, and the one place that decides body limits.

No web framework here: the ASGI app, the httpx transport and the respx side effect each turn
their own request into a ``CoreRequest`` and a ``CoreResponse`` back into their own answer.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockserver.errors import ApiError

API_PREFIX = "/api"
CONTROL_PREFIX = "/__mock__"
JSON_LIMIT = 10 * 1024 * 1024
MULTIPART_LIMIT = 120 * 1024 * 1024  # the largest upload a plan allows, with room for the form around it
# Connection deadlines: a request head must be complete this long after the connection opened or its last
# answer went out (mockserver/connections.py); a body must be complete this long after its head (asgi.py).
HEAD_SECONDS = 10.0
BODY_SECONDS = 30.0


def media_type(headers: dict[str, str]) -> str:
    """The ``Content-Type`` without its parameters, lower-cased; headers have lower-case names."""
    return headers.get("content-type", "").split(";")[0].strip().lower()


def reads_as_json(headers: dict[str, str]) -> bool:
    """A body the core reads as JSON: no media type, ``application/json`` or a ``+json`` one."""
    kind = media_type(headers)
    return not kind or kind == "application/json" or kind.endswith("+json")


def body_limit(headers: dict[str, str]) -> int:
    """The most bytes a body may have before the core answers 413 (multipart carries files)."""
    return MULTIPART_LIMIT if media_type(headers) == "multipart/form-data" else JSON_LIMIT


def is_core_path(path: str) -> bool:
    """Paths the core answers (the API and the control API); adapters serve the rest themselves."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in (API_PREFIX, CONTROL_PREFIX))


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def json_object(raw: bytes, loads: Callable[[bytes], Any] = json.loads) -> dict[str, Any]:
    """A JSON object body; an empty body is an empty object. Anything else is the 400 of D4."""
    if not raw.strip():
        return {}
    try:
        body = loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "INVALID_JSON", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_JSON", "The request body must be a JSON object")
    return body


def yielding_loads(raw: bytes) -> Any:
    """``json.loads(raw)`` by the json module's pure-Python scanner. It is slower, but the C scanner holds
    the interpreter for a whole body (0.3 s for 10 MB), while this one, in a worker thread, lets the event
    loop answer other clients between its steps. Same module, same grammar, same values."""
    decoder = json.JSONDecoder()
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))


@dataclass
class CoreRequest:
    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    body_too_large: bool = False
    origin: str = "http://127.0.0.1:8080"
    # A multipart body an adapter parsed already, off its event loop (``parse_multipart``'s result, or
    # the ValueError it raised); None: the core parses ``body`` itself.
    form: dict[str, Any] | ValueError | None = None
    # A large JSON body an adapter parsed already, off its event loop (``json_object``'s result, or the
    # ApiError it raised); None: the core parses ``body`` itself.
    parsed_json: dict[str, Any] | ApiError | None = None

    @classmethod
    def received(
        cls, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes, origin: str
    ) -> CoreRequest:
        """A request as an adapter read it: a body over the limit is dropped and flagged (413)."""
        too_large = len(body) > body_limit(headers)
        return cls(method, path, query_string, headers, b"" if too_large else body, too_large, origin)

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (D4's 400 otherwise), as parsed by the adapter when it did."""
        if isinstance(self.parsed_json, ApiError):
            raise self.parsed_json
        return json_object(self.body) if self.parsed_json is None else self.parsed_json

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)


@dataclass
class CoreResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0  # an injected latency: each adapter waits it in its own way
    sent: bytes | None = field(default=None, repr=False, compare=False)  # ``encoded()``'s result

    def encoded(self) -> bytes:
        """The body as JSON bytes, encoded once (the journal keeps what the client got)."""
        if self.sent is None:
            self.sent = b"" if self.body is None else json_bytes(self.body)
        return self.sent


def json_bytes(value: Any) -> bytes:
    """Compact JSON. orjson where it can (ten times faster on an answer), the standard library where it
    cannot (an integer beyond 64 bits, a NaN, a subclass it does not take): the same JSON value either way."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()
