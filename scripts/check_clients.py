"""Generates typed clients from openapi.yaml and fails unless every operation gets a typed answer.

Users generate clients from the spec; a schema a generator cannot read is dropped with a warning,
and the operations answering it lose their response type. Two generators are checked:

- ``python``: openapi-python-client. Fails on any line it prints besides "Generating ...", and
  unless every operation's module parses each 2xx JSON answer into a model class whose ``data``
  (where it has one) is neither ``Any`` nor optional (``Unset``): every envelope requires it.
- ``typescript``: openapi-typescript, then ``tsc --strict --noEmit`` on ``clients/check.ts`` and on
  an assertion per operation and 2xx status that its JSON body, and its ``data``, are neither
  ``any``, ``unknown``, ``never`` nor possibly ``undefined``. Fails on any line openapi-typescript
  prints besides its progress. Needs ``--node-bin``, the folder holding both npm binaries.

The operations are read from the spec, so a new one is checked without editing this script.
Everything is generated into a temporary folder, never into the repository.

    python scripts/check_clients.py python typescript --node-bin .tox/npm/node_modules/.bin
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Only the inspection needs the generated code, not its formatting: without the ruff post-hooks the
# run is faster and prints no "ruff is not in PATH" line where ruff is not installed.
PYTHON_CONFIG = "post_hooks: []\n"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    statuses: tuple[int, ...]  # the 2xx statuses with a JSON body


def operations(spec: Path) -> list[Operation]:
    # libyaml's loader, where PyYAML has it, reads the spec five times faster than the pure-Python one.
    document = yaml.load(
        spec.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    found = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            statuses = tuple(
                sorted(
                    int(status)
                    for status, response in op.get("responses", {}).items()
                    if str(status).isdigit()
                    and 200 <= int(status) < 300
                    and "application/json" in (response.get("content") or {})
                )
            )
            found.append(Operation(op["operationId"], method, path, statuses))
    return found


def path_shape(path: str) -> str:
    """``/contacts/{id}`` -> ``/contacts/{}``: the generator may rename path parameters."""
    return re.sub(r"\{[^}]*\}", "{}", path)


# --- openapi-python-client ----------------------------------------------------------------------


def run_python_generator(spec: Path, work: Path) -> tuple[list[str], Path]:
    """Generator output lines that are not progress (its warnings), and the generated package."""
    config = work / "openapi-python-client.yaml"
    config.write_text(PYTHON_CONFIG, encoding="utf-8")
    package = work / "client"
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(spec),
        "--output-path",
        str(package),
        "--meta",
        "none",
        "--config",
        str(config),
        "--overwrite",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines()]
    warnings = [line for line in lines if line and not line.startswith("Generating ")]
    if result.returncode != 0:
        warnings.append(f"openapi-python-client exited with status {result.returncode}")
    return warnings, package


def _request_of(tree: ast.Module) -> tuple[str, str] | None:
    """(method, url template) from the module's ``_get_kwargs``."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Dict) and node.keys):
            continue
        entries = {
            k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)
        }
        method, url = entries.get("method"), entries.get("url")
        if isinstance(url, ast.Call) and isinstance(url.func, ast.Attribute) and url.func.attr == "format":
            url = url.func.value
        if isinstance(method, ast.Constant) and isinstance(url, ast.Constant):
            return str(method.value), str(url.value)
    return None


def _parsed_models(tree: ast.Module) -> dict[int, str]:
    """Status -> the model class ``_parse_response`` builds for it with ``Model.from_dict``."""
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and ".models" in f".{node.module or ''}"
        for alias in node.names
    }
    parse = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_parse_response"), None
    )
    models: dict[int, str] = {}
    for node in ast.walk(parse) if parse else ():
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)):
            continue
        status = node.test.comparators[0]
        if not (ast.unparse(node.test.left) == "response.status_code" and isinstance(status, ast.Constant)):
            continue
        first = node.body[0]
        call = first.value if isinstance(first, ast.Assign) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "from_dict"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in imported
        ):
            models[int(status.value)] = call.func.value.id
    return models


def _data_annotations(package: Path) -> dict[str, str]:
    """Model class -> the annotation of its ``data`` attribute (models without one are left out)."""
    found = {}
    for module in (package / "models").glob("*.py"):
        for node in ast.parse(module.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if isinstance(stmt, ast.AnnAssign) and ast.unparse(stmt.target) == "data":
                        found[node.name] = ast.unparse(stmt.annotation)
    return found


def check_python(spec: Path, ops: list[Operation], work: Path) -> list[str]:
    warnings, package = run_python_generator(spec, work)
    problems = [f"openapi-python-client: {line}" for line in warnings]
    modules = {}
    for module in (package / "api").glob("*/*.py"):
        if module.name == "__init__.py":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        request = _request_of(tree)
        if request is None:
            problems.append(f"{module.relative_to(package)}: no request method and URL found")
            continue
        modules[(request[0], path_shape(request[1]))] = (module, _parsed_models(tree))
    data_types = _data_annotations(package)
    typed = 0
    for op in ops:
        entry = modules.get((op.method, path_shape(op.path)))
        if entry is None:
            problems.append(f"{op.operation_id}: no module generated for {op.method.upper()} {op.path}")
            continue
        module, models = entry
        missing = [s for s in op.statuses if s not in models]
        untyped = [
            f"{s} ({models[s]}.data: {data_types[models[s]]})"
            for s in op.statuses
            if s in models and re.search(r"\b(Any|Unset)\b", data_types.get(models[s], ""))
        ]
        if not op.statuses:
            problems.append(f"{op.operation_id}: the spec gives no 2xx JSON answer to check")
        elif missing or untyped:
            what = ", ".join(
                [f"{s} parsed without a model" for s in missing] + [f"{u} untyped" for u in untyped]
            )
            problems.append(f"{op.operation_id} ({module.relative_to(package)}): {what}")
        else:
            typed += 1
    headed = sum(1 for line in warnings if line.startswith(("WARNING", "Unable to process")))
    print(
        f"openapi-python-client: {headed} warnings ({len(warnings)} lines); {typed} of {len(ops)} "
        f"operations have a typed response model for every 2xx answer"
    )
    return problems


# --- openapi-typescript + tsc --------------------------------------------------------------------

# Its two progress lines, "✨ openapi-typescript 7.13.0" and "🚀 spec → output [412ms]"; anything else is a warning.
TS_PROGRESS = re.compile(r"^(✨ openapi-typescript \d[\w.-]*|🚀 .+ → .+ \[[\d.]+m?s\])$")

TS_ASSERTIONS_HEAD = """\
// Generated by scripts/check_clients.py from openapi.yaml: one line per operation and 2xx status.
import type { operations } from "./api";

type JsonBody<Op extends keyof operations, Status extends keyof operations[Op]["responses"]> =
  operations[Op]["responses"][Status] extends { content: { "application/json": infer Body } } ? Body : never;
type IsAny<T> = 0 extends 1 & T ? true : false;
// Neither any, unknown nor never.
type Known<T> = IsAny<T> extends true ? false : unknown extends T ? false : [T] extends [never] ? false : true;
// A body is typed when it is Known and its `data`, and the items of a `data` array, are Known too;
// `data` may not be undefined either: every envelope requires it.
type Items<T> = [T] extends [readonly (infer Item)[]] ? Known<Item> : true;
type DataTyped<T> = [T] extends [{ data: infer Data }]
  ? (undefined extends Data ? false : Known<Data> extends true ? Items<Data> : false)
  : true;
type Typed<T> = Known<T> extends true ? DataTyped<T> : false;

"""


def typescript_assertions(ops: list[Operation]) -> str:
    lines = [TS_ASSERTIONS_HEAD]
    for op in ops:
        for status in op.statuses:
            lines.append(
                f'export const {op.operation_id}_{status}: Typed<JsonBody<"{op.operation_id}", {status}>> = true;\n'
            )
    return "".join(lines)


def typescript_assertion_names(ops: list[Operation]) -> list[str]:
    """What each line of ``typescript_assertions`` checks, by line (``""`` for the head)."""
    head = [""] * TS_ASSERTIONS_HEAD.count("\n")
    return head + [f"{op.operation_id} {status}" for op in ops for status in op.statuses]


def check_typescript(spec: Path, ops: list[Operation], work: Path, node_bin: Path) -> list[str]:
    tools = {name: shutil.which(name, path=str(node_bin)) for name in ("openapi-typescript", "tsc")}
    absent = [name for name, found in tools.items() if found is None]
    if absent:
        return [f"not found in {node_bin}: {', '.join(absent)}"]
    generated = subprocess.run(
        [tools["openapi-typescript"], str(spec), "--output", str(work / "api.d.ts")],
        capture_output=True,
        text=True,
        check=False,
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", generated.stdout + generated.stderr)  # colours, where forced
    warnings = [
        line.strip() for line in output.splitlines() if line.strip() and not TS_PROGRESS.match(line.strip())
    ]
    problems = [f"openapi-typescript: {line}" for line in warnings]
    if generated.returncode != 0:
        return [*problems, f"openapi-typescript exited with status {generated.returncode}"]
    shutil.copy(ROOT / "clients" / "check.ts", work / "check.ts")
    (work / "operations.ts").write_text(typescript_assertions(ops), encoding="utf-8")
    # The checks need no DOM types; leaving that library out halves the compile time.
    compiled = subprocess.run(
        [
            tools["tsc"],
            "--strict",
            "--noEmit",
            "--noUncheckedIndexedAccess",
            "--target",
            "es2022",
            "--lib",
            "es2022",
            "--module",
            "esnext",
            "--moduleResolution",
            "bundler",
            "check.ts",
            "operations.ts",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in compiled.stdout.splitlines() if ": error TS" in line]
    # An assertion line fails as "Type 'true' is not assignable to type 'false'"; name its answer instead.
    assertion_lines = {f"{number}": name for number, name in enumerate(typescript_assertion_names(ops), 1)}
    failing = set()
    for line in errors:
        where = re.match(r"operations\.ts\((\d+),", line)
        if where and where.group(1) in assertion_lines:
            failing.add(where.group(1))
            problems.append(
                f"tsc: {assertion_lines[where.group(1)]}: the JSON body or its `data` is any, unknown, "
                f"never or possibly undefined ({line})"
            )
        else:
            problems.append(f"tsc: {line}")
    if compiled.returncode != 0 and not errors:
        problems.append(f"tsc exited with status {compiled.returncode}: {compiled.stdout}{compiled.stderr}")
    asserted = sum(len(op.statuses) for op in ops)
    print(
        f"openapi-typescript: {len(warnings)} warning lines; tsc --strict: {len(errors)} errors; "
        f"{asserted - len(failing)} of {asserted} 2xx answers of {len(ops)} operations typed"
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("generators", nargs="+", choices=("python", "typescript"))
    parser.add_argument("--spec", type=Path, default=ROOT / "openapi.yaml")
    parser.add_argument("--node-bin", type=Path, help="folder with the openapi-typescript and tsc binaries")
    args = parser.parse_args(argv)
    if "typescript" in args.generators and args.node_bin is None:
        parser.error("typescript needs --node-bin")
    spec = args.spec.resolve()
    ops = operations(spec)
    with tempfile.TemporaryDirectory(prefix="wacr-clients-") as tmp:
        jobs = {}
        # The two generators are independent; run side by side, the lint env waits for the slower only.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for name in dict.fromkeys(args.generators):
                work = Path(tmp) / name
                work.mkdir()
                if name == "python":
                    jobs[name] = pool.submit(check_python, spec, ops, work)
                else:
                    jobs[name] = pool.submit(check_typescript, spec, ops, work, args.node_bin.resolve())
        problems = [problem for job in jobs.values() for problem in job.result()]
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
