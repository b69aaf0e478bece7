"""The nominate form through HTTP: the person first, then only the levels above theirs on
their own track with the next one chosen; every track on request; a clear word at the top."""

from __future__ import annotations

import re
from html import unescape

import pytest

from app.extensions import db
from app.policy import SYSTEM
from app.services.frameworks import files
from tests import promotion_helpers as ph
from tests.factories import sign_in
from tests.framework_samples import framework_yaml


@pytest.fixture
def two_frameworks(app, org):
    """The sample framework (L1 < L2 < L3, one track) and a second one with two tracks (T0L1 <
    T0L2 < T1L1 < T1L2); the cycle pins both. Returns (cycle id, code → level id)."""
    ph.publish_sample(app)
    with app.app_context():
        files.import_text(
            SYSTEM, framework_yaml(slug="ladder", tracks=2, levels=2), "yaml", publish=True
        )
        db.session.commit()
    levels = ph.publish_sample(app)
    return ph.make_cycle(app), levels


def level_options(page: str) -> list[tuple[str, bool]]:
    """The proposed-level select's options: (label, is selected), the placeholder left out."""
    select = re.search(r'<select[^>]*name="proposed_level_id".*?</select>', page, flags=re.S)
    if select is None:
        return []
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select.group(0))
    return [
        (unescape(label), "selected" in attrs)
        for attrs, label in options
        if 'value=""' not in attrs and 'value="None"' not in attrs
    ]


def text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def nominate_page(client, cycle_id: int, person, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"candidate_id": person.id, **args}.items())
    response = client.get(f"/promotions/{cycle_id}/nominate?{query}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def test_the_person_comes_first_and_no_level_is_offered_before(app, org, client, two_frameworks):
    cycle_id, levels = two_frameworks
    ph.place(app, [org.pm_a1], levels["L1"])
    sign_in(client, org.manager_a)
    page = client.get(f"/promotions/{cycle_id}/nominate").get_data(as_text=True)
    assert "Show levels" in page and level_options(page) == []
    assert 'name="proposed_level_id"' not in page
    someone_elses = nominate_page(client, cycle_id, org.pm_b1)  # Bea reports to manager_b
    assert level_options(someone_elses) == [] and "Bea Pm" not in someone_elses


def test_the_next_level_on_their_track_is_chosen_and_only_their_track_is_offered(
    app, org, client, two_frameworks
):
    cycle_id, levels = two_frameworks
    ph.place(app, [org.pm_a1], levels["L1"])
    sign_in(client, org.manager_a)
    page = nominate_page(client, cycle_id, org.pm_a1)
    assert level_options(page) == [("L2 · Level 2", True), ("L3 · Level 3", False)]
    assert "Now L1 · Level 1 on Sample — Track 0." in text(page)


def test_every_track_on_request_keeps_the_next_level_chosen(app, org, client, two_frameworks):
    cycle_id, levels = two_frameworks
    ph.place(app, [org.pm_a1], levels["T0L1"])
    sign_in(client, org.manager_a)
    own = nominate_page(client, cycle_id, org.pm_a1)
    assert level_options(own) == [("T0L2 · Level 2", True)]
    assert "Show the levels of every track" in own
    every = nominate_page(client, cycle_id, org.pm_a1, every_track=1)
    labels = [label for label, _ in level_options(every)]
    assert labels == [  # every framework's levels above T0L1's rank, by framework and track
        "T0L2 · Level 2",
        "T1L1 · Level 1",
        "T1L2 · Level 2",
        "L2 · Level 2",
        "L3 · Level 3",
    ]
    assert ("T0L2 · Level 2", True) in level_options(every)


def test_a_person_at_the_top_of_their_track_gets_a_clear_message(app, org, client, two_frameworks):
    cycle_id, levels = two_frameworks
    ph.place(app, [org.pm_a1], levels["L3"])
    sign_in(client, org.manager_a)
    page = nominate_page(client, cycle_id, org.pm_a1)
    message = "Already at the top of Sample — Track 0: there is no higher level on this track."
    assert message in text(page)
    assert level_options(page) == [] and ">Nominate</button>" not in page
    every = nominate_page(client, cycle_id, org.pm_a1, every_track=1)
    assert [label for label, _ in level_options(every)] == ["T1L2 · Level 2"]


def test_a_sent_form_with_an_error_keeps_the_person_and_the_statement(
    app, org, client, two_frameworks
):
    cycle_id, levels = two_frameworks
    ph.place(app, [org.pm_a1], levels["L1"])
    sign_in(client, org.manager_a)
    response = client.post_form(
        f"/promotions/{cycle_id}/nominate",
        {"candidate_id": org.pm_a1.id, "proposed_level_id": "", "statement": "Leads discovery."},
    )
    assert response.status_code == 400
    page = unescape(response.get_data(as_text=True))
    assert "Leads discovery." in page
    assert level_options(page) == [("L2 · Level 2", False), ("L3 · Level 3", False)]
