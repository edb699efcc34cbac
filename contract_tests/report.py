"""The conformance report: ``--wacr-report DIR`` writes ``index.html`` and ``report.json``.

The page is for people who never saw pytest: a matrix of operations against
properties (one column per check function), each cell green, red or grey with
the provenance tier of the checks in it, and for each failure its last request as
a curl command, the answer received, the rule it breaks with its docs page or
decision, and every request the check sent as a replay script (replay.py). One
self-contained file: no script, no CDN.
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx

BODY_LIMIT = 4000
DECISION = re.compile(r"\bD\d{1,2}\b")
TIER_LETTER = {"documented": "D", "decided": "A"}
OUTCOME_RANK = {"failed": 3, "passed": 2, "skipped": 1}


@dataclass
class Exchange:
    """One request and its answer, as the report shows them."""

    curl: str
    status: int
    answer: str


@dataclass
class CheckResult:
    nodeid: str
    property: str
    module: str
    operations: list[str]
    tier: str
    outcome: str
    rule: str = ""
    provenance: str = ""
    message: str = ""
    exchange: Exchange | None = None
    reached: list[str] = field(default_factory=list)  # every operation the check called, fixtures included
    # A failed check: the operations its failing assertion judged (the others it reached kept their rules).
    failed_operations: list[str] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)  # a failed check's requests and answers (replay.py)
    script: str = ""  # those steps as curl lines
    requests: int = 0  # API requests the check sent, fixtures included (control calls are not API requests)


@dataclass
class Cell:
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    tiers: set[str] = field(default_factory=set)
    failures: list[int] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return max(self.outcomes, key=OUTCOME_RANK.__getitem__) if self.outcomes else ""


def curl_of(request: httpx.Request, token_placeholder: str | None) -> str:
    parts = ["curl", "-X", request.method, str(request.url)]
    for name, value in request.headers.items():
        if name.lower() in (
            "host",
            "content-length",
            "accept-encoding",
            "connection",
            "user-agent",
            "accept",
        ):
            continue
        if name.lower() == "authorization" and token_placeholder:
            value = f"Bearer {token_placeholder}"
        parts += ["-H", f"{name}: {value}"]
    content = request_body(request)
    if content is None:
        parts += ["--data-raw", "(a streamed body the report could not keep)"]
    elif content:
        text = content.decode("utf-8", "replace")
        parts += ["--data-raw", text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"]
    return " ".join(shlex.quote(part) for part in parts)


def request_body(request: httpx.Request) -> bytes | None:
    """The bytes a request sent, multipart uploads (a stream, read again here) included; None if gone."""
    try:
        return request.content
    except httpx.RequestNotRead:
        pass
    try:
        return request.read()
    except Exception:  # a one-shot stream that was consumed by the send
        return None


def exchange_of(response: httpx.Response, token_placeholder: str | None) -> Exchange:
    try:
        answer = json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        answer = response.text
    if len(answer) > BODY_LIMIT:
        answer = answer[:BODY_LIMIT] + "\n…"
    return Exchange(curl_of(response.request, token_placeholder), response.status_code, answer)


def rule_and_provenance(
    doc: str | None, tier: str, operations: list[str], op_provenance: dict[str, str]
) -> tuple[str, str]:
    """The check's rule (its docstring's first paragraph) and where that rule comes from."""
    text = " ".join((doc or "").strip().split("\n\n")[0].split()).replace("``", "`")
    decisions = sorted(set(DECISION.findall(doc or "")), key=lambda d: int(d[1:]))
    if tier == "documented":
        pages = sorted(
            {op_provenance[op] for op in operations if op_provenance.get(op, "").startswith("documented")}
        )
        where = "; ".join(pages) or "documented"
    else:
        where = "decided: " + (", ".join(decisions) if decisions else "docs/decisions.md")
    return text, where


def write(
    directory: Path, results: list[CheckResult], operations: list[str], title: str, facts: dict[str, Any]
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    checks: list[dict[str, Any]] = [asdict(result) for result in results]
    payload: dict[str, Any] = {
        "title": title,
        "facts": facts,
        "operations": operations,
        "checks": checks,
    }
    failed = (check for check in checks if check["outcome"] == "failed")
    for number, check in enumerate(failed, 1):
        check["id"] = str(number)  # what ``wacr-contract replay REPORT ID`` takes
    replace_atomically(directory / "report.json", json.dumps(payload, indent=2, ensure_ascii=False))
    page = directory / "index.html"
    replace_atomically(page, render(results, operations, title, facts))
    return page


def replace_atomically(path: Path, text: str) -> None:
    """Rewrites ``path`` whole or not at all: the report is rewritten while the run goes, and a job
    killed mid-write must still leave a readable file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_junit(path: Path, results: list[CheckResult]) -> None:
    """JUnit XML of the checks so far, for a run that may be killed before pytest's own file is written
    (pytest's ``--junitxml`` replaces it at the end)."""
    suite = ElementTree.Element("testsuite", name="wacr-contract", tests=str(len(results)))
    for outcome in ("failed", "skipped"):
        suite.set(
            "failures" if outcome == "failed" else "skipped", str(sum(r.outcome == outcome for r in results))
        )
    for result in results:
        module, _, name = result.nodeid.rpartition("::")
        case = ElementTree.SubElement(
            suite, "testcase", classname=module.replace("/", ".").removesuffix(".py"), name=name
        )
        if result.outcome == "failed":
            ElementTree.SubElement(case, "failure", message=result.message[:200]).text = result.message
        elif result.outcome == "skipped":
            ElementTree.SubElement(case, "skipped", message=result.message[:200])
    replace_atomically(path, ElementTree.tostring(suite, encoding="unicode"))


def render(results: list[CheckResult], operations: list[str], title: str, facts: dict[str, Any]) -> str:
    properties = sorted({(r.module, r.property) for r in results})
    cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
    failures = [r for r in results if r.outcome == "failed"]
    for result in results:
        for op in result.operations or ["(no operation)"]:
            cell = cells[(op, result.property)]
            outcome = result.outcome
            if outcome == "failed" and result.failed_operations and op not in result.failed_operations:
                outcome = "passed"  # its answers were taken: another operation's answer failed the check
            cell.outcomes[outcome] += 1
            cell.tiers.add(result.tier)
            if outcome == "failed":
                cell.failures.append(failures.index(result))
    rows = [op for op in operations if any((op, p) in cells for _, p in properties)]
    rows += sorted({op for op, _ in cells} - set(operations))
    totals: defaultdict[str, int] = defaultdict(int)
    for result in results:
        totals[result.outcome] += 1
    out = [HEAD.format(title=html.escape(title))]
    out.append(f"<h1>{html.escape(title)}</h1>")
    out.append(
        "<p class=facts>"
        + " · ".join(f"<b>{html.escape(k)}</b> {html.escape(str(v))}" for k, v in facts.items())
        + "</p>"
    )
    verdict = "fail" if failures else "pass"
    out.append(
        f"<p class='verdict {verdict}'>{totals['failed']} failed · {totals['passed']} passed · "
        f"{totals['skipped']} skipped</p>"
    )
    out.append(LEGEND)
    out.append("<h2>Operations × properties</h2><div class=scroll><table class=matrix><thead><tr><th></th>")
    for module, prop in properties:
        out.append(f"<th class=prop title='{html.escape(module)}'><span>{html.escape(prop)}</span></th>")
    out.append("</tr></thead><tbody>")
    for op in rows:
        out.append(f"<tr><th class=op>{html.escape(op)}</th>")
        for _, prop in properties:
            out.append(render_cell(cells.get((op, prop)), op, prop))
        out.append("</tr>")
    out.append("</tbody></table></div>")
    if failures:
        out.append("<h2>Failures</h2>")
        out.extend(render_failure(index, result) for index, result in enumerate(failures))
    out.append("</body></html>")
    return "\n".join(out)


def render_cell(cell: Cell | None, op: str, prop: str) -> str:
    if cell is None:
        return "<td class=none></td>"
    letters = "".join(TIER_LETTER[t] for t in ("documented", "decided") if t in cell.tiers)
    counts = ", ".join(f"{n} {o}" for o, n in sorted(cell.outcomes.items()))
    label = f"{op} × {prop}: {counts}"
    if cell.failures:
        return (
            f"<td class=failed title='{html.escape(label)}'><a href='#failure-{cell.failures[0]}'>"
            f"{letters}</a></td>"
        )
    return f"<td class={cell.outcome} title='{html.escape(label)}'>{letters}</td>"


def render_failure(index: int, result: CheckResult) -> str:
    blamed = result.failed_operations or result.operations
    parts = [
        f"<section class=failure id='failure-{index}'>",
        f"<h3>{index + 1}. {html.escape(', '.join(blamed) or '(no operation)')} × {html.escape(result.property)}</h3>",
        f"<p class=check>{html.escape(result.nodeid)}</p>",
        f"<p><b>Rule</b> {html.escape(result.rule or '(no description)')}</p>",
        f"<p><b>Provenance</b> {html.escape(result.provenance)}</p>",
    ]
    if result.exchange is not None:
        parts.append("<p><b>The last request</b>, whose answer failed the check</p>")
        parts.append(f"<pre class=curl>{html.escape(result.exchange.curl)}</pre>")
        parts.append(f"<p><b>Answer</b> HTTP {result.exchange.status}</p>")
        parts.append(f"<pre class=answer>{html.escape(result.exchange.answer)}</pre>")
    else:
        parts.append("<p><i>The check failed before sending a request.</i></p>")
    if result.steps:
        parts.append(
            f"<p><b>Replay</b> the {len(result.steps)} requests of this check, and judge the answers: "
            f"<code>wacr-contract replay report.json {index + 1} --base-url URL</code>. As a script:</p>"
        )
        parts.append(f"<pre class='curl script'>{html.escape(result.script)}</pre>")
    parts.append(f"<p><b>Why it failed</b></p><pre class=why>{html.escape(result.message)}</pre></section>")
    return "\n".join(parts)


HEAD = """<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>
<style>
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;background:#fff}}
h1{{font-size:22px;margin:0 0 6px}} h2{{font-size:18px;margin:28px 0 10px}} h3{{font-size:15px;margin:0 0 6px}}
.facts{{color:#57606a}} .verdict{{font-size:16px;font-weight:600;padding:8px 12px;border-radius:6px;display:inline-block}}
.verdict.pass{{background:#dafbe1;color:#116329}} .verdict.fail{{background:#ffebe9;color:#a40e26}}
.legend span{{display:inline-block;padding:1px 8px;margin-right:8px;border-radius:4px}}
.scroll{{overflow-x:auto}} table.matrix{{border-collapse:collapse}}
.matrix th.op{{text-align:left;font-weight:500;padding:2px 10px 2px 0;white-space:nowrap}}
.matrix th.prop{{height:220px;vertical-align:bottom;padding:0}}
.matrix th.prop span{{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:500;padding:4px 0}}
.matrix td{{width:22px;height:20px;text-align:center;font-size:10px;border:1px solid #fff}}
td.passed,.legend .passed{{background:#2da44e;color:#fff}} td.failed,.legend .failed{{background:#cf222e;color:#fff}}
td.skipped,.legend .skipped{{background:#d0d7de;color:#57606a}} td.none{{background:#f6f8fa}}
td.failed a{{color:#fff;font-weight:700;text-decoration:none}}
.failure{{border-left:4px solid #cf222e;padding:8px 14px;margin:12px 0;background:#fff8f8}}
pre{{background:#f6f8fa;padding:8px 10px;border-radius:6px;white-space:pre-wrap;word-break:break-all;margin:4px 0 10px}}
pre.curl{{background:#0d1117;color:#e6edf3}} pre.answer,pre.why{{max-height:260px;overflow:auto}} pre.script{{max-height:360px;overflow:auto}} .check{{font-family:ui-monospace,monospace;color:#57606a;font-size:12px}}
</style></head><body>"""

LEGEND = (
    "<p class=legend><span class=passed>passed</span><span class=failed>failed</span>"
    "<span class=skipped>skipped</span> Letters give the provenance tier of the checks in a cell: "
    "<b>D</b> documented (the published docs say it), <b>A</b> decided (a decision in docs/decisions.md). "
    "The mock's own choices are never checked.</p>"
)
