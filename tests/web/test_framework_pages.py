"""The career path pages everyone reads: catalogue, matrix, level, comparison, downloads."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Framework, FrameworkVersion, Level, User
from app.policy import SYSTEM
from app.services.frameworks import csv_format, files, yaml_format
from tests.factories import sign_in
from tests.framework_samples import framework_yaml
from tests.queries import count_queries

# A small framework written to make every case of the pages visible: two tracks, a competency
# for one track only, an unwritten and a not-applicable cell, reworded and changed decisions.
CRAFTED = """\
format: rungs-framework/1
slug: crafted
name: Crafted ladder
description: A ladder made for the page tests.
tracks:
- key: ic
  name: Individual contributor
  levels:
  - code: L1
    title: Associate
    rank: 1
    summary: Learns the craft on one feature of a product.
    scope: One feature of a product.
    typical_experience: 1 year
    decision_rights:
    - decision: Order of work within a sprint
      role: driver
      delegation: 4
    - decision: Which customers to interview
      role: contributor
      delegation: 3
  - code: L2
    title: Practitioner
    rank: 2
    summary: Owns the outcomes of one feature of a product.
    scope: One feature of a product.
    typical_experience: 3 years
    decision_rights:
    - decision: Order of work within a sprint
      role: driver
      delegation: 6
    - decision: Quarterly goals of the team
      role: driver
      delegation: 4
  - code: L3
    title: Expert
    rank: 3
- key: management
  name: Management
  levels:
  - code: M1
    title: Team lead
    rank: 3
    summary: Leads a team of product managers.
areas:
- key: discovery
  name: Discovery
  description: Finding problems worth solving.
  competencies:
  - key: research
    name: Customer research
    description: Learning from customers.
    expectations:
      L1:
        status: defined
        text: Joins customer interviews and writes up what was learned within a day.
        indicators:
        - kind: criterion
          text: Six interviews this half.
        - kind: example
          text: Summarised onboarding interviews.
        - kind: signal
          text: The team reads the notes.
        - kind: measure
          text: A decision of the team cites what the interviews found.
      L2:
        status: defined
        text: Runs customer interviews and writes up what was learned within a week.
      L3:
        status: empty
      M1:
        status: not_applicable
  - key: framing
    name: Problem framing
    tracks: [ic]
    expectations:
      L1:
        status: defined
        text: States the problem before the solution.
      L2:
        status: defined
        text: States the problem before the solution.
      L3:
        status: defined
        text: Frames problems that span teams.
- key: people
  name: People
  competencies:
  - key: coaching
    name: Coaching
    tracks: [management]
    expectations:
      M1:
        status: defined
        text: Coaches product managers every week.
"""

# The next version of CRAFTED: one sentence changed (the same file again adds no version).
CRAFTED_NEXT = CRAFTED.replace("A ladder made for the page tests.", "A ladder for the page tests.")
MATRIX = "/frameworks/crafted/v1/"
ROLES = ("pm_a1", "manager_a", "head")


def import_framework(app, text: str = CRAFTED, *, publish: bool = True) -> int:
    """Store a framework file as a new version; returns its number."""
    with app.app_context():
        version, _report = files.import_text(SYSTEM, text, "yaml", publish=publish)
        db.session.commit()
        return version.number


def place(app, person, code: str, slug: str = "crafted") -> None:
    """Put a person on a level of the newest version of a framework."""
    with app.app_context():
        level_id = db.session.execute(
            select(Level.id)
            .join(FrameworkVersion, Level.version_id == FrameworkVersion.id)
            .join(Framework)
            .where(Framework.slug == slug, Level.code == code)
            .order_by(FrameworkVersion.number.desc())
            .limit(1)
        ).scalar_one()
        db.session.execute(update(User).where(User.id == person.id).values(level_id=level_id))
        db.session.commit()


def text_of(response) -> str:
    """The page's visible text, tags removed and whitespace collapsed (for phrase checks)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def crafted(app):
    return import_framework(app)


@pytest.fixture(params=ROLES)
def reader(request, client, org):
    """Signed in as each kind of reader in turn: a PM, a manager, the head of product."""
    sign_in(client, getattr(org, request.param))
    return client


@pytest.fixture
def pm(client, org):
    sign_in(client, org.pm_a1)
    return client


@pytest.fixture
def head(client, org):
    sign_in(client, org.head)
    return client


# --- the catalogue ------------------------------------------------------------------------------


def test_catalogue_shows_the_published_version_with_its_size(reader, crafted):
    page = text_of(reader.get("/frameworks/"))
    assert "Crafted ladder" in page
    assert "A ladder made for the page tests." in page
    assert "4 levels" in page and "3 competencies" in page
    assert 'href="/frameworks/crafted/v1/"' in reader.get("/frameworks/").get_data(as_text=True)


def test_drafts_are_listed_for_the_head_only_and_archived_versions_as_history(
    app, client, org, crafted
):
    import_framework(app, CRAFTED.replace("Crafted ladder", "Crafted ladder two"))  # v1 archived
    import_framework(app, publish=False)  # v3, a draft
    sign_in(client, org.head)
    head_page = client.get("/frameworks/").get_data(as_text=True)
    assert "Drafts" in head_page and 'href="/frameworks/crafted/v3/"' in head_page
    assert "Earlier versions" in head_page and 'href="/frameworks/crafted/v1/"' in head_page
    client.post_form("/logout")
    sign_in(client, org.pm_a1)
    pm_page = client.get("/frameworks/").get_data(as_text=True)
    assert "Crafted ladder two" in pm_page
    assert "/frameworks/crafted/v3/" not in pm_page and "Drafts" not in pm_page
    assert 'href="/frameworks/crafted/v1/"' in pm_page


def test_empty_catalogue_explains_and_points_the_head_to_import(app, client, org):
    sign_in(client, org.pm_a1)
    page = client.get("/frameworks/").get_data(as_text=True)
    assert "No career framework is published yet" in page
    assert "/frameworks/import" not in page
    client.post_form("/logout")
    sign_in(client, org.head)
    page = client.get("/frameworks/").get_data(as_text=True)
    assert "No career framework is published yet" in page
    assert 'href="/frameworks/import"' in page


def test_a_framework_with_only_a_draft_is_not_listed_for_others(app, pm):
    import_framework(app, publish=False)
    assert "No career framework is published yet" in pm.get("/frameworks/").get_data(as_text=True)


# --- where the head of product edits -----------------------------------------------------------

NEW_DRAFT_OF_V1 = 'action="/frameworks/crafted/v1/new-draft"'
EDITOR_OF_V2 = 'href="/frameworks/crafted/v2/edit"'


def test_the_catalogue_offers_the_head_new_import_and_a_new_draft(app, head, crafted):
    page = head.get("/frameworks/").get_data(as_text=True)
    assert 'href="/frameworks/new"' in page and "New framework" in page
    assert 'href="/frameworks/import"' in page and "Import a framework" in page
    assert NEW_DRAFT_OF_V1 in page and "Start a new draft" in text_of(head.get("/frameworks/"))
    assert 'href="/frameworks/crafted/history"' in page


def test_with_a_draft_the_catalogue_opens_it_instead_of_starting_one(app, head, crafted):
    import_framework(app, CRAFTED.replace("Learns the craft", "Learns the trade"), publish=False)
    page = head.get("/frameworks/").get_data(as_text=True)
    assert EDITOR_OF_V2 in page and "Open the draft (version 2)" in text_of(
        head.get("/frameworks/")
    )
    assert "new-draft" not in page


@pytest.mark.parametrize(
    "path", ["/frameworks/", "/frameworks/crafted/v1/", "/frameworks/crafted/history"]
)
def test_a_pm_sees_no_editing_action(app, pm, crafted, path):
    import_framework(app, CRAFTED.replace("Learns the craft", "Learns the trade"), publish=False)
    page = pm.get(path).get_data(as_text=True)
    for action in ("/frameworks/new", "/frameworks/import", "new-draft", "/edit", "Open the draft"):
        assert action not in page, action


@pytest.mark.parametrize("path", ["/frameworks/crafted/v1/", "/frameworks/crafted/history"])
def test_the_version_page_and_the_history_start_or_open_the_draft(app, head, crafted, path):
    assert NEW_DRAFT_OF_V1 in head.get(path).get_data(as_text=True)
    response = head.post_form("/frameworks/crafted/v1/new-draft")
    assert response.headers["Location"] == "/frameworks/crafted/v2/edit"
    page = head.get(path).get_data(as_text=True)
    assert EDITOR_OF_V2 in page and "new-draft" not in page
    assert "Open the draft (version 2)" in text_of(head.get(path))


def test_an_archived_version_starts_a_new_draft_from_the_published_one(app, head, crafted):
    import_framework(app, CRAFTED.replace("Crafted ladder", "Crafted ladder two"))  # v1 archived
    page = head.get("/frameworks/crafted/v1/").get_data(as_text=True)
    assert 'action="/frameworks/crafted/v2/new-draft"' in page


# --- opening a framework ------------------------------------------------------------------------


def test_framework_link_opens_the_published_version(reader, crafted):
    response = reader.get("/frameworks/crafted/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/frameworks/crafted/v1/"


def test_before_publishing_only_the_head_is_taken_to_the_draft(app, client, org):
    import_framework(app, publish=False)
    sign_in(client, org.head)
    assert client.get("/frameworks/crafted/").headers["Location"] == "/frameworks/crafted/v1/"
    client.post_form("/logout")
    sign_in(client, org.pm_a1)
    response = client.get("/frameworks/crafted/")
    assert response.status_code == 404
    assert "Crafted ladder has no published version yet." in text_of(response)


def test_unknown_framework_is_not_found_with_its_name(pm):
    response = pm.get("/frameworks/nothing-here/")
    assert response.status_code == 404
    assert 'There is no framework "nothing-here".' in text_of(response)


# --- the matrix ---------------------------------------------------------------------------------


def test_matrix_shows_levels_by_track_and_competencies_by_area(reader, crafted):
    response = reader.get(MATRIX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Levels as columns, grouped under their track, each linking to its page.
    tracks = re.findall(
        r'<th scope="colgroup" colspan="(\d)"[^>]*><span class="track-label">([^<]+)</span></th>',
        html,
    )
    assert tracks == [("3", "Individual contributor"), ("1", "Management")]
    level_links = re.findall(r'href="/frameworks/crafted/v1/levels/(\w+)"', html)
    assert level_links[:4] == ["L1", "L2", "L3", "M1"]
    # Areas as header rows, competencies as rows, in order.
    assert re.findall(
        r'<th scope="rowgroup"[^>]*>\s*<span class="area-label">\s*'
        r'<span class="area-name">([^<]+)',
        html,
    ) == ["Discovery", "People"]
    page = text_of(response)
    assert page.index("Customer research") < page.index("Problem framing") < page.index("Coaching")
    assert "Joins customer interviews and writes up what was learned within a day." in page
    assert "Not written yet" in page and "Not applicable" in page
    # Indicators fold away, by kind, and are printed from a block hidden on screen.
    details = re.search(r'<details class="indicators screen-only">(.*?)</details>', html, re.S)
    assert details is not None
    summary = text_of_fragment(details.group(1))
    # Each says which cell it opens, to a screen reader listing the page's controls.
    assert summary.startswith("Criteria, examples and signals of Customer research at L1 (3)")
    assert '<span class="visually-hidden"> of Customer research at L1</span>' in details.group(1)
    assert "Six interviews this half." in summary and "The team reads the notes." in summary
    assert '<div class="indicators print-only">' in html


def test_matrix_names_each_track_and_its_levels_above_the_table(reader, crafted):
    # The later track's columns start off-screen; a line above the table names every track.
    html = reader.get(MATRIX).get_data(as_text=True)
    guide = re.search(r'<p class="track-guide".*?</p>', html, re.S).group(0)
    assert text_of_fragment(guide) == (
        "Two tracks, side by side below: Individual contributor — "
        "L1 · Associate · L2 · Practitioner · L3 · Expert ; Management — Team lead M1 ."
    )
    assert re.findall(r'href="([^"]+)"', guide) == [
        f"/frameworks/crafted/v1/levels/{code}" for code in ("L1", "L2", "L3", "M1")
    ]
    assert 'aria-describedby="track-guide"' in html  # read with the scrolling table


def test_a_matrix_of_one_track_needs_no_guide(app, pm):
    import_framework(app, framework_yaml(slug="one", levels=3, tracks=1))
    assert 'class="track-guide"' not in pm.get("/frameworks/one/v1/").get_data(as_text=True)


def test_a_cells_measure_is_read_with_its_expectation_before_the_rest(reader, crafted):
    measure = "A decision of the team cites what the interviews found."
    matrix = text_of(reader.get(MATRIX))
    expectation = "Joins customer interviews and writes up what was learned within a day."
    # Stored last, shown first: right after the expectation, not folded with the indicators.
    summary = "Criteria, examples and signals of Customer research at L1 (3)"
    assert f"{expectation} Measure {measure} {summary}" in matrix
    level = text_of(reader.get("/frameworks/crafted/v1/levels/L1"))
    assert f"{expectation} Measure {measure} Criteria Six interviews" in level
    # One label everywhere; what a measure is, said once above the cells and in its tooltip.
    assert "its measure says how you will know it is met." in level
    assert 'title="How you will know the expectation is met">Measure</span>' in (
        reader.get("/frameworks/crafted/v1/levels/L1").get_data(as_text=True)
    )
    assert "Measure" not in text_of(reader.get("/frameworks/crafted/v1/levels/L2"))


def text_of_fragment(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_competency_of_another_track_leaves_those_cells_empty(reader, crafted):
    html = reader.get(MATRIX).get_data(as_text=True)
    row = re.search(r"Problem framing</span>.*?</tr>", html, re.S).group(0)
    cells = re.findall(r'<td class="([^"]*)"', row)
    assert len(cells) == 4
    assert [c.split()[0] for c in cells] == ["cell", "cell", "cell", "off-track"]
    coaching = re.search(r"Coaching</span>.*?</tr>", html, re.S).group(0)
    assert [c.split()[0] for c in re.findall(r'<td class="([^"]*)"', coaching)] == [
        "off-track",
        "off-track",
        "off-track",
        "cell",
    ]


def test_matrix_marks_the_readers_level(app, client, org, crafted):
    place(app, org.pm_a1, "L2")
    sign_in(client, org.pm_a1)
    html = client.get(MATRIX).get_data(as_text=True)
    header = re.search(r'<th scope="col" class="level-head is-yours">.*?</th>', html, re.S)
    assert (
        header is not None and "Practitioner" in header.group(0) and "Your level" in header.group(0)
    )


def test_matrix_has_a_compare_form_and_downloads(reader, crafted):
    html = reader.get(MATRIX).get_data(as_text=True)
    assert 'action="/frameworks/crafted/v1/compare"' in html and 'method="get"' in html
    assert (
        '<label for="compare-a">From</label>' in html
        and '<label for="compare-b">To</label>' in html
    )
    assert 'href="/frameworks/crafted/v1/export.yaml"' in html
    assert 'href="/frameworks/crafted/v1/export.csv"' in html


def test_drafts_are_not_found_for_others_and_shown_to_the_head(app, client, org, crafted):
    import_framework(app, CRAFTED_NEXT, publish=False)  # version 2, a draft
    for who in ("pm_a1", "manager_a"):
        sign_in(client, getattr(org, who))
        for path in (
            "/frameworks/crafted/v2/",
            "/frameworks/crafted/v2/levels/L1",
            "/frameworks/crafted/v2/compare?a=L1&b=L2",
            "/frameworks/crafted/v2/export.yaml",
        ):
            response = client.get(path)
            assert response.status_code == 404, (who, path)
            assert "Crafted" not in response.get_data(as_text=True)
        client.post_form("/logout")
    sign_in(client, org.head)
    page = text_of(client.get("/frameworks/crafted/v2/"))
    assert "Draft — not visible to others." in page
    assert "See the published version (1)" in page
    assert client.get("/frameworks/crafted/v2/levels/L1").status_code == 200


def test_an_archived_version_says_so_and_links_to_the_current_one(app, reader, crafted):
    import_framework(app, CRAFTED_NEXT)  # version 2 published; version 1 archived
    response = reader.get(MATRIX)
    assert response.status_code == 200
    page = text_of(response)
    assert re.search(r"This is version 1, archived on \d{1,2} \w+ \d{4}\.", page)
    assert 'href="/frameworks/crafted/v2/">See the current version (2)</a>' in response.get_data(
        as_text=True
    )
    assert (
        "archived" not in text_of(reader.get("/frameworks/crafted/v2/")).split("Career paths")[-1]
    )


def test_unknown_version_is_not_found(pm, crafted):
    assert pm.get("/frameworks/crafted/v9/").status_code == 404


# --- a level ------------------------------------------------------------------------------------


def test_level_page_shows_the_role_decisions_and_expectations(reader, crafted):
    response = reader.get("/frameworks/crafted/v1/levels/L1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert re.search(r"<h1>Associate <span class=\"level-code\">L1</span></h1>", html)
    assert "Individual contributor · level 1 of 3" in page
    for fact in (
        "Code L1",
        "Track Individual contributor",
        "Rank 1",
        "Scope One feature of a product.",
        "Typical experience 1 year",
    ):
        assert fact in page
    assert "Learns the craft on one feature of a product." in page
    rows = re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td[^>]*>(\w+)</td>\s*<td class=\"delegation\"[^>]*>"
        r"<span class=\"delegation-number\">(\d)</span> (\w+)</td>",
        html,
    )
    assert rows == [
        ("Order of work within a sprint", "Driver", "4", "Agree"),
        ("Which customers to interview", "Contributor", "3", "Consult"),
    ]
    # Every competency of the track at this level, by area; indicators under their kind.
    assert page.index("Discovery") < page.index("Customer research") < page.index("Problem framing")
    assert "Coaching" not in page  # management only
    assert "Criteria Six interviews this half." in page
    assert "Examples Summarised onboarding interviews." in page
    assert "Signals The team reads the notes." in page


def test_level_page_links_its_neighbours_and_the_comparison(reader, crafted):
    html = reader.get("/frameworks/crafted/v1/levels/L2").get_data(as_text=True)
    assert re.search(r'href="/frameworks/crafted/v1/levels/L1" rel="prev"', html)
    assert re.search(r'href="/frameworks/crafted/v1/levels/L3" rel="next"', html)
    assert 'href="/frameworks/crafted/v1/compare?a=L2&amp;b=L3">Compare with the next level' in html
    top = reader.get("/frameworks/crafted/v1/levels/M1").get_data(as_text=True)
    assert 'rel="prev"' not in top and 'rel="next"' not in top
    assert "Compare with the next level" not in top


def test_level_page_shows_unwritten_and_not_applicable_cells(reader, crafted):
    assert "Not written yet" in text_of(reader.get("/frameworks/crafted/v1/levels/L3"))
    assert "Not applicable" in text_of(reader.get("/frameworks/crafted/v1/levels/M1"))


def test_unknown_level_is_not_found_with_a_message(pm, crafted):
    response = pm.get("/frameworks/crafted/v1/levels/NOPE")
    assert response.status_code == 404
    assert 'Version 1 of Crafted ladder has no level "NOPE".' in text_of(response)


# --- comparing two levels -----------------------------------------------------------------------


def test_compare_marks_removed_and_added_words(reader, crafted):
    response = reader.get("/frameworks/crafted/v1/compare?a=L1&b=L2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    row = re.search(r"Customer research.*?</tr>", html, re.S).group(0)
    assert re.findall(r"<del>([^<]*)</del>", row) == ["Joins", "day"]
    assert re.findall(r"<ins>([^<]*)</ins>", row) == ["Runs", "week"]
    kept = "customer interviews and writes up what was learned within a"
    assert f"<del>Joins</del> {kept} <del>day</del>." in row
    assert f"<ins>Runs</ins> {kept} <ins>week</ins>." in row
    page = text_of(response)
    assert "From Associate L1 to Practitioner L2" in page
    assert "1 of 2 competencies read differently at L2." in page


def test_compare_shows_each_sides_measure_under_its_expectation(reader, crafted):
    html = reader.get("/frameworks/crafted/v1/compare?a=L1&b=L2").get_data(as_text=True)
    row = re.search(r"Customer research.*?</tr>", html, re.S).group(0)
    before, after = re.findall(r'<td data-label="At L\d">(.*?)</td>', row, re.S)
    measure = "Measure A decision of the team cites what the interviews found."
    assert text_of_fragment(before).endswith(measure)
    assert "Measure" not in after  # L2 has none written


def test_compare_marks_unchanged_cells(reader, crafted):
    html = reader.get("/frameworks/crafted/v1/compare?a=L1&b=L2").get_data(as_text=True)
    row = re.search(r"Problem framing.*?</tr>", html, re.S).group(0)
    assert "Same at both levels" in row
    assert "<ins>" not in row and "<del>" not in row


def test_compare_shows_role_and_decision_right_changes(reader, crafted):
    response = reader.get("/frameworks/crafted/v1/compare?a=L1&b=L2")
    html = response.get_data(as_text=True)
    summary = re.search(r"<th scope=\"row\">Summary</th>.*?</tr>", html, re.S).group(0)
    assert "<del>Learns the craft on</del> one feature of a product." in summary
    assert "<ins>Owns the outcomes of</ins> one feature of a product." in summary
    scope = re.search(r"<th scope=\"row\">Scope</th>.*?</tr>", html, re.S).group(0)
    assert "Same at both levels" in scope
    experience = re.search(r"<th scope=\"row\">Typical experience</th>.*?</tr>", html, re.S)
    # Texts sharing no word were rewritten, not edited: shown whole, nothing marked.
    row = experience.group(0)
    assert re.search(r"<td[^>]*>1 year</td>", row) and re.search(r"<td[^>]*>3 years</td>", row)
    decisions = text_of_fragment(re.search(r"decisions-compare.*?</table>", html, re.S).group(0))
    assert (
        "Order of work within a sprint Driver, 4 · Agree Driver, 6 · Inquire More autonomy"
    ) in decisions
    assert "Quarterly goals of the team Not held Driver, 4 · Agree New at L2" in decisions
    assert "Which customers to interview Contributor, 3 · Consult Not held Not at L2" in decisions
    changed = re.search(r"Order of work within a sprint</th>.*?</tr>", html, re.S).group(0)
    assert "<del>4 · Agree</del>" in changed and "<ins>6 · Inquire</ins>" in changed
    assert "<del>Driver</del>" not in changed  # the role did not change


def test_compare_across_tracks_explains_cells_of_one_track(reader, crafted):
    response = reader.get("/frameworks/crafted/v1/compare?a=L1&b=M1")
    assert response.status_code == 200
    page = text_of(response)
    assert "Problem framing is not part of the Management track." in page
    assert "Coaching is not part of the Individual contributor track." in page
    assert "Coaches product managers every week." in page
    research = text_of_fragment(
        re.search(r"Customer research.*?</tr>", response.get_data(as_text=True), re.S).group(0)
    )
    assert "Not applicable" in research


def test_compare_without_levels_offers_the_form(reader, crafted):
    response = reader.get("/frameworks/crafted/v1/compare")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Compare two levels" in html
    assert '<select id="compare-a" name="a">' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?b=L2", "a", "Choose the level to compare from (L1, L2, L3, M1)."),
        ("?a=L1", "b", "Choose the level to compare with (L1, L2, L3, M1)."),
        (
            "?a=ZZ&b=L2",
            "a",
            'There is no level "ZZ" in this version. Choose one of L1, L2, L3, M1.',
        ),
        ("?a=L1&b=", "b", "Choose the level to compare with (L1, L2, L3, M1)."),
        ("?a=L1&b=L1", "b", "Choose two different levels: both are L1."),
    ],
)
def test_bad_comparisons_are_refused_with_a_message_next_to_the_field(
    pm, crafted, query, field, message
):
    response = pm.get(f"/frameworks/crafted/v1/compare{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True).replace("&#34;", '"')
    assert f'<p class="field-error" id="compare-{field}-error">{message}</p>' in html
    assert f'aria-describedby="compare-{field}-error"' in html
    assert "<ins>" not in html


# --- downloads ----------------------------------------------------------------------------------


def test_yaml_download_is_an_attachment_that_imports_as_the_same_document(reader, crafted):
    response = reader.get("/frameworks/crafted/v1/export.yaml")
    assert response.status_code == 200
    assert response.mimetype == "text/yaml"
    assert response.headers["Content-Disposition"] == "attachment; filename=crafted-v1.yaml"
    downloaded, report = yaml_format.parse(response.get_data(as_text=True))
    original, _ = yaml_format.parse(CRAFTED)
    assert not report.errors
    assert downloaded == original


def test_csv_download_is_an_attachment_with_every_cell(reader, crafted):
    response = reader.get("/frameworks/crafted/v1/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=crafted-v1.csv"
    doc, report = csv_format.parse(response.get_data(as_text=True), filename="crafted-v1.csv")
    assert doc is not None and not report.errors
    research = doc.areas[0].competencies[0]
    assert research.expectations["L2"].text == (
        "Runs customer interviews and writes up what was learned within a week."
    )


@pytest.mark.parametrize("fmt", ["pdf", "exe", "YAML", "monzo"])
def test_other_download_formats_are_not_found(pm, crafted, fmt):
    assert pm.get(f"/frameworks/crafted/v1/export.{fmt}").status_code == 404


# --- a person's level on home and profile -------------------------------------------------------


def test_home_shows_the_persons_level_and_the_way_to_the_next(app, client, org, crafted):
    place(app, org.pm_a1, "L1")
    sign_in(client, org.pm_a1)
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/frameworks/crafted/v1/levels/L1">Associate</a> (L1)' in html
    assert "Crafted ladder" in html
    assert (
        'href="/frameworks/crafted/v1/compare?a=L1&amp;b=L2">Compare with the next level</a>'
        in (html)
    )
    assert "Not placed" not in html


def test_home_at_the_top_of_a_track_has_no_next_level(app, client, org, crafted):
    place(app, org.manager_a, "M1")
    sign_in(client, org.manager_a)
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/frameworks/crafted/v1/levels/M1">Team lead</a> (M1)' in html
    assert "Compare with the next level" not in html


def test_home_without_a_level_says_so(client, org):
    sign_in(client, org.pm_a1)
    assert "Not placed on a level yet." in text_of(client.get("/"))


def test_profile_shows_the_level(app, client, org, crafted):
    place(app, org.pm_a1, "L2")
    sign_in(client, org.manager_a)
    page = text_of(client.get(f"/people/{org.pm_a1.id}"))
    assert "Level Practitioner (L2) Crafted ladder Compare with the next level" in page


# --- fixed number of queries --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/frameworks/{slug}/v1/",
        "/frameworks/{slug}/v1/levels/T0L2",
        "/frameworks/{slug}/v1/compare?a=T0L1&b=T1L2",
        "/frameworks/{slug}/v1/export.yaml",
        "/frameworks/",
        "/frameworks/{slug}/history",
    ],
    ids=["matrix", "level", "compare", "export", "catalogue", "history"],
)
def test_pages_use_a_fixed_number_of_queries(app, head, path):
    import_framework(app, framework_yaml(slug="small", levels=2, areas=1, per_area=1, tracks=2))
    few = count_queries(app, head, path.format(slug="small"))
    import_framework(app, framework_yaml(slug="large", levels=8, areas=5, per_area=4, tracks=2))
    assert count_queries(app, head, path.format(slug="large")) == few


def test_home_and_profile_use_a_fixed_number_of_queries_with_a_level(app, client, org):
    import_framework(app, framework_yaml(slug="small", levels=2, areas=1, per_area=1))
    import_framework(app, framework_yaml(slug="large", levels=8, areas=5, per_area=4))
    sign_in(client, org.pm_a1)
    counts = []
    for slug in ("small", "large"):
        place(app, org.pm_a1, "L1", slug)
        counts.append(
            (count_queries(app, client, "/"), count_queries(app, client, f"/people/{org.pm_a1.id}"))
        )
    assert counts[0] == counts[1]


# --- sign-in required ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/frameworks/",
        "/frameworks/crafted/",
        MATRIX,
        "/frameworks/crafted/v1/levels/L1",
        "/frameworks/crafted/v1/compare?a=L1&b=L2",
        "/frameworks/crafted/v1/export.yaml",
    ],
)
def test_anonymous_people_are_sent_to_sign_in(client, crafted, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
