"""A failed check's exchanges as the report keeps them, as a shell script, and sent again (``wacr-contract replay``).

Values a request took from an earlier answer (a tenant's token from the D14 control call, the id of a
contact it made) are linked to that answer: ``uses`` names the step and the place in its JSON answer. A
replay, and the script, take them from the new answers, so the sequence works on a fresh server.

The run's own tokens never enter the report: they become ``$WACR_TOKEN`` and ``$WACR_LIMITED_TOKEN``, the
variables the suite reads them from.
"""

from __future__ import annotations

import base64
import functools
import json
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from contract_tests import contract
from contract_tests.journal import Journal, Step
from contract_tests.target import RETRY_LIMIT, bounded_client, retry_after_seconds

API, ROOT = "$WACR_BASE_URL", "${WACR_BASE_URL%/api/v2}"
STRING_KINDS = ("token", "code")  # string values worth linking: a tenant's token, an OTP's code
SKIPPED_HEADERS = {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}
# Values that differ on every run of a correct server, left out when two answers are compared.
VOLATILE = ("request_id", "timestamp", "token")

JsonPath = list[str | int]


# --- what a failed check's report keeps -------------------------------------------------------------------------


def report_steps(steps: list[Step], base_url: str, secrets: dict[str, str]) -> list[dict]:
    """``steps`` as the report keeps them: URLs relative to ``$WACR_BASE_URL``, the run's tokens (``secrets``:
    value -> variable) replaced, and each value taken from an earlier answer linked to it."""
    root = base_url.rstrip("/").removesuffix("/api/v2")
    origins: dict[tuple[str, str], tuple[int, JsonPath]] = {}
    out = []
    for number, step in enumerate(steps, 1):
        url = step.url
        for prefix, variable in ((base_url.rstrip("/"), API), (root, ROOT)):
            if url.startswith(prefix + "/") or url == prefix:
                url = variable + url[len(prefix) :]
                break
        headers = {k: v for k, v in step.headers.items() if k not in SKIPPED_HEADERS}
        for value, variable in secrets.items():
            if value and headers.get("authorization") == f"Bearer {value}":
                headers["authorization"] = f"Bearer ${variable}"
        entry = {
            "step": number,
            "method": step.method,
            "url": url,
            "headers": headers,
            "body": step.body,
            "body_encoding": step.body_encoding,
            "body_bytes": step.body_bytes,
            "body_kept": step.body_complete,
            "status": step.status,
            "answer": step.answer,
            "answer_complete": step.answer_bytes <= len(step.answer.encode()),
        }
        uses: list[dict[str, Any]] = []
        entry["uses"] = uses
        for place, at, kind, value in used_values(entry):
            if origin := origins.get((kind, str(value))):  # the latest answer that gave this value
                uses.append({"in": place, "at": at, "value": value, "step": origin[0], "from": origin[1]})
        for kind, value, path in given_values(step.answer, collection_of(url)):
            origins[(kind, str(value))] = (number, path)
        out.append(entry)
    return out


def collection_of(url: str) -> str:
    """The first collection a report URL names (``/groups/7/contacts``: groups), or ""."""
    named = [
        s for s in urlsplit(url.removeprefix(ROOT).removeprefix(API)).path.split("/") if s in collections()
    ]
    return named[0] if named else ""


@functools.cache
def collections() -> frozenset[str]:
    """What a path's segment may name: the first segment of every documented path, and D14's tenants."""
    return frozenset(op.path.split("/")[1] for op in contract.spec().operations.values()) | {"tenants"}


def plural(word: str) -> str:
    return word + ("es" if word.endswith("s") else "s")


def kind_of(key: str, collection: str) -> str | None:
    """What a JSON key's value identifies: a collection's record, a token, a code; None for anything else."""
    if key in STRING_KINDS:
        return key
    if key in ("id", "ids"):
        return collection or None
    if key in collections():  # a contact's ``groups``: ids of groups
        return key
    for suffix in ("_ids", "_id"):
        if key.endswith(suffix):
            return plural(key[: -len(suffix)].rsplit("_", 1)[-1])
    return None


def walk(value: Any, path: JsonPath, collection: str) -> Iterator[tuple[JsonPath, str, Any]]:
    """(path, kind, value) of every linkable scalar under ``value``: ids, tokens and codes."""
    if isinstance(value, dict):
        for key, item in value.items():
            inner = key if key in collections() else collection
            kind = kind_of(key, collection)
            if kind is not None and is_linkable(item, kind):
                yield [*path, key], kind, item
            elif kind is not None and isinstance(item, list):
                for index, element in enumerate(item):
                    if is_linkable(element, kind):
                        yield [*path, key, index], kind, element
            if isinstance(item, dict | list):
                yield from walk(item, [*path, key], inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                yield from walk(item, [*path, index], collection)


def is_linkable(value: Any, kind: str) -> bool:
    if kind in STRING_KINDS:
        return isinstance(value, str) and len(value) >= 4
    return isinstance(value, int) and not isinstance(value, bool)


def given_values(answer: str, collection: str) -> Iterator[tuple[str, Any, JsonPath]]:
    try:
        data = json.loads(answer)
    except ValueError:
        return
    for path, kind, value in walk(data, [], collection):
        yield kind, value, path


def used_values(entry: dict) -> Iterator[tuple[str, Any, str, Any]]:
    """(place, where in it, kind, value) of every value a request carries that an earlier answer may have given."""
    url = urlsplit(entry["url"].replace(API, "http://api").replace(ROOT, "http://root"))
    segments = url.path.split("/")
    for index, segment in enumerate(segments):
        if segment.isdigit() and index and segments[index - 1] in collections():
            yield "path", index, segments[index - 1], segment
    for name, value in parse_qsl(url.query):
        key = name.rsplit("[", 1)[-1].rstrip("]")
        kind = kind_of(key, "")
        if kind and value.isdigit():
            yield "query", name, kind, value
    authorization = entry["headers"].get("authorization", "")
    if authorization.startswith("Bearer ") and "$" not in authorization:
        yield "header", "authorization", "token", authorization.removeprefix("Bearer ")
    if entry["body_encoding"] == "utf-8" and entry["headers"].get("content-type", "").startswith(
        "application/json"
    ):
        try:
            body = json.loads(entry["body"])
        except ValueError:
            return
        for path, kind, value in walk(body, [], collection_of(entry["url"])):
            yield "body", path, kind, value


# --- the script ------------------------------------------------------------------------------------------------

VALUE_FUNCTION = (
    "value() { python3 -c 'import functools, json, sys; print(functools.reduce("
    'lambda v, k: v[int(k)] if isinstance(v, list) else v[k], sys.argv[2].split("."), '
    'json.loads(sys.argv[1])))\' "$1" "$2"; }'
)
MARK = "\ue000"  # stands for a linked value while a URL or body is being written out


def dotted(path: JsonPath) -> str:
    return ".".join(str(part) for part in path)


def script(steps: list[dict]) -> str:
    """The steps as a shell script of curl lines; values from earlier answers are read from those answers."""
    needed = {use["step"] for step in steps for use in step["uses"]}
    lines = [
        "# Replays a failed check's exchanges. Set WACR_BASE_URL (including /api/v2), and WACR_TOKEN if a",
        "# request uses it. Or: wacr-contract replay REPORT ID --base-url URL (judges the answers too)",
        VALUE_FUNCTION,
    ]
    for step in steps:
        lines.append(f"# {step['step']}. recorded answer: HTTP {step['status']}")
        command = curl_command(step)
        if step["step"] in needed:
            lines.append(f"S{step['step']}=$({command})")
        else:
            lines.append(command + " -w ' -> HTTP %{http_code}\\n'")
    return "\n".join(lines)


def curl_command(step: dict) -> str:
    uses = step["uses"]
    marked = lambda use: MARK + str(uses.index(use)) + MARK  # noqa: E731
    words = ["curl", "-sS", "-X", step["method"], shell_word(rebuilt_url(step["url"], uses, marked), uses)]
    for name, value in step["headers"].items():
        text = f"{name}: {value}"
        if name == "authorization" and any(use["in"] == "header" for use in uses):
            use = next(use for use in uses if use["in"] == "header")
            text = f"{name}: Bearer {marked(use)}"
        words += ["-H", shell_word(text, uses)]
    if not step["body_kept"]:
        words += ["--data-raw", shlex.quote(f"(a body of {step['body_bytes']:,} bytes, not kept)")]
    elif step["body_encoding"] == "base64":
        words = [f"printf %s {shlex.quote(step['body'])} | base64 -d |", *words, "--data-binary", "@-"]
    elif step["body"]:
        words += ["--data-raw", shell_word(rebuilt_body(step, marked, quoted=False), uses)]
    return " ".join(words)


def shell_word(text: str, uses: list[dict]) -> str:
    """``text`` as one shell word: literal parts quoted, variables and linked values (MARK n MARK) expanded."""
    out = []
    for index, part in enumerate(text.split(MARK)):
        if index % 2:
            use = uses[int(part)]
            out.append(f'"$(value "$S{use["step"]}" {shlex.quote(dotted(use["from"]))})"')
            continue
        for prefix in (ROOT, API, "$WACR_TOKEN", "$WACR_LIMITED_TOKEN"):
            if prefix in part:
                before, _, after = part.partition(prefix)
                out += [
                    shlex.quote(before) if before else "",
                    f'"{prefix}"',
                    shlex.quote(after) if after else "",
                ]
                break
        else:
            out.append(shlex.quote(part) if part else "")
    return "".join(out) or "''"


# --- substituting values ---------------------------------------------------------------------------------------


def rebuilt_url(url: str, uses: list[dict], value_of) -> str:
    """``url`` with each linked value in its path or query replaced by ``value_of(use)``."""
    if not any(use["in"] in ("path", "query") for use in uses):
        return url
    prefix = next((p for p in (ROOT, API) if url.startswith(p)), "")
    parts = urlsplit("http://target" + url[len(prefix) :] if prefix else url)
    segments = parts.path.split("/")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for use in uses:
        if use["in"] == "path":
            segments[use["at"]] = str(value_of(use))
        elif use["in"] == "query":
            pairs = [(k, str(value_of(use)) if k == use["at"] else v) for k, v in pairs]
    query = "&".join(f"{quote(k, safe='[]')}={quote(v, safe=MARK)}" for k, v in pairs)
    rest = "/".join(segments) + ("?" + query if query else "")
    return prefix + rest if prefix else f"{parts.scheme}://{parts.netloc}{rest}"


def rebuilt_body(step: dict, value_of, quoted: bool = True) -> str:
    """The JSON body with each linked value replaced; the recorded text when nothing in it is linked."""
    uses = [use for use in step["uses"] if use["in"] == "body"]
    if not uses:
        return step["body"]
    body = json.loads(step["body"])
    for use in uses:
        *parents, last = use["at"]
        holder = body
        for key in parents:
            holder = holder[key]
        holder[last] = value_of(use)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if not quoted:  # the script: a linked number is written bare, without the quotes of its stand-in
        for use in uses:
            if not isinstance(use["value"], str):
                mark = value_of(use)
                text = text.replace(f'"{mark}"', mark)
    return text


# --- sending them again ----------------------------------------------------------------------------------------


class ReplayError(Exception):
    """The failure cannot be replayed as asked: the message says why and what to pass."""


def load_failure(report: Path, ident: str) -> dict:
    """The failed check ``ident`` (its number in the report, or its pytest node id) of a report.json or its folder."""
    path = report / "report.json" if report.is_dir() else report
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReplayError(f"cannot read the report {path}: {exc}") from None
    failures = [check for check in data.get("checks", []) if check.get("outcome") == "failed"]
    for number, check in enumerate(failures, 1):
        if ident in (str(number), check.get("nodeid")):
            return {**check, "target": data.get("facts", {}).get("target", "")}
    known = "; ".join(f"{n} {c.get('nodeid')}" for n, c in enumerate(failures, 1)) or "none"
    raise ReplayError(f"the report {path} has no failed check {ident!r}; its failed checks: {known}")


def masked(answer: str) -> Any:
    """An answer with what differs on every run of a correct server left out: ids, tokens, codes, times."""

    def mask(value: Any, key: str = "") -> Any:
        if volatile(key, value):
            return "…"
        if isinstance(value, dict):
            return {k: mask(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    try:
        return mask(json.loads(answer))
    except ValueError:
        return answer


def volatile(key: str, value: Any) -> bool:
    if key in VOLATILE or key.endswith("_at"):
        return True
    if key == "code":  # an OTP's code differs each time; an error's code does not
        return isinstance(value, str) and value.isdigit()
    return kind_of(key, "records") is not None  # an id of any kind


@dataclass
class Sent:
    """One step sent again: the new status and answer."""

    status: int
    answer: str


def replay(
    check: dict, base_url: str, tokens: dict[str, str], write=print, client: httpx.Client | None = None
) -> int:
    """Sends ``check``'s steps to ``base_url``, prints each with its recorded and new status, and judges:
    1 when the recorded failure happened again, 0 when not."""
    steps = check.get("steps") or []
    if not steps:
        raise ReplayError(f"{check['nodeid']} failed before sending a request: there is nothing to replay")
    for step in steps:  # before a first request is sent
        if not step["body_kept"]:
            raise ReplayError(
                f"step {step['step']} sent a body of {step['body_bytes']:,} bytes, more than the report keeps: "
                "this failure cannot be replayed from the report; rerun its check"
            )
        for variable, value in tokens.items():
            if not value and step["headers"].get("authorization") == f"Bearer ${variable}":
                option = "--" + variable.removeprefix("WACR_").lower().replace("_", "-")
                raise ReplayError(f"step {step['step']} needs ${variable}: pass {option} or set {variable}")
    client = client or bounded_client()
    base = base_url.rstrip("/")
    root = base.removesuffix("/api/v2")
    answers: dict[int, Any] = {}

    def new_value(use: dict) -> Any:
        value: Any = answers.get(use["step"])
        try:
            for key in use["from"]:
                value = value[key]
        except (KeyError, IndexError, TypeError):
            return use["value"]  # the earlier answer lacks it now: the recorded value is the best guess
        return value

    write(f"Replaying {check['nodeid']} ({len(steps)} requests) against {base}")
    differs: list[int] = []
    sent = Sent(0, "")
    for step in steps:
        url = rebuilt_url(step["url"], step["uses"], new_value)
        url = url.replace(ROOT, root, 1) if url.startswith(ROOT) else url.replace(API, base, 1)
        headers = dict(step["headers"])
        for variable, value in tokens.items():
            if headers.get("authorization") == f"Bearer ${variable}":
                headers["authorization"] = f"Bearer {value}"
        for use in step["uses"]:
            if use["in"] == "header":
                headers["authorization"] = f"Bearer {new_value(use)}"
        content = (
            base64.b64decode(step["body"])
            if step["body_encoding"] == "base64"
            else rebuilt_body(step, new_value).encode()
        )
        sent = send(client, step["method"], url, headers, content, step["status"])
        try:
            answers[step["step"]] = json.loads(sent.answer)
        except ValueError:
            answers[step["step"]] = None
        same = sent.status == step["status"]
        differs += [] if same else [step["step"]]
        shown = urlsplit(url).path.removeprefix(urlsplit(base).path) or "/"
        write(
            f"{step['step']:>4}. {step['method']:<6} {shown:<40} recorded {step['status']}  now {sent.status}"
            + ("" if same else "  <- differs")
        )
    last = steps[-1]
    if differs:
        first = next(s for s in steps if s["step"] == differs[0])
        write(
            f"not reproduced: {len(differs)} of {len(steps)} requests answered another status, the first at "
            f"step {first['step']} ({first['method']} {first['url']}: recorded {first['status']})"
        )
        return 0
    if last["answer_complete"] and masked(last["answer"]) != masked(sent.answer):
        write(
            f"not reproduced: every status matched, but the last answer differs: recorded "
            f"{last['answer'][:300]!r}, now {sent.answer[:300]!r}"
        )
        return 0
    write(f"reproduced: all {len(steps)} requests answered as recorded, the last one with the same answer")
    return 1


def send(client: httpx.Client, method: str, url: str, headers: dict, content: bytes, recorded: int) -> Sent:
    """One request; a 429 the report did not record is waited out (Retry-After), as the suite does."""
    for _ in range(RETRY_LIMIT):
        try:
            response = client.request(method, url, headers=headers, content=content or None)
        except httpx.HTTPError as exc:
            return Sent(0, f"(no answer: {type(exc).__name__}: {exc})")
        if response.status_code != 429 or recorded == 429:
            break
        time.sleep(min(retry_after_seconds(response), 60))
    return Sent(response.status_code, response.text)


def failure_record(journal: Journal, base_url: str, tokens: dict[str, str]) -> tuple[list[dict], str]:
    """A failed check's steps, as the report keeps them, and the script that replays them."""
    steps = report_steps(journal.steps, base_url, tokens)
    return steps, script(steps)
