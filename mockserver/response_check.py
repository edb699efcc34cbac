"""``--validate-responses``: every answer the mock sends is checked against the spec at run time.

A violation is a bug in the mock; the answer becomes a 500 ``MOCK_RESPONSE_INVALID``
naming the mismatch, so it cannot go unnoticed.
"""

from __future__ import annotations

import logging

from jsonschema import Draft202012Validator, FormatChecker

from mockserver.http import CoreResponse
from mockserver.spec import Operation, Spec

log = logging.getLogger("mockserver")


class ResponseValidator:
    def __init__(self, spec: Spec, lenient: bool = False) -> None:
        """``lenient`` (with variants on): an unlisted status or a missing listed field is no violation.

        The spec describes the mock's own answers; a variant may answer another status where
        the contract leaves it free, or leave out a field the docs do not list (D19).
        """
        self.spec = spec
        self.lenient = lenient
        self.checked = 0
        self.violations: list[str] = []
        self.validators: dict[tuple[str, int], Draft202012Validator | None] = {}

    def validator(self, operation_id: str, status: int) -> Draft202012Validator | None:
        """One compiled validator per operation and status, made on first use."""
        key = (operation_id, status)
        if key not in self.validators:
            schema = self.spec.operation(operation_id).response_schemas.get(status)
            self.validators[key] = (
                Draft202012Validator(schema, format_checker=FormatChecker()) if schema else None
            )
        return self.validators[key]

    def problems(self, op: Operation, response: CoreResponse) -> list[str]:
        if str(response.status) not in op.raw.get("responses", {}):
            return (
                [] if self.lenient else [f"status {response.status} is not documented for {op.operation_id}"]
            )
        validator = self.validator(op.operation_id, response.status)
        if validator is None:
            return []
        errors = validator.iter_errors(response.body)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in errors
            if not (self.lenient and e.validator == "required")
        ]

    def check(self, op: Operation, response: CoreResponse) -> None:
        self.checked += 1
        problems = self.problems(op, response)
        if not problems:
            return
        summary = f"{op.operation_id} -> {response.status}: " + "; ".join(problems[:5])
        self.violations.append(summary)
        log.error("response does not match the spec: %s", summary)
        response.status = 500
        response.body = {
            "success": False,
            "message": "The mock's answer does not match openapi.yaml",
            "error": {"code": "MOCK_RESPONSE_INVALID", "message": summary},
            "meta": response.body.get("meta") if isinstance(response.body, dict) else None,
        }
