"""The growth page's "Where next": from a level with two ways up (the individual contributor track
and the first management level) the person, or their manager, sees both, each linking to its
readiness on the page, and the framework's page comparing both paths side by side."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Level, User
from tests.factories import sign_in
from tests.queries import count_queries
from tests.two_paths import import_two_paths
from tests.web.test_framework_pages import text_of, text_of_fragment

pytestmark = pytest.mark.midday  # the app's today and the tests' must be the same day


def place(app, person, code: str) -> None:
    with app.app_context():
        level_id = db.session.execute(select(Level.id).where(Level.code == code)).scalar_one()
        db.session.get(User, person.id).level_id = level_id
        db.session.commit()


@pytest.fixture
def two_paths(app, org):
    """The two-paths ladder with Alice on SPM (two ways up) and Arun on PM (one)."""
    import_two_paths(app)
    place(app, org.pm_a1, "SPM")
    place(app, org.pm_a2, "PM")
    return org


def where_next(html: str) -> str | None:
    found = re.search(r'<p class="where-next">.*?</p>', html, re.S)
    return found.group(0) if found else None


def links(fragment: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', fragment)]


def test_a_senior_pm_sees_both_ways_up_and_each_link_works(client, two_paths):
    sign_in(client, two_paths.pm_a1)
    where = where_next(client.get("/growth").get_data(as_text=True))
    assert text_of_fragment(where) == (
        "Where next From Senior Product Manager you can aim for Group Product Manager "
        "(Individual contributor) or Lead Product Manager (Management). Compare both paths"
    )
    gpm, lpm, both = links(where)
    assert (gpm, lpm) == ("/growth?level=GPM", "/growth?level=LPM")
    assert both == "/frameworks/two-paths/v1/compare?a=SPM&b=GPM&c=LPM"
    # The next level on their track is what the page shows by default: marked as the current one.
    assert re.search(r'aria-current="page">Group Product Manager</a>', where)

    lead = client.get(lpm)
    assert lead.status_code == 200
    page = text_of(lead)
    assert "Readiness for Lead Product Manager LPM" in page
    assert "Role clarity & decision rights" in page  # the management track's own competency
    assert re.search(r'aria-current="page">Lead Product Manager</a>', where_next(lead.text))
    assert "Readiness for Group Product Manager GPM" in text_of(client.get(gpm))

    compared = client.get(both)
    assert compared.status_code == 200
    assert (
        "From Senior Product Manager SPM to Group Product Manager GPM or Lead Product Manager LPM"
    ) in text_of(compared)


def test_a_manager_sees_where_their_report_could_go(client, two_paths):
    alice = two_paths.pm_a1.id
    sign_in(client, two_paths.manager_a)
    where = where_next(client.get(f"/growth/{alice}").get_data(as_text=True))
    assert text_of_fragment(where).startswith(
        "Where next From Senior Product Manager they can aim for Group Product Manager "
        "(Individual contributor) or Lead Product Manager (Management)."
    )
    gpm, lpm, both = links(where)
    assert (gpm, lpm) == (f"/growth/{alice}?level=GPM", f"/growth/{alice}?level=LPM")
    assert both == "/frameworks/two-paths/v1/compare?a=SPM&b=GPM&c=LPM"
    lead = client.get(lpm)
    assert lead.status_code == 200
    assert "Readiness for Lead Product Manager LPM" in text_of(lead)
    assert client.get(both).status_code == 200


def test_a_pm_with_one_way_up_sees_no_where_next(client, two_paths):
    sign_in(client, two_paths.pm_a2)
    response = client.get("/growth")
    assert response.status_code == 200
    assert "Readiness for Senior Product Manager SPM" in text_of(response)
    assert where_next(response.text) is None
    assert "Compare both paths" not in response.text


@pytest.mark.parametrize("code", ["GPM", "LPM", "PPM"])
def test_levels_with_one_way_up_or_none_see_no_where_next(app, client, two_paths, code):
    place(app, two_paths.pm_a1, code)
    sign_in(client, two_paths.pm_a1)
    response = client.get("/growth")
    assert response.status_code == 200
    assert where_next(response.text) is None


def test_where_next_costs_the_same_queries_whether_shown_or_not(app, client, two_paths):
    sign_in(client, two_paths.pm_a2)  # PM: one way up, no line
    one_way = count_queries(app, client, "/growth")
    client.post_form("/logout")
    sign_in(client, two_paths.pm_a1)  # SPM: two ways up
    assert where_next(client.get("/growth").text) is not None
    assert count_queries(app, client, "/growth") == one_way


def test_both_ways_up_ask_for_as_much_evidence(app, two_paths):
    # Lead PM starts the management track but is as senior as Group PM (rank 4): readiness toward
    # it needs the same number of items, on the page (Python) and in team figures (SQL).
    from app.services.growth import readiness
    from app.services.growth.thresholds import level_rank

    with app.app_context():
        ids = dict(db.session.execute(select(Level.code, Level.id)).all())
        gpm = readiness.readiness(two_paths.pm_a1.id, ids["GPM"])
        lpm = readiness.readiness(two_paths.pm_a1.id, ids["LPM"])
        spm = readiness.readiness(two_paths.pm_a2.id, ids["SPM"])
        assert gpm.rules.min_items == lpm.rules.min_items > spm.rules.min_items
        rungs = dict(db.session.execute(select(Level.code, level_rank())).all())
        assert rungs == {"PM": 1, "SPM": 2, "GPM": 3, "LPM": 3, "PPM": 4}
