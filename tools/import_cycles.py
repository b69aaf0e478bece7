"""Print the import cycles among the modules of app/ (module-level and function-level imports).

    python tools/import_cycles.py            # every cycle under app/
    python tools/import_cycles.py app.services

An edge A -> B means A imports B anywhere in its body (a function-level import still ties the two
modules together, it only defers the tie). `from P import name` counts as an import of P.name when
that is a module, else of P. A package's __init__ that a module is imported through is not an
edge: `import app.services.jobs.store` runs app/services/jobs/__init__.py, but the cycles that
matter for design are between the modules that name each other. Cycles are the strongly connected
components of the graph (Tarjan), each printed with one loop through it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / "app").rglob("*.py")}
    edges: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            else:
                continue
            edges[name].update(t for t in targets if t in files and t != name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def loop(edges: dict[str, set[str]], members: list[str]) -> list[str]:
    """One path from the first member back to itself, inside the component (breadth first)."""
    inside = set(members)
    start = members[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(edges[node] & inside):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return members


def main(prefix: str = "app") -> int:
    edges = graph()
    shown = [c for c in cycles(edges) if any(m.startswith(prefix) for m in c)]
    for component in shown:
        print(f"{len(component)} modules: " + " -> ".join(loop(edges, component)))
    print(f"{len(shown)} import cycle(s) touching {prefix}")
    return 1 if shown else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
