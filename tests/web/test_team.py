"""The manager's team page through HTTP: who is on it, what it shows and what it never shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Role, User, Visibility
from app.models.base import utcnow
from tests.clock import TODAY
from tests.evidence_helpers import publish_and_place, record
from tests.factories import sign_in
from tests.services.test_readiness import set_rules
from tests.web.test_conversation import count_queries, text_of

pytestmark = pytest.mark.midday  # the app's today and TODAY must be the same day


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1, org.director])
    return org


def rows(page: str) -> dict[str, list[str]]:
    """Person → the cells of their row, as text."""
    found = {}
    for row in re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", page, re.S):
        cells = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.split(r"</t[hd]>", row)]
        found[cells[0]] = cells[1:-1]
    return found


def headings(page: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", h).split())
        for h in re.findall(r'<h2 id="group-\d+">(.*?)</h2>', page, re.S)
    ]


def test_a_manager_sees_direct_reports_then_skip_levels(client, placed):
    sign_in(client, placed.manager_a)
    page = client.get("/team").get_data(as_text=True)
    assert headings(page) == [
        "Your direct reports · 3 people",
        "Reporting to Dora Director · 1 person",
    ]
    assert list(rows(page)) == ["Alice Pm", "Arun Pm", "Dora Director", "Dev Pm"]
    assert "Bea Pm" not in page  # manager_b's report
    assert 'href="/team" aria-current="page">Team</a>' in page


def test_a_skip_level_manager_sees_only_their_own_line(client, placed):
    sign_in(client, placed.director)
    page = client.get("/team").get_data(as_text=True)
    assert headings(page) == ["Your direct reports · 1 person"]
    assert list(rows(page)) == ["Dev Pm"]


def test_counts_readiness_and_activity_from_shared_items_only(app, client, placed):
    record(app, placed.pm_a1, occurred_on=TODAY - timedelta(days=10))
    record(app, placed.pm_a1, occurred_on=TODAY - timedelta(days=120))  # too old to count
    for _ in range(4):  # drafts: the manager never sees them, not even their number
        record(app, placed.pm_a2, occurred_on=TODAY, visibility=Visibility.PRIVATE)
    sign_in(client, placed.manager_a)
    team = rows(client.get("/team").get_data(as_text=True))
    level, recent, readiness, activity = team["Alice Pm"]
    assert level == "Level 1"
    assert recent == "1" and readiness == "0 of 4 enough"  # one item is thin, not enough
    now = utcnow()
    assert activity == f"{now.day} {now.strftime('%b %Y')}"  # shared just now
    assert team["Arun Pm"][1:] == ["0", "0 of 4 enough", "—"]
    assert "4" not in team["Arun Pm"]


def test_readiness_is_a_figure_with_a_bar_and_each_name_opens_the_persons_page(app, client, placed):
    set_rules(app, min_items=1, min_corroborated=0, recent_days=365, window_months=24)
    record(app, placed.pm_a1, occurred_on=TODAY, competency_keys=["skill-0-0", "skill-1-0"])
    sign_in(client, placed.manager_a)
    page = client.get("/team").get_data(as_text=True)
    assert rows(page)["Alice Pm"][2] == "2 of 4 enough"
    assert (
        '<meter min="0" max="4" value="2" '
        'aria-label="Alice Pm: 2 of 4 competencies with enough evidence"></meter>'
    ) in page
    assert f'<a href="/people/{placed.pm_a1.id}">Alice Pm</a>' in page


def test_someone_not_placed_says_so(app, client, placed, make):
    make.person(name="Nora New", manager=placed.manager_a)
    sign_in(client, placed.manager_a)
    team = rows(client.get("/team").get_data(as_text=True))
    assert team["Nora New"] == ["Not placed", "0", "Not placed", "—"]


def test_deactivated_people_are_not_listed(client, placed, make):
    make.person(name="Gone Person", manager=placed.manager_a, active=False)
    sign_in(client, placed.manager_a)
    assert "Gone Person" not in client.get("/team").get_data(as_text=True)


def test_product_managers_have_no_team_page(client, placed):
    sign_in(client, placed.pm_a1)
    assert client.get("/team").status_code == 403
    assert ">Team</a>" not in client.get("/").get_data(as_text=True)


def test_a_manager_without_reports_is_told_so(client, make):
    lonely = make.person(name="Lonely Manager", role=Role.MANAGER)
    sign_in(client, lonely)
    assert "Nobody reports to you yet." in text_of(client.get("/team"))


def test_the_team_page_reads_a_fixed_number_of_queries(app, client, placed, make):
    with app.app_context():
        level_id = db.session.get(User, placed.pm_a1.id).level_id

    def hire(number, start):
        for n in range(start, start + number):
            report = make.person(name=f"Report {n:02}", manager=placed.director)
            with app.app_context():
                db.session.get(User, report.id).level_id = level_id
                db.session.commit()
            record(app, report)
            record(app, report, visibility=Visibility.PRIVATE)

    sign_in(client, placed.manager_a)
    hire(3, 0)
    few = count_queries(app, client, "/team")
    hire(27, 3)
    assert count_queries(app, client, "/team") == few
    assert len(rows(client.get("/team").get_data(as_text=True))) == 4 + 30
