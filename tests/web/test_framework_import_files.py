"""The import page with files Rungs must refuse (a 400 naming the problem, nothing stored) and
with a Monzo page; the format documents it links to."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CellStatus, Expectation, Framework, Indicator, IndicatorKind
from tests.factories import sign_in
from tests.framework_samples import MONZO_PROBLEM_LINES, MONZO_PROBLEMS, framework_yaml
from tests.services.test_framework_csv import QA_FILE, keyed_csv
from tests.services.test_framework_file_safety import ALIAS_BOMB, MONZO, PNG, SCRIPT, TABLES

REFUSED = [
    ("aliases.yaml", (ALIAS_BOMB + "slug: *a6\n").encode(), "the anchor &amp;a0 is not allowed"),
    (
        "twice.yaml",
        (framework_yaml() + "slug: other\n").encode(),
        "appears twice in the same mapping (first on line 2)",
    ),
    ("key.yaml", (framework_yaml() + "[a, b]: x\n").encode(), "a key must be plain text"),
    (
        "tag.yaml",
        framework_yaml().replace("name: Sample", "name: !foo Sample").encode(),
        "the tag !foo is not supported",
    ),
    (
        "deep.yaml",
        (framework_yaml() + "description: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
        "nests deeper than 20 levels",
    ),
    (
        "rank.yaml",
        framework_yaml().replace("rank: 2", "rank: 18446744073709551617").encode(),
        "18446744073709551617 is not between 0 and 1000",
    ),
    (
        "nul.yaml",
        framework_yaml().replace("name: Sample", 'name: "Sam\\0ple"').encode(),
        "name</code>: contains a control character (U+0000",
    ),
    (
        "latin1.yaml",
        framework_yaml().replace("Sample", "Sampl\xe9").encode("latin-1"),
        "the file is not UTF-8 text",
    ),
    ("content.md", b"---\ntopics:\n  - name: a\n    content: 7\n---\n", "must be a list"),
    ("levels.js", SCRIPT.encode(), "is not in a format Rungs can import"),
    ("chart.png", PNG, "is not in a format Rungs can import"),
    ("tables.md", TABLES.encode(), "is not a Monzo progression-framework page"),
]


@pytest.fixture
def head(client, org):
    sign_in(client, org.head)
    return client


def upload(client, data: bytes, filename: str):
    form = {"file": (io.BytesIO(data), filename)}
    return client.post_form("/frameworks/import", form, content_type="multipart/form-data")


def frameworks(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Framework)).scalar_one()


@pytest.mark.parametrize(("filename", "data", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_file_rungs_must_refuse_gets_a_400_saying_why_and_stores_nothing(
    app, head, filename, data, message
):
    response = upload(head, data, filename)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "nothing was imported" in page
    assert message in page, page[page.find('id="problems"') :][:1500]
    assert frameworks(app) == 0


def test_an_unsupported_file_is_told_the_formats_and_where_they_are_described(head):
    page = upload(head, SCRIPT.encode(), "levels.js").get_data(as_text=True)
    assert "not valid YAML" not in page
    assert html.escape("Rungs reads a Rungs YAML file (.yaml or .yml)") in page
    for name in ("rungs-yaml", "monzo", "csv"):
        assert f'href="/frameworks/formats/{name}.md"' in page


@pytest.mark.parametrize(
    ("name", "heading"),
    [("rungs-yaml", "# The framework file format"), ("monzo", "# Monzo progression frameworks")],
)
def test_the_format_documents_are_served_as_text(head, name, heading):
    response = head.get(f"/frameworks/formats/{name}.md")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith(heading)
    assert head.get("/frameworks/formats/secrets.md").status_code == 404


def test_a_monzo_page_imports_with_one_indicator_per_criterion(app, head):
    response = upload(head, MONZO.encode(), "web.md")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        framework = db.session.execute(select(Framework)).scalar_one()
        assert framework.slug == "web"
        statuses = db.session.execute(select(Expectation.status)).scalars().all()
        assert sorted(s.value for s in statuses) == sorted(
            [CellStatus.DEFINED.value] * 2
            + [CellStatus.EMPTY.value]
            + [CellStatus.NOT_APPLICABLE.value] * 3
        )
        criteria = db.session.execute(
            select(Indicator.text).where(Indicator.kind == IndicatorKind.CRITERION)
        ).scalars()
        assert sorted(criteria) == [
            "Listens actively",
            "Owns a metric",
            "Ships small changes weekly",
            "Writes clear updates",
        ]
    page = head.get("/frameworks/web/v1/").get_data(as_text=True)
    assert "How web engineers grow at Monzo." in page


def test_a_file_with_two_independent_problems_lists_both(app, head):
    text = (
        framework_yaml(levels=3)
        .replace("name: Sample\n", "name: Sample\nname: Sample again\n", 1)
        .replace("delegation: 3", "delegation: 9")
    )
    response = upload(head, text.encode(), "two-problems.yaml")
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "2 errors in the file" in page
    assert "appears twice in the same mapping (first on line 3); keep one" in page
    assert "9 is not between 1 (tell) and 7 (delegate)" in page
    assert "every problem is listed with its line" not in page  # the claim says what it does
    assert frameworks(app) == 0


def test_a_monzo_page_with_several_problems_lists_them_all_and_stores_nothing(app, head):
    response = upload(head, MONZO_PROBLEMS.encode(), "web.md")
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "5 errors found; nothing was imported." in page
    assert "<h2>5 errors in the file</h2>" in page
    for line in MONZO_PROBLEM_LINES:
        assert f'<span class="line">Line {line}</span>' in page
    assert "0 is not a level (in Communication)" in page
    assert '"communication" is used twice' in page
    assert "more error" not in page
    assert frameworks(app) == 0


def test_a_csv_row_with_two_bad_fields_lists_both_by_line_and_column(app, head):
    response = upload(head, keyed_csv(*QA_FILE).encode(), "qa.csv")
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "<h2>2 errors in the file</h2>" in page
    assert (
        '<span class="line">Line 7, column <code>role</code>:</span> "boss" is not one of '
        "driver, approver, contributor, informed"
    ) in page
    assert (
        '<span class="line">Line 7, column <code>delegation</code>:</span> 9 is not between '
        "1 (tell) and 7 (delegate)"
    ) in page
    assert "tracks[" not in page and "areas[" not in page  # no path inside the document
    assert frameworks(app) == 0


def test_a_file_with_more_than_fifty_problems_lists_fifty_and_counts_the_rest(app, head):
    header = "track,level_code,level_title,level_rank,area,competency,competency_description,"
    rows = "".join(f"IC,PM{n},PM {n},{n},Craft,Research,,maybe,,Text.\n" for n in range(1, 56))
    response = upload(head, (header + "status,indicator_kind,text\n" + rows).encode(), "x.csv")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "55 errors in the file" in page
    assert page.count('<span class="line">') == 50
    assert "… and 5 more errors. The first 50 are listed" in page
    assert frameworks(app) == 0
