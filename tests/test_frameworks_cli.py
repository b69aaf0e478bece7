"""`flask frameworks validate` and `import` with files Rungs must refuse: a message and exit
code 1, never a traceback, nothing stored; and a Monzo page that imports."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Framework
from tests.framework_samples import CSV_PROBLEM_LINES, csv_problems
from tests.services.test_framework_file_safety import ALIAS_BOMB, MONZO, SCRIPT
from tests.web.test_framework_import_files import REFUSED


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["frameworks", *args])


def frameworks(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Framework)).scalar_one()


@pytest.mark.parametrize("command", ["validate", "import"])
@pytest.mark.parametrize(("filename", "data", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_file_rungs_must_refuse_exits_1_with_the_problem(
    app, tmp_path, command, filename, data, message
):
    path = tmp_path / filename
    path.write_bytes(data)
    result = run(app, command, str(path))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert f"Error: {path}: " in result.output and "nothing was imported" in result.output
    assert message.replace("&amp;", "&").replace("</code>", "") in result.output
    assert frameworks(app) == 0


def test_the_alias_file_is_refused_with_its_line(app, tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text(ALIAS_BOMB + "slug: *a6\n")
    result = run(app, "validate", str(path))
    assert "error: the anchor &a0 is not allowed in a framework file" in result.output
    assert "(line 1)" in result.output


def test_a_script_is_told_the_supported_formats(app, tmp_path):
    path = tmp_path / "levels.js"
    path.write_text(SCRIPT)
    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert '"levels.js" is not in a format Rungs can import. Rungs reads a Rungs YAML file' in (
        result.output
    )
    assert "not valid YAML" not in result.output


def test_a_monzo_page_imports(app, tmp_path):
    path = tmp_path / "web.md"
    path.write_text(MONZO)
    result = run(app, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported Web Engineering as version 1 (a draft)." in result.output
    assert "warning: topics[0] (level 2): the expectation of " in result.output
    assert frameworks(app) == 1


@pytest.mark.parametrize("command", ["validate", "import"])
def test_every_problem_of_a_csv_is_printed_at_once(app, tmp_path, command):
    path = tmp_path / "ladder.csv"
    path.write_text(csv_problems())
    result = run(app, command, str(path))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    lines = [int(re.search(r"\bline (\d+)", e).group(1)) for e in errors]
    assert lines == CSV_PROBLEM_LINES
    assert f"Error: {path}: 5 errors found; nothing was imported." in result.output
    assert frameworks(app) == 0


def test_past_fifty_problems_the_rest_are_counted(app, tmp_path):
    path = tmp_path / "web.md"
    topics = "".join(f"  - name: t{n}\n    content: 7\n" for n in range(53))
    path.write_text(f"---\ntopics:\n{topics}---\n")
    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert result.output.count("error: topics[") == 50
    assert "… and 3 more errors." in result.output
    assert frameworks(app) == 0
