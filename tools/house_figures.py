"""Print the figures that show the shape of the house: module sizes, function lengths, views
that run SQL or catch service errors, template globals, and imports against the one-way rule.

    python tools/house_figures.py          # the figures, one per line
    python tools/house_figures.py --list   # and where each count comes from

A "view module" is a module of a blueprint package (app/<feature>/, not services or models).
"Views with SQL" are view-module functions that reach the database themselves: a
`db.session` call other than commit/rollback, `db.paginate`, or a `select(...)` built there.
"Except blocks in views" catch a service error by hand (ValidationError, ConflictError,
DomainError, RowErrors) in a view module. Template globals are functions, values or context
processors that a blueprint or the factory hands to every template; filters are counted apart.
"""

from __future__ import annotations

import ast
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from import_cycles import cycles, graph, module_name  # noqa: E402

SERVICE_ERRORS = {"ValidationError", "ConflictError", "DomainError", "RowErrors"}
SESSION_WRITES = {"commit", "rollback", "flush", "add", "delete"}
GLOBAL_MARKERS = {
    "app_template_global",
    "add_app_template_global",
    "app_context_processor",
    "context_processor",
}
FILTER_MARKERS = {"app_template_filter", "add_app_template_filter", "template_filter"}


@dataclass
class Figures:
    module_lines: dict[str, int] = field(default_factory=dict)
    function_lines: list[int] = field(default_factory=list)
    view_lines: list[int] = field(default_factory=list)
    views_with_sql: list[str] = field(default_factory=list)
    view_excepts: list[str] = field(default_factory=list)
    view_rollbacks: list[str] = field(default_factory=list)
    template_globals: list[str] = field(default_factory=list)
    template_filters: list[str] = field(default_factory=list)
    wrong_way_imports: list[str] = field(default_factory=list)
    import_cycles: list[list[str]] = field(default_factory=list)


INFRA = {"app.extensions", "app.database"}
WEB = {
    "app.forms",
    "app.errors",
    "app.request_input",
    "app.security",
    "app.access",
    "app.downloads",
}


def layer(module: str) -> str:
    """core, infra, models, policy, services, cli (and the demo loader), web, view or top (the
    factory and the worker)."""
    parts = module.split(".")
    if parts[1:2] == ["core"]:
        return "core"
    if module in INFRA or parts[1:2] == ["infra"]:
        return "infra"
    if module in WEB:
        return "web"
    if len(parts) > 1 and parts[1] in {"models", "services", "policy"}:
        return parts[1]
    if module == "app.cli" or parts[-1] == "cli" or parts[1:2] == ["demo"]:
        return "cli"
    if len(parts) > 2 or (len(parts) == 2 and (ROOT / "app" / parts[1]).is_dir()):
        return "view"
    return "top"


# What each layer may import (STYLE: views → services → policy → models; the CLI never views).
# core (domain errors, signals) is the vocabulary every layer speaks and imports nothing else.
BELOW_SERVICES = {"policy", "models", "infra", "core"}
ALLOWED = {
    "core": {"core"},
    "infra": {"infra", "models", "core"},
    "models": {"models", "infra", "core"},
    "policy": {"policy", "models", "infra", "core"},
    "services": {"services", *BELOW_SERVICES},
    "cli": {"cli", "services", *BELOW_SERVICES},
    "web": {"web", "services", *BELOW_SERVICES},
    "view": {"view", "web", "services", *BELOW_SERVICES},
    "top": {"top", "view", "web", "cli", "services", *BELOW_SERVICES},
}


def _is_route(node: ast.FunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "route"
        for d in node.decorator_list
    )


def _runs_sql(node: ast.AST) -> bool:
    for inner in ast.walk(node):
        if not isinstance(inner, ast.Call):
            continue
        func = inner.func
        if isinstance(func, ast.Name) and func.id == "select":
            return True
        if not isinstance(func, ast.Attribute):
            continue
        owner = ast.unparse(func.value)
        if owner == "db.session" and func.attr not in SESSION_WRITES:
            return True
        if owner == "db" and func.attr in {"paginate", "select"}:
            return True
    return False


def _catches_service_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return False
    names = {n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)}
    return bool(names & SERVICE_ERRORS)


def _marker(node: ast.AST) -> str | None:
    """The name of a blueprint/app method a node calls or decorates with, if any."""
    if isinstance(node, ast.Call):
        node = node.func
    return node.attr if isinstance(node, ast.Attribute) else None


def _measure_view_node(figures: Figures, node: ast.AST, where: str) -> None:
    if isinstance(node, ast.FunctionDef):
        if _is_route(node):
            figures.view_lines.append(node.end_lineno - node.lineno + 1)
        if _runs_sql(node):
            figures.views_with_sql.append(f"{where}:{node.lineno} {node.name}")
    elif isinstance(node, ast.ExceptHandler) and _catches_service_error(node):
        figures.view_excepts.append(f"{where}:{node.lineno}")
    elif (
        isinstance(node, ast.Call)
        and _marker(node) == "rollback"
        and ast.unparse(node.func.value) == "db.session"
    ):
        figures.view_rollbacks.append(f"{where}:{node.lineno}")


def _measure_template_hooks(figures: Figures, node: ast.AST, where: str) -> None:
    """Calls like bp.add_app_template_global(...) and decorators like @bp.app_template_global()
    or @bp.app_context_processor (a decorator call is counted once, as its call)."""
    hooks = [node] if isinstance(node, ast.Call) else []
    hooks += [d for d in getattr(node, "decorator_list", []) if isinstance(d, ast.Attribute)]
    for hook in hooks:
        if _marker(hook) in GLOBAL_MARKERS:
            figures.template_globals.append(f"{where}:{hook.lineno}")
        elif _marker(hook) in FILTER_MARKERS:
            figures.template_filters.append(f"{where}:{hook.lineno}")
    if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]).startswith(
        "app.jinja_env.globals["
    ):
        figures.template_globals.append(f"{where}:{node.lineno}")


def measure(root: Path = ROOT) -> Figures:
    figures = Figures()
    for path in sorted((root / "app").rglob("*.py")):
        text = path.read_text()
        where = str(path.relative_to(root))
        figures.module_lines[where] = len(text.splitlines())
        is_view = layer(module_name(path)) == "view"
        for node in ast.walk(ast.parse(text, where)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                figures.function_lines.append(node.end_lineno - node.lineno + 1)
            if is_view:
                _measure_view_node(figures, node, where)
            _measure_template_hooks(figures, node, where)
    edges = graph()
    figures.wrong_way_imports = sorted(
        f"{source} -> {target}"
        for source, targets in edges.items()
        for target in targets
        if layer(target) not in ALLOWED[layer(source)]
    )
    figures.import_cycles = cycles(edges)
    return figures


def _quantile(values: list[int], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def report(figures: Figures, *, detail: bool) -> list[str]:
    sizes = sorted(figures.module_lines.items(), key=lambda item: -item[1])
    lines = [
        f"modules: {len(sizes)}; over 400 lines: {sum(n > 400 for _, n in sizes)}; "
        f"over 600: {sum(n > 600 for _, n in sizes)}",
        "largest: " + ", ".join(f"{p.removeprefix('app/')} {n}" for p, n in sizes[:5]),
        f"function length: median {statistics.median(figures.function_lines):g}, "
        f"p90 {_quantile(figures.function_lines, 0.9):g} ({len(figures.function_lines)} functions)",
        f"route views: median {statistics.median(figures.view_lines):g}, "
        f"p90 {_quantile(figures.view_lines, 0.9):g} ({len(figures.view_lines)} views)",
        f"view functions with SQL: {len(figures.views_with_sql)}",
        f"except blocks for service errors in views: {len(figures.view_excepts)}",
        f"manual rollbacks in views: {len(figures.view_rollbacks)}",
        f"template globals: {len(figures.template_globals)}; "
        f"filters: {len(figures.template_filters)}",
        f"imports against the one-way rule: {len(figures.wrong_way_imports)}",
        f"import cycles: {len(figures.import_cycles)}",
    ]
    if detail:
        for title, items in (
            ("views with SQL", figures.views_with_sql),
            ("except blocks in views", figures.view_excepts),
            ("template globals", figures.template_globals),
            ("wrong-way imports", figures.wrong_way_imports),
            ("cycles", [" ".join(c) for c in figures.import_cycles]),
        ):
            lines.append(f"\n{title}:")
            lines.extend(f"  {item}" for item in items)
    return lines


if __name__ == "__main__":
    print("\n".join(report(measure(), detail="--list" in sys.argv)))
