"""Path routing over the spec's path templates (D6).

A literal segment beats a parameter, so ``GET /contacts/batch`` resolves to the
``/contacts/batch`` path item and answers 405 rather than looking up a contact
called "batch".
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.spec import Operation


@dataclass(frozen=True)
class Route:
    template: str
    segments: tuple[str, ...]
    methods: dict[str, Operation]

    @property
    def literal_count(self) -> int:
        return sum(1 for s in self.segments if not s.startswith("{"))

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params = {}
        for segment, part in zip(self.segments, parts, strict=True):
            if segment.startswith("{"):
                if not part:
                    return None
                params[segment[1:-1]] = part  # the adapters give decoded paths: no second unquote
            elif segment != part:
                return None
        return params


@dataclass(frozen=True)
class Match:
    route: Route
    params: dict[str, str]

    def operation(self, method: str) -> Operation | None:
        return self.route.methods.get(method)

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.route.methods))


class Router:
    def __init__(self, operations: list[Operation]) -> None:
        grouped: dict[str, dict[str, Operation]] = {}
        for op in operations:
            grouped.setdefault(op.path, {})[op.method] = op
        routes = [
            Route(path, tuple(path.strip("/").split("/")), methods) for path, methods in grouped.items()
        ]
        self._exact = {
            route.template: route for route in routes if route.literal_count == len(route.segments)
        }
        self._templated = sorted(
            (r for r in routes if r.template not in self._exact), key=lambda r: -r.literal_count
        )

    def match(self, path: str) -> Match | None:
        path = path.rstrip("/") or "/"
        route = self._exact.get(path)
        if route is not None:
            return Match(route, {})
        parts = path.strip("/").split("/")
        for route in self._templated:
            params = route.match(parts)
            if params is not None:
                return Match(route, params)
        return None
