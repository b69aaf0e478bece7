"""Two paths from one level, side by side, and the level page's way to them ("Where next")."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.policy import SYSTEM
from app.services.frameworks import files
from tests.factories import sign_in
from tests.framework_samples import framework_yaml
from tests.queries import count_queries
from tests.two_paths import TWO_PATHS, import_measured_paths, import_two_paths
from tests.web.test_framework_pages import import_framework, text_of, text_of_fragment
from tests.web.test_growth_paths import place

PATHS = "/frameworks/two-paths/v1/compare?a=SPM&b=GPM&c=LPM"


@pytest.fixture
def two_paths(app):
    return import_two_paths(app)


@pytest.fixture
def pm(client, org):
    sign_in(client, org.pm_a1)
    return client


def row(html: str, name: str) -> str:
    """The table row of a competency or attribute, as HTML."""
    return re.search(rf'<th scope="row">{re.escape(name)}</th>.*?</tr>', html, re.S).group(0)


def cells(row_html: str) -> list[tuple[str, str]]:
    """Each cell of a row: its label (what a phone shows above it) and its text as read."""
    return [
        (label, text_of_fragment(re.sub(r"</?(ins|del)>", "", body)))
        for label, body in re.findall(r'<td data-label="([^"]*)">(.*?)</td>', row_html, re.S)
    ]


# --- Where next, on the level page --------------------------------------------------------------


def test_a_senior_level_offers_both_ways_up_and_both_side_by_side(pm, two_paths):
    response = pm.get("/frameworks/two-paths/v1/levels/SPM")
    html = response.get_data(as_text=True)
    where = re.search(r'<nav class="where-next.*?</nav>', html, re.S).group(0)
    # Each level's name opens its page; the link beside it says which comparison it opens.
    assert text_of_fragment(where) == (
        "Where next "
        "Group Product Manager GPM (Individual contributor) · Compare SPM with GPM "
        "Lead Product Manager LPM (Management) · Compare SPM with LPM "
        "Compare both paths"
    )
    assert re.findall(r'<a[^>]* href="([^"]+)"[^>]*>([^<]+)</a>', where) == [
        ("/frameworks/two-paths/v1/levels/GPM", "Group Product Manager"),
        ("/frameworks/two-paths/v1/compare?a=SPM&amp;b=GPM", "Compare SPM with GPM"),
        ("/frameworks/two-paths/v1/levels/LPM", "Lead Product Manager"),
        ("/frameworks/two-paths/v1/compare?a=SPM&amp;b=LPM", "Compare SPM with LPM"),
        ("/frameworks/two-paths/v1/compare?a=SPM&amp;b=GPM&amp;c=LPM", "Compare both paths"),
    ]


def test_home_offers_both_paths_from_a_level_with_two_ways_up(app, client, org, two_paths):
    place(app, org.pm_a1, "SPM")
    place(app, org.pm_a2, "PM")
    sign_in(client, org.pm_a1)
    level = re.search(
        r'<dd class="placement">.*?</dd>', client.get("/").get_data(as_text=True), re.S
    )
    assert text_of_fragment(level.group(0)) == (
        "Senior Product Manager (SPM) Two paths Compare with the next level (GPM) "
        "Compare both paths (Group Product Manager or Lead Product Manager)"
    )
    assert re.findall(r'href="([^"]+)"', level.group(0))[-1] == (
        "/frameworks/two-paths/v1/compare?a=SPM&amp;b=GPM&amp;c=LPM"
    )
    # One way up: only the comparison with the next level.
    other = app.test_client()
    sign_in(other, org.pm_a2)
    level = re.search(
        r'<dd class="placement">.*?</dd>', other.get("/").get_data(as_text=True), re.S
    )
    assert "both paths" not in level.group(0) and "Compare with the next level" in level.group(0)


def test_home_reads_in_the_same_queries_with_one_way_up_or_two(app, client, org, two_paths):
    sign_in(client, org.pm_a1)
    counts = []
    for code in ("PM", "SPM", "PPM"):
        place(app, org.pm_a1, code)
        counts.append(count_queries(app, client, "/"))
    assert counts[0] == counts[1] == counts[2]


def test_one_way_up_has_no_side_by_side(pm, two_paths):
    html = pm.get("/frameworks/two-paths/v1/levels/PM").get_data(as_text=True)
    where = re.search(r'<nav class="where-next.*?</nav>', html, re.S).group(0)
    assert "Senior Product Manager" in where and "Lead Product Manager" not in where
    assert "Compare both paths" not in where


@pytest.mark.parametrize(
    ("code", "track"), [("PPM", "Individual contributor"), ("LPM", "Management")]
)
def test_the_top_of_a_track_says_so_and_offers_no_other_track(pm, two_paths, code, track):
    html = pm.get(f"/frameworks/two-paths/v1/levels/{code}").get_data(as_text=True)
    where = re.search(r'<nav class="where-next.*?</nav>', html, re.S).group(0)
    # A Lead PM is not sent back to the IC track as the way up.
    assert text_of_fragment(where) == (
        f"Where next This is the top of the {track} track in this framework."
    )
    assert "compare?" not in where


# --- the comparison of two paths ----------------------------------------------------------------


def test_the_paths_page_shows_both_targets_against_the_level_compared_from(pm, two_paths):
    response = pm.get(PATHS)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert (
        "From Senior Product Manager SPM to Group Product Manager GPM or Lead Product Manager LPM"
    ) in page
    assert "To Group Product Manager (Individual contributor): 1 of 2 competencies" in page
    assert "To Lead Product Manager (Management): 3 of 3 competencies" in page
    frm = "From SPM · Senior Product Manager"
    gpm = "To GPM · Group Product Manager (Individual contributor)"
    lpm = "To LPM · Lead Product Manager (Management)"
    research = row(html, "Customer research")
    assert cells(research) == [
        (frm, "Designs research for ambiguous questions in their area."),
        (gpm, "Edited Designs research for ambiguous questions across their product line."),
        (lpm, "Edited Designs research for ambiguous questions with each of their reports."),
    ]
    assert re.findall(r"<ins>([^<]*)</ins>", research) == [
        "across",
        "product line",
        "with each of",
        "reports",
    ]
    assert "<del>" not in research  # the words each path drops are on the two-level pages
    assert cells(row(html, "Writing")) == [
        (frm, "Writes documents that lead to a decision."),
        (gpm, "Same as SPM"),
        (lpm, "Not on this track"),
    ]
    assert cells(row(html, "Role clarity &amp; decision rights")) == [
        (frm, "Role clarity & decision rights is not part of the Individual contributor track."),
        (gpm, "Not on this track"),
        (
            lpm,
            "New on this path Makes each report's role expectations and decision rights explicit.",
        ),
    ]


def test_the_paths_page_shows_the_role_and_each_paths_decision_rights(pm, two_paths):
    html = pm.get(PATHS).get_data(as_text=True)
    assert [text for _label, text in cells(row(html, "Scope"))] == [
        "One product area.",
        "One product line.",
        "Not written",
    ]
    assert [text for _label, text in cells(row(html, "Track and rank"))] == [
        "Individual contributor, rank 3",
        "Individual contributor, rank 4",
        "Management, rank 4",
    ]
    decisions = re.search(r'id="decisions-heading".*?</section>', html, re.S).group(0)
    assert re.findall(r"<h3[^>]*>([^<]*)</h3>", decisions) == [
        "From SPM to GPM · Group Product Manager",
        "From SPM to LPM · Lead Product Manager",
    ]
    text = text_of_fragment(decisions)
    assert "Written role expectations for each of their reports Not held Approver, 5 · Advise" in (
        text
    )
    assert "New at LPM" in text and "New at GPM" in text


def test_each_path_links_to_its_own_two_level_comparison(pm, two_paths):
    html = pm.get(PATHS).get_data(as_text=True)
    assert 'href="/frameworks/two-paths/v1/compare?a=SPM&amp;b=GPM">Compare SPM with GPM alone' in (
        html
    )
    assert 'href="/frameworks/two-paths/v1/compare?a=SPM&amp;b=LPM">Compare SPM with LPM alone' in (
        html
    )


def test_the_form_offers_an_optional_second_level_and_keeps_the_choice(pm, two_paths):
    html = pm.get(PATHS).get_data(as_text=True)
    assert '<label for="compare-c">and with (optional)</label>' in html
    select = re.search(r'<select id="compare-c" name="c">.*?</select>', html, re.S).group(0)
    assert '<option value="">No second level</option>' in select
    assert '<option value="LPM" selected>' in select
    two = pm.get("/frameworks/two-paths/v1/compare?a=SPM&b=GPM").get_data(as_text=True)
    assert '<option value="" selected>No second level</option>' in two


@pytest.mark.parametrize("query", ["c=", "c=%20", "c=+"])
def test_a_blank_second_level_alone_is_the_empty_form(pm, two_paths, query):
    response = pm.get(f"/frameworks/two-paths/v1/compare?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Compare two levels" in html and 'class="field-error"' not in html


def test_an_empty_second_level_is_the_two_level_comparison(pm, two_paths):
    response = pm.get("/frameworks/two-paths/v1/compare?a=SPM&b=GPM&c=")
    assert response.status_code == 200
    page = text_of(response)
    assert "From Senior Product Manager SPM to Group Product Manager GPM" in page
    assert "or Lead Product Manager" not in page
    assert "1 of 2 competencies read differently at GPM." in page


@pytest.mark.parametrize(
    ("c", "message"),
    [
        ("ZZ", 'There is no level "ZZ" in this version. Choose one of PM, SPM, GPM, PPM, LPM.'),
        ("SPM", "Choose two different levels: both are SPM."),
        ("GPM", "Choose two different levels to compare with: both are GPM."),
    ],
)
def test_a_bad_second_level_is_refused_with_a_message_next_to_it(pm, two_paths, c, message):
    response = pm.get(f"/frameworks/two-paths/v1/compare?a=SPM&b=GPM&c={c}")
    assert response.status_code == 400
    html = response.get_data(as_text=True).replace("&#34;", '"')
    assert f'<p class="field-error" id="compare-c-error">{message}</p>' in html
    assert 'aria-describedby="compare-c-error"' in html
    assert "Compare two levels" in html and "<ins>" not in html


def test_the_paths_page_uses_a_fixed_number_of_queries(app, pm):
    path = "/frameworks/{slug}/v1/compare?a=T0L1&b=T0L2&c=T1L2"
    import_framework(app, framework_yaml(slug="small", levels=2, areas=1, per_area=1, tracks=2))
    few = count_queries(app, pm, path.format(slug="small"))
    import_framework(app, framework_yaml(slug="large", levels=8, areas=5, per_area=4, tracks=2))
    assert count_queries(app, pm, path.format(slug="large")) == few


# --- a change to the measure alone --------------------------------------------------------------


@pytest.fixture
def measured(app):
    return import_measured_paths(app)


def test_a_changed_measure_alone_is_tagged_and_its_words_marked(pm, measured):
    html = pm.get("/frameworks/measured-paths/v1/compare?a=SPM&b=GPM").get_data(as_text=True)
    writing = row(html, 'Writing<br><span class="tag change-tag">Measure changed</span>')
    assert re.findall(r'<p class="measure">.*?</p>', writing) == [
        '<p class="measure"><span class="measure-label" title="How you will know the expectation'
        ' is met">Measure</span> A decision is recorded within a <del>week</del> of each'
        " document.</p>",
        '<p class="measure"><span class="measure-label" title="How you will know the expectation'
        ' is met">Measure</span> A decision is recorded within a <ins>day</ins> of each'
        " document.</p>",
    ]
    # A changed text keeps its tag; its measure is marked as well.
    research = re.search(r"Customer research<br>.*?</tr>", html, re.S).group(0)
    assert "Edited" in research and "Measure changed" not in research
    assert "<ins>product line</ins> cite research" in research


def test_a_changed_measure_alone_is_tagged_on_its_path(pm, measured):
    html = pm.get("/frameworks/measured-paths/v1/compare?a=SPM&b=GPM&c=LPM").get_data(as_text=True)
    assert cells(row(html, "Writing")) == [
        (
            "From SPM · Senior Product Manager",
            "Writes documents that lead to a decision. "
            "Measure A decision is recorded within a week of each document.",
        ),
        (
            "To GPM · Group Product Manager (Individual contributor)",
            "Measure changed Writes documents that lead to a decision. "
            "Measure A decision is recorded within a day of each document.",
        ),
        ("To LPM · Lead Product Manager (Management)", "Not on this track"),
    ]
    assert "within a <ins>day</ins> of each" in row(html, "Writing")


# --- finding one's way on a long page -------------------------------------------------------


def test_the_paths_summary_gives_each_paths_gist_and_a_contents_list(app, pm):
    # A summary of two sentences: only the first is the gist (the second is about examples).
    text = TWO_PATHS.replace(
        "summary: Owns a product line of several teams end to end.",
        "summary: Owns a product line of several teams end to end, e.g. Payments. "
        "Figures in the examples are not quotas.",
    )
    with app.app_context():
        files.import_text(SYSTEM, text, "yaml", publish=True)
        db.session.commit()
    html = pm.get(PATHS).get_data(as_text=True)
    gists = [text_of_fragment(g) for g in re.findall(r'<span class="path-gist">(.*?)</span>', html)]
    assert gists == [
        "GPM: Owns a product line of several teams end to end, e.g. Payments.",
        "LPM: Manages two to five product managers for the first time.",
    ]
    contents = re.search(r'<nav class="compare-contents.*?</nav>', html, re.S).group(0)
    targets = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', contents)
    assert targets == [
        ("role-heading", "The role"),
        ("decisions-heading", "Decision rights"),
        ("area-craft", "Craft"),
        ("area-leading", "Leading product managers"),
    ]
    for anchor, _name in targets:  # each one is on the page
        assert len(re.findall(rf'\bid="{anchor}"', html)) == 1
