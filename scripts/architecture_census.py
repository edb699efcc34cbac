"""Numbers on the code's shape: the largest module and function, import cycles, private-name imports.

    python scripts/architecture_census.py [ROOT]

Counts ``mockserver`` and ``contract_tests`` under ROOT (default: this checkout). An import cycle is
a strongly connected component of more than one module in the graph of every import statement,
those inside functions and those under ``if TYPE_CHECKING:`` included: a type-only import still
ties the two modules together (neither can be read, typed or moved without the other). A
private-name use is ``from X import _name`` from another project module, or ``obj._name`` on
anything but ``self``/``cls``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = ("mockserver", "contract_tests")


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def function_level_imports(tree: ast.Module) -> list[str]:
    """Imports inside a function body, as ``function: module``."""
    found = []
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    found.append(f"{function.name}: {module}")
    return found


def imports(name: str, tree: ast.Module, known: dict[str, Path]) -> tuple[set[str], set[str]]:
    """The project modules ``name`` imports, and the private names it takes from them."""
    targets: set[str] = set()
    private: set[str] = set()
    package = name if known[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:
                    targets.add(full)
                elif base in known:
                    targets.add(base)
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.add(f"{base}.{alias.name}")
    for node in ast.walk(tree):
        # ``MockCore._dispatch = ...`` or ``core._validate``: a private name reached through another object.
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            private.add(f"{ast.unparse(node.value)}.{node.attr}")
    targets.discard(name)
    return targets, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one member."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete loop through ``component``'s first module, as ``[a, b, ..., a]`` (shortest first)."""
    members = set(component)
    start = component[0]
    paths = {nxt: [start, nxt] for nxt in sorted(graph[start] & members)}
    queue = list(paths)
    while queue:
        node = queue.pop(0)
        if node == start:
            return paths[node]
        for nxt in sorted(graph[node] & members):
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return component


def census(root: Path) -> dict:
    known = modules(root)
    graph: dict[str, set[str]] = {}
    private: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    lazy: dict[str, list[str]] = {}
    functions: list[tuple[int, str]] = []
    for name, path in known.items():
        source = path.read_text()
        tree = ast.parse(source)
        sizes[name] = len(source.splitlines())
        graph[name], taken = imports(name, tree, known)
        if taken:
            private[name] = taken
        lazy[name] = function_level_imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                functions.append(
                    (node.end_lineno - node.lineno + 1, f"{name}.{node.name} ({type(node).__name__[:-3]})")
                )
    largest_module = max(sizes.items(), key=lambda item: item[1])
    defs = [item for item in functions if not item[1].endswith("(Class)")]
    classes = [item for item in functions if item[1].endswith("(Class)")]
    return {
        "largest_module": largest_module,
        "largest_function": max(defs, default=(0, "-")),
        "largest_class": max(classes, default=(0, "-")),
        "cycles": [cycle_path(graph, component) for component in cycles(graph)],
        "cycle_members": cycles(graph),
        "private_imports": private,
        "function_level_imports": {name: found for name, found in lazy.items() if found},
        "graph": graph,
    }


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    result = census(root)
    module, lines = result["largest_module"]
    print(f"largest module:   {module} ({lines} lines)")
    print(f"largest function: {result['largest_function'][1]} ({result['largest_function'][0]} lines)")
    print(f"largest class:    {result['largest_class'][1]} ({result['largest_class'][0]} lines)")
    print(f"import cycles:    {len(result['cycles'])}")
    for loop, members in zip(result["cycles"], result["cycle_members"], strict=True):
        print(f"  {' -> '.join(loop)} ({len(members)} modules tied: {', '.join(members)})")
    print(f"files using private names of another module or object: {len(result['private_imports'])}")
    for name, taken in sorted(result["private_imports"].items()):
        print(f"  {name}: {', '.join(sorted(taken))}")
    lazy = result["function_level_imports"]
    print(f"modules with function-level imports: {len(lazy)}")
    for name, found in sorted(lazy.items()):
        print(f"  {name}: {'; '.join(found)}")


if __name__ == "__main__":
    main()
