"""Decision logs and the fairness view through HTTP: who may open them, blind votes, the CSV
download, paging, the privacy threshold and the panels other pages include."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from flask import render_template
from flask_login import login_user

from app.extensions import db
from app.models import CalibrationSession, CyclePhase, Outcome, Rating, RatingSource, User
from app.models.base import utcnow
from app.services.promotions import loading, records
from app.services.promotions import log as decision_log
from app.services.promotions.log import LogAction
from tests import promotion_helpers as ph
from tests.factories import sign_in
from tests.queries import count_queries

R = Rating
MINUS = "\u2212"  # the minus sign the page shows


def write(app, actor, action: LogAction, *, cycle_id: int, **values) -> None:
    with app.app_context():
        person = db.session.get(User, actor.id) if actor is not None else None
        decision_log.record(person, action, cycle_id=cycle_id, **values)
        db.session.commit()


def text_of(html: str) -> str:
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def table_rows(html: str) -> list[str]:
    """The text of each body row of the page's table."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


@pytest.fixture
def calibrating(app, org):
    """pm_a1 (manager_a) and pm_b1 (manager_b) in a session facilitated by the head, with
    manager_a and manager_b voting; manager_b has voted on pm_a1's case."""
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, with_session=True)
    case_id = data.case_ids[org.pm_a1.id]
    ph.vote(app, data.session_id, case_id, org.manager_b, {"skill-0-0": R.EXCEEDS})
    write(
        app,
        org.manager_b,
        LogAction.VOTE,
        cycle_id=data.cycle_id,
        session_id=data.session_id,
        case_id=case_id,
        competency_key="skill-0-0",
        to_value=R.EXCEEDS,
    )
    write(
        app,
        org.head,
        LogAction.AGREED_RATING,
        cycle_id=data.cycle_id,
        session_id=data.session_id,
        case_id=case_id,
        competency_key="skill-0-1",
        from_value=R.MEETS,
        to_value=R.DEVELOPING,
        reason='=HYPERLINK("http://evil.example") <b>not bold</b>',
    )
    return data


def urls(data, org) -> dict[str, str]:
    case_id = data.case_ids[org.pm_a1.id]
    return {
        "case": f"/cases/{case_id}/log",
        "session": f"/sessions/{data.session_id}/log",
        "cycle": f"/promotions/{data.cycle_id}/log",
        "fairness": f"/promotions/{data.cycle_id}/fairness",
    }


EXPECTED = {
    # case log: the committee; never the candidate, nor people outside the case
    "case": {
        "head": 200,
        "manager_a": 200,
        "manager_b": 200,
        "pm_a1": 404,
        "pm_b1": 404,
        "director": 404,
    },
    # session log: its members and the head; other managers 404, PMs refused at the route
    "session": {
        "head": 200,
        "manager_a": 200,
        "manager_b": 200,
        "pm_a1": 403,
        "pm_b1": 403,
        "director": 404,
    },
    "cycle": {
        "head": 200,
        "manager_a": 403,
        "manager_b": 403,
        "pm_a1": 403,
        "pm_b1": 403,
        "director": 403,
    },
    "fairness": {
        "head": 200,
        "manager_a": 403,
        "manager_b": 403,
        "pm_a1": 403,
        "pm_b1": 403,
        "director": 403,
    },
}


@pytest.mark.parametrize("page", list(EXPECTED))
def test_who_may_open_the_records(app, client, org, calibrating, page):
    url = urls(calibrating, org)[page]
    for name, status in EXPECTED[page].items():
        sign_in(client, getattr(org, name))
        assert client.get(url).status_code == status, (name, url)
        if page != "fairness":
            assert client.get(url + "?format=csv").status_code == status, (name, url)
        client.post_form("/logout")


def test_signed_out_people_are_sent_to_sign_in(client, org, calibrating):
    for url in urls(calibrating, org).values():
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_missing_case_session_or_cycle_is_404(client, org, calibrating):
    sign_in(client, org.head)
    for url in ("/cases/999/log", "/sessions/999/log", "/promotions/999/log"):
        assert client.get(url).status_code == 404
    assert client.get("/promotions/999/fairness").status_code == 404


def test_the_log_page_shows_labels_and_hides_votes_until_the_viewer_votes(
    app, client, org, calibrating
):
    url = urls(calibrating, org)["session"]
    sign_in(client, org.manager_a)
    page = client.get(url).get_data(as_text=True)
    newest, oldest = table_rows(page)

    assert "Hana Head Agreed rating Alice Pm Skill 0.1 Meets → to Developing" in newest
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page  # the reason is text, never markup
    assert "A participant Vote recorded Alice Pm Skill 0.0 Hidden (blind pre-vote)" in oldest
    assert "Ben Manager" not in page and "Exceeds" not in page

    ph.vote(
        app,
        calibrating.session_id,
        calibrating.case_ids[org.pm_a1.id],
        org.manager_a,
        {"skill-0-0": R.MEETS},
    )
    _newest, oldest = table_rows(client.get(url).get_data(as_text=True))
    assert "Ben Manager Vote Alice Pm Skill 0.0 Exceeds" in oldest


def test_after_reveal_the_head_sees_the_votes(app, client, org, calibrating):
    sign_in(client, org.head)
    url = urls(calibrating, org)["case"]
    assert "Vote recorded" in client.get(url).get_data(as_text=True)
    with app.app_context():
        db.session.get(CalibrationSession, calibrating.session_id).votes_revealed_at = utcnow()
        db.session.commit()
    _newest, oldest = table_rows(client.get(url).get_data(as_text=True))
    assert "Ben Manager Vote Skill 0.0 Exceeds" in oldest


def test_the_csv_download(client, org, calibrating):
    sign_in(client, org.manager_a)
    response = client.get(urls(calibrating, org)["session"] + "?format=csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="decision-log-senior-pm-calibration-session-'
        f'{calibrating.session_id}.csv"'
    )
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8"))))
    assert table[0] == list(records.CSV_HEADER)
    assert [row[1:] for row in table[1:]] == [
        [
            "Hana Head",
            "Agreed rating",
            "Alice Pm",
            "Skill 0.1",
            "Meets",
            "Developing",
            '\'=HYPERLINK("http://evil.example") <b>not bold</b>',
        ],
        ["A participant", "Vote recorded", "Alice Pm", "Skill 0.0", "", "", ""],
    ]


def test_the_cycle_csv_is_named_after_the_cycle(client, org, calibrating):
    sign_in(client, org.head)
    response = client.get(urls(calibrating, org)["cycle"] + "?format=csv")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="decision-log-h1-2027-cycle-{calibrating.cycle_id}.csv"'
    )


def test_an_empty_log_says_so(app, client, org):
    data = ph.cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION)
    sign_in(client, org.head)
    page = client.get(f"/cases/{data.case_ids[org.pm_a1.id]}/log").get_data(as_text=True)
    assert "Nothing has been recorded here yet." in page
    assert "Download CSV" not in page


def test_long_logs_are_paged_newest_first(app, client, org, calibrating):
    for i in range(records.PER_PAGE):
        write(
            app,
            org.head,
            LogAction.OUTCOME,
            cycle_id=calibrating.cycle_id,
            case_id=calibrating.case_ids[org.pm_b1.id],
            to_value=Outcome.DEFER,
            reason=f"Entry {i:02d}",
        )
    sign_in(client, org.head)
    url = urls(calibrating, org)["cycle"]

    first = client.get(url).get_data(as_text=True)
    second = client.get(url + "?page=2").get_data(as_text=True)

    assert len(table_rows(first)) == records.PER_PAGE
    assert f"Entry {records.PER_PAGE - 1:02d}" in table_rows(first)[0]
    assert "Page 1 of 2 · 52 entries" in text_of(first)
    assert f'href="{url}?page=2"' in first
    assert [row.split(" UTC ")[1] for row in table_rows(second)] == [
        "Hana Head Agreed rating Alice Pm Skill 0.1 Meets → to Developing "
        '=HYPERLINK("http://evil.example") <b>not bold</b>',
        "A participant Vote recorded Alice Pm Skill 0.0 Hidden (blind pre-vote)",
    ]
    assert "There is no page 9" in client.get(url + "?page=9").get_data(as_text=True)


def test_a_log_page_reads_the_same_number_of_queries_for_5_and_50_entries(
    app, client, org, calibrating
):
    def add(n):
        for i in range(n):
            write(
                app,
                org.manager_a if i % 2 else org.head,
                LogAction.VOTE if i % 2 else LogAction.AGREED_RATING,
                cycle_id=calibrating.cycle_id,
                session_id=calibrating.session_id,
                case_id=list(calibrating.case_ids.values())[i % 2],
                competency_key=ph.KEYS[i % 4],
                to_value=R.MEETS,
            )

    sign_in(client, org.manager_b)
    add(3)
    few = {
        k: count_queries(app, client, u)
        for k, u in urls(calibrating, org).items()
        if k in ("case", "session")
    }
    add(45)
    many = {
        k: count_queries(app, client, u)
        for k, u in urls(calibrating, org).items()
        if k in ("case", "session")
    }
    assert many == few


# --- fairness ----------------------------------------------------------------------------------


def fairness_cycle(app, org, make, *, a: int, b: int) -> int:
    levels = ph.publish_sample(app)
    a_people = [make.person(name=f"A report {i}", manager=org.manager_a) for i in range(a)]
    b_people = [make.person(name=f"B report {i}", manager=org.manager_b) for i in range(b)]
    ph.place(app, a_people + b_people, levels["L1"])
    cycle_id = ph.make_cycle(app, phase=CyclePhase.DECISIONS)
    for person in a_people + b_people:
        case_id = ph.make_case(
            app, cycle_id, person, current_level_id=levels["L1"], proposed_level_id=levels["L2"]
        )
        generous = person in a_people
        ph.rate(app, case_id, RatingSource.SELF, ph.all_meets())
        ph.rate(
            app,
            case_id,
            RatingSource.MANAGER,
            dict.fromkeys(ph.KEYS, R.EXCEEDS if generous else R.MEETS),
        )
        ph.rate(app, case_id, RatingSource.AGREED, ph.all_meets())
    return cycle_id


def figures(page: str) -> list[str]:
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1], re.S)
    return [text_of(row) for row in rows]


def test_fairness_per_manager_with_three_people_each(app, client, org, make):
    cycle_id = fairness_cycle(app, org, make, a=3, b=3)
    sign_in(client, org.head)

    page = client.get(f"/promotions/{cycle_id}/fairness").get_data(as_text=True)

    assert figures(page) == [
        f"Ada Manager 3 +1.00 {MINUS}1.00",
        "Ben Manager 3 0.00 0.00",
        f"Whole cycle 6 +0.50 {MINUS}0.50",
    ]


def test_two_people_are_hidden_and_a_total_that_would_reveal_them_too(app, client, org, make):
    cycle_id = fairness_cycle(app, org, make, a=3, b=2)
    sign_in(client, org.head)

    page = client.get(f"/promotions/{cycle_id}/fairness").get_data(as_text=True)

    assert figures(page) == [
        f"Ada Manager 3 +1.00 {MINUS}1.00",
        "Ben Manager Fewer than 3 people — hidden to protect privacy",
        "Whole cycle Hidden: one manager\u2019s figures are hidden, and the whole-cycle "
        "figures would reveal them",
    ]


def test_the_threshold_comes_from_the_configuration(app, make_app, org, make):
    cycle_id = fairness_cycle(app, org, make, a=3, b=2)
    other = make_app(FAIRNESS_MIN_GROUP=2)
    client = other.test_client()
    sign_in(client, org.head)
    assert figures(client.get(f"/promotions/{cycle_id}/fairness").get_data(as_text=True))[1] == (
        "Ben Manager 2 0.00 0.00"
    )
    strict = make_app(FAIRNESS_MIN_GROUP=4).test_client()
    sign_in(strict, org.head)
    page = strict.get(f"/promotions/{cycle_id}/fairness").get_data(as_text=True)
    assert figures(page)[0] == "Ada Manager Fewer than 4 people — hidden to protect privacy"


def test_fairness_without_cases_says_so(app, client, org):
    ph.publish_sample(app)
    cycle_id = ph.make_cycle(app)
    sign_in(client, org.head)
    page = client.get(f"/promotions/{cycle_id}/fairness").get_data(as_text=True)
    assert "There are no open cases in H1 2027 yet" in page


def test_the_fairness_page_reads_a_fixed_number_of_queries(app, client, org, make):
    cycle_id = fairness_cycle(app, org, make, a=3, b=3)
    sign_in(client, org.head)
    url = f"/promotions/{cycle_id}/fairness"
    few = count_queries(app, client, url)
    levels = ph.publish_sample(app)
    for i in range(10):
        person = make.person(name=f"D report {i}", manager=org.director)
        case_id = ph.make_case(
            app, cycle_id, person, current_level_id=levels["L1"], proposed_level_id=levels["L2"]
        )
        ph.rate(app, case_id, RatingSource.MANAGER, ph.all_meets())
    assert count_queries(app, client, url) == few


# --- the panels on the case and cycle pages ----------------------------------------------------


def panel(app, person, template: str, **loaded) -> str:
    """Render a partial as `person` sees it, with the case or cycle its page would pass."""
    with app.test_request_context():
        login_user(db.session.get(User, person.id))
        values = {
            name: (loading.case(i) if name == "case" else loading.cycle(i))
            for name, i in loaded.items()
        }
        html = render_template(template, **values)
        db.session.remove()
        return html


def test_the_case_panel_links_the_committee_to_the_log(app, org, calibrating):
    case_id = calibrating.case_ids[org.pm_a1.id]
    for person in (org.head, org.manager_a, org.manager_b):
        html = panel(app, person, "records/_case_panel.html", case=case_id)
        assert f'href="/cases/{case_id}/log"' in html
        assert f'href="/cases/{case_id}/log?format=csv"' in html
    assert panel(app, org.pm_a1, "records/_case_panel.html", case=case_id).strip() == ""


def test_the_cycle_panel_is_for_the_head(app, org, calibrating):
    cycle_id = calibrating.cycle_id
    html = panel(app, org.head, "records/_cycle_panel.html", cycle=cycle_id)
    for href in (
        f"/promotions/{cycle_id}/log",
        f"/promotions/{cycle_id}/log?format=csv",
        f"/promotions/{cycle_id}/fairness",
    ):
        assert f'href="{href}"' in html
    assert panel(app, org.manager_a, "records/_cycle_panel.html", cycle=cycle_id).strip() == ""
