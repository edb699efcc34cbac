"""``/docs``: Swagger UI (shipped in a Python package, so offline) set up for this mock.

The page shows the host and port the mock really answers on, has the banner's token filled in,
and offers the ``Prefer`` header (``mockserver/prefer.py``) for "Try it out", so a chosen error
or a named example can be seen from the page.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from mockserver.seed import FULL_TOKEN

PREFER_CHOICES = ("code=401", "code=403", "code=404", "code=422", "code=429", "code=500")
# The spec's server variable, whose default names the mock's default address.
HOST_DEFAULT = re.compile(r"^(\s+default:\s*)127\.0\.0\.1:8080\s*$", re.M)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>WA.cr API v2 mock</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<style>
  #mockbar {font: 14px/1.5 system-ui, sans-serif; background: #f4f7fb; border-bottom: 1px solid #d8dee8;
            padding: 10px 20px; display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center}
  #mockbar code {background: #fff; border: 1px solid #d8dee8; border-radius: 3px; padding: 0 4px}
  #mockbar label {display: inline-flex; gap: 6px; align-items: center}
</style></head>
<body>
<div id="mockbar">
  <span>Mock at <code>__ORIGIN__/api/v2</code>; token <code>__TOKEN__</code> is filled in (Authorize to change it).</span>
  <label>Answer with <select id="prefer" aria-label="Prefer header for Try it out">
    <option value="">the normal answer</option>__CHOICES__</select></label>
  <label>or example <input id="prefer-example" placeholder="name, e.g. page" size="14"></label>
  <span>Sent as the <code>Prefer</code> header (see README, "Answers chosen per request"). <a href="/__mock__/">Dashboard</a></span>
</div>
<div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>const ui = SwaggerUIBundle({url: "/docs/openapi.yaml", dom_id: "#ui",
  onComplete: () => ui.preauthorizeApiKey("bearerAuth", "__TOKEN__"),
  // "Try it out" calls this mock, whatever host and port the spec's server variable names.
  requestInterceptor: (req) => {
    const url = new URL(req.url, window.location.href);
    if (url.pathname.startsWith("/api/v2")) req.url = window.location.origin + url.pathname + url.search;
    const prefer = [window.document && document.getElementById("prefer").value,
                    window.document && document.getElementById("prefer-example").value.trim()];
    if (prefer[1]) prefer[1] = "example=" + prefer[1];
    if (prefer.some(Boolean) && url.pathname.startsWith("/api/v2")) req.headers["Prefer"] = prefer.filter(Boolean).join(", ");
    return req;
  }});</script>
</body></html>"""


def docs_page(origin: str, token: str = FULL_TOKEN) -> str:
    choices = "".join(f'<option value="{c}">Prefer: {c}</option>' for c in PREFER_CHOICES)
    return (
        PAGE.replace("__ORIGIN__", html.escape(origin))
        .replace("__TOKEN__", html.escape(token))
        .replace("__CHOICES__", choices)
    )


def spec_for_docs(spec_file: Path, host: str) -> str:
    """The spec with its server variable's default set to the host the page came from (P11: the page
    shows the address it really calls); ``/openapi.yaml`` stays the contract as written."""
    text = spec_file.read_text(encoding="utf-8")
    safe_host = re.sub(r"[^A-Za-z0-9.:\[\]-]", "", host) or "127.0.0.1:8080"
    return HOST_DEFAULT.sub(lambda m: m.group(1) + f"'{safe_host}'", text, count=1)
