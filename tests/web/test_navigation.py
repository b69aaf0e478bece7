"""The navigation fits the person: "Jobs" only for people who have started a job, read in the
same single query as the unread count."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import NotificationKind
from app.policy import SYSTEM
from app.services import notifications
from app.services.frameworks import files
from tests.factories import sign_in
from tests.framework_samples import framework_yaml
from tests.oneonones_helpers import build
from tests.queries import count_queries

JOBS_LINK = '<a href="/jobs"'


@pytest.fixture
def sample(app):
    with app.app_context():
        files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True)
        db.session.commit()


@pytest.fixture
def own_files(make_app, tmp_path):
    """The app with a data folder of this test's own. PDFs are found by their content: once, an
    earlier test's PDF of the same sample (published in the same second, it seems) was found,
    and no job started."""
    return make_app(RUNGS_DATA_DIR=str(tmp_path))


def test_jobs_appear_in_the_navigation_once_the_person_has_started_one(own_files, org, sample):
    client = own_files.test_client()
    sign_in(client, org.pm_a1)
    assert JOBS_LINK not in client.get("/").get_data(as_text=True)

    started = client.post_form("/frameworks/sample/v1/pdf")  # the version page's "PDF" button
    assert started.status_code == 303 and "/jobs/" in started.headers["Location"]
    home = client.get("/").get_data(as_text=True)
    assert JOBS_LINK in home
    assert '<summary class="menu-button">' in home  # the same navigation, behind the menu

    other = own_files.test_client()
    sign_in(other, org.pm_a2)  # jobs are private: someone else's job gives no link
    assert JOBS_LINK not in other.get("/").get_data(as_text=True)


def test_the_layout_stays_one_query_with_jobs_and_notifications(own_files, org, sample):
    app, client = own_files, own_files.test_client()
    sign_in(client, org.pm_a1)
    before = count_queries(app, client, "/")
    started = client.post_form("/frameworks/sample/v1/pdf")
    assert "/jobs/" in started.headers["Location"]  # the layout now reads a job too
    with app.app_context():
        for _ in range(5):
            notifications.notify([org.pm_a1.id], NotificationKind.KUDOS, actor_id=None)
        db.session.commit()
    assert count_queries(app, client, "/") == before


def test_the_menu_button_is_named_and_carries_the_unread_count(app, client, org):
    with app.app_context():
        notifications.notify([org.pm_a1.id], NotificationKind.KUDOS, actor_id=None)
        db.session.commit()
    sign_in(client, org.pm_a1)
    page = client.get("/").get_data(as_text=True)
    assert '<details class="site-menu">' in page
    badge = '<span class="nav-count">1<span class="visually-hidden"> unread</span></span>'
    assert f"Menu {badge}</summary>" in page
    assert 'aria-label="Main"' in page.split("</summary>", 1)[1]  # the navigation is inside


def test_the_closed_menu_button_also_carries_the_to_do_count(app, client, org):
    """On a phone only the button shows until it is opened: something to do shows there too."""
    # An open 1:1 action item for pm_a1 (one thing to do), and its notification (one unread).
    build(app, org.manager_a, org.pm_a1)
    sign_in(client, org.pm_a1)
    page = client.get("/").get_data(as_text=True)
    summary = page.split('<summary class="menu-button">', 1)[1].split("</summary>", 1)[0]
    unread = '<span class="nav-count">1<span class="visually-hidden"> unread</span></span>'
    to_do = (
        '<span class="nav-count nav-count-todo">1<span class="visually-hidden"> to do</span></span>'
    )
    assert summary.endswith(f"Menu {unread} {to_do}")
    home_link = page.split('aria-label="Main"', 1)[1].split("</a>", 1)[0]
    assert '1<span class="visually-hidden"> to do</span>' in home_link  # the same count inside

    other = app.test_client()
    sign_in(other, org.pm_b1)  # nothing to do: no badge on the button
    summary = other.get("/").get_data(as_text=True).split("</summary>", 1)[0]
    assert "to do</span>" not in summary
