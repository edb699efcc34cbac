"""The dashboard at ``/__mock__/``: plain HTML, CSS and JavaScript shipped as package data (no
build step, no CDN, works offline).

The page only calls the control API (``docs/control-api.yaml``), so the control API's guard
(Host names, Origin, admin secret) protects everything it does; the page itself holds nothing
secret. With ``--no-control`` there is no dashboard either.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mockserver.core import MockCore
from mockserver.http import CONTROL_PREFIX

ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}
PAGE_PATHS = (CONTROL_PREFIX, CONTROL_PREFIX + "/")


def is_dashboard_path(path: str) -> bool:
    """The page and its assets; every other ``/__mock__`` path is a control call."""
    return path in PAGE_PATHS or path.startswith(CONTROL_PREFIX + "/ui/")


def folder() -> Path:
    return Path(str(importlib.resources.files("mockserver") / "dashboard"))


def dashboard_routes(core: MockCore) -> list[BaseRoute]:
    def turned_off() -> Response | None:
        if not core.control.enabled:
            return JSONResponse({"error": "the control API is turned off (--no-control)"}, status_code=404)
        return None

    async def page(request: Request) -> Response:
        if request.url.path == CONTROL_PREFIX:
            return RedirectResponse(CONTROL_PREFIX + "/")
        return turned_off() or FileResponse(folder() / "index.html", media_type="text/html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return JSONResponse({"error": f"no dashboard file {name}"}, status_code=404)
        return turned_off() or FileResponse(folder() / name, media_type=ASSETS[name])

    return [
        Route(CONTROL_PREFIX, page),
        Route(CONTROL_PREFIX + "/", page),
        Route(CONTROL_PREFIX + "/ui/{name}", asset),
    ]
