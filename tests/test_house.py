"""The shape of the house holds: imports run one way, views stay thin, templates call no services.

The figures come from tools/house_figures.py, which prints them with `--list` to show where a
failure comes from.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import house_figures  # noqa: E402

MAX_MODULE_LINES = 600


@pytest.fixture(scope="module")
def figures() -> house_figures.Figures:
    return house_figures.measure()


def test_imports_run_one_way_without_cycles(figures):
    assert figures.import_cycles == []
    assert figures.wrong_way_imports == []


def test_no_module_is_past_the_size_that_asks_for_a_split(figures):
    too_long = {p: n for p, n in figures.module_lines.items() if n > MAX_MODULE_LINES}
    assert too_long == {}


def test_views_run_no_sql_and_leave_service_errors_to_the_form_helper(figures):
    assert figures.views_with_sql == []
    assert figures.view_excepts == []
    assert figures.view_rollbacks == []


def test_templates_get_their_data_from_the_view(figures):
    """Two things reach every template from the factory: the policy check `can`, and the base
    layout's data read once per request (app/layout.py). Everything else comes in the page's
    data from its view."""
    factory = (ROOT / "app" / "__init__.py").read_text()
    assert [g.partition(":")[0] for g in figures.template_globals] == ["app/__init__.py"] * 2
    assert 'app.jinja_env.globals["can"] = policy.can' in factory
    assert "app.context_processor(layout.inject)" in factory


def test_the_policy_package_knows_nothing_of_flask():
    for path in (ROOT / "app" / "policy").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                assert not any(n.split(".")[0].startswith("flask") for n in names), path
