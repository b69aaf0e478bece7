"""Promotion cases count evidence as growth readiness does: items dated on or after the day the
candidate reached their current level (growth.since), inside the readiness window — in the
calibration grid, on the case page and in the packet, so that every page agrees."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import CyclePhase, Level, PromotionCase, RatingSource, User
from app.services import packets
from app.services.growth import readiness
from app.services.growth.readiness import Status
from app.services.growth.since import case_level_reached
from app.services.people import level_history
from app.services.promotions import loading
from app.services.promotions.calibration import grid
from app.services.promotions.case_evidence import case_evidence
from app.services.promotions.pages import case_page
from tests.clock import TODAY
from tests.factories import sign_in
from tests.promotion_helpers import (
    KEYS,
    M,
    cycle_with_cases,
    make_case,
    make_session,
    rate,
    set_phase,
    vote,
)
from tests.queries import count_queries
from tests.services.test_readiness import log

pytestmark = pytest.mark.midday  # the app's today and TODAY must be the same day

PROMOTED_DAYS_AGO = 20


def _moment(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(12), tzinfo=UTC)


def _promote(app, person, level_id: int, *, days_ago: int) -> None:
    """Move `person` to `level_id` through the level history, `days_ago` days ago."""
    with app.app_context():
        level_history.move(
            db.session.get(User, person.id), level_id, source="promotion", at=_moment(days_ago)
        )
        db.session.commit()


def _text(body: str) -> str:
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


@pytest.fixture
def meeting(app, org):
    """A calibration session with two cases. Alice became L2 twenty days ago and is proposed for
    L3 (4 items needed there): four corroborated items on skill-0-0 from before her promotion
    and four on skill-0-1 from after it. Bea (pm_b1, L1 → L2, no level history) has three
    corroborated items on skill-0-0 from 300 days ago and one on skill-1-0 from last week."""
    data = cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, candidates=("pm_b1",))
    levels = data.level_ids
    _promote(app, org.pm_a1, levels["L2"], days_ago=PROMOTED_DAYS_AGO)
    alice_case = make_case(
        app, data.cycle_id, org.pm_a1, current_level_id=levels["L2"], proposed_level_id=levels["L3"]
    )
    bea_case = data.case_ids[org.pm_b1.id]
    session_id = make_session(
        app,
        data.cycle_id,
        facilitator=org.head,
        participants=[org.manager_a, org.manager_b],
        case_ids=[alice_case, bea_case],
    )
    for days_ago in (40, 41, 42, 43):
        log(app, org.pm_a1, "skill-0-0", days_ago=days_ago, confirmed=1)
    for days_ago in (3, 4, 5, 6):
        log(app, org.pm_a1, "skill-0-1", days_ago=days_ago, confirmed=1)
    for days_ago in (300, 301, 302):
        log(app, org.pm_b1, "skill-0-0", days_ago=days_ago, confirmed=1)
    log(app, org.pm_b1, "skill-1-0", days_ago=7)
    return {**data.__dict__, "session_id": session_id, "alice": alice_case, "bea": bea_case}


def _grid_row(viewer, session_id, case_id):
    page = grid.session_page(viewer, session_id)
    return next(row for row in page.rows if row.case.id == case_id)


def _enough_in_grid(row) -> int:
    return sum(1 for cell in row.cells if cell.sufficiency is Status.ENOUGH)


def test_the_grid_the_case_page_and_the_packet_count_only_evidence_since_the_level(
    app, org, meeting
):
    since = TODAY - timedelta(days=PROMOTED_DAYS_AGO)
    with app.app_context():
        manager = db.session.get(User, org.manager_a.id)
        row = _grid_row(manager, meeting["session_id"], meeting["alice"])
        by_key = {cell.key: cell.sufficiency for cell in row.cells}
        # Four corroborated items would be enough at L3, but they predate the promotion.
        assert by_key["skill-0-0"] is Status.NONE
        assert by_key["skill-0-1"] is Status.ENOUGH
        assert row.evidence_since == since

        evidence = case_evidence(loading.case(meeting["alice"]))
        assert (evidence.enough, evidence.total) == (1, 4)
        assert evidence.level_since == since == evidence.counted_from
        assert "Skill 0 0" not in evidence.thin_names  # none, not thin: nothing counts

        packet = packets.assemble(meeting["alice"], "committee")
        sections = {s.key: s.sufficiency for s in packet.competencies}
        assert sections["skill-0-0"] == "none" and sections["skill-0-1"] == "enough"
        assert packet.period_start == since == packet.level_since
        # The appendix lists the period's items: the older ones are not in it.
        assert {item.occurred_on for item in packet.appendix} == {
            TODAY - timedelta(days=d) for d in (3, 4, 5, 6)
        }


def test_growth_team_grid_case_page_and_packet_agree_on_the_figure(app, org, meeting):
    """The same person and level: one figure everywhere a manager reads it."""
    with app.app_context():
        manager = db.session.get(User, org.manager_a.id)
        growth = readiness.readiness(org.pm_a1.id, shared_only=True)
        assert growth.target.code == "L3"  # the case's proposed level is the next one
        team = readiness.team_readiness([org.pm_a1.id])[org.pm_a1.id]
        case = case_page(manager, meeting["alice"]).evidence
        in_grid = _enough_in_grid(_grid_row(manager, meeting["session_id"], meeting["alice"]))
        packet = packets.assemble(meeting["alice"], "committee")
        in_packet = sum(1 for s in packet.competencies if s.sufficiency == "enough")
        figures = {
            "growth": (growth.count(Status.ENOUGH), len(growth.competencies)),
            "team": (team.enough, team.total),
            "case": (case.enough, case.total),
            "grid": (in_grid, 4),
            "packet": (in_packet, len(packet.competencies)),
        }
        assert set(figures.values()) == {(1, 4)}, figures
        assert growth.level_since == case.level_since == packet.level_since


def test_the_case_page_says_since_when_it_counts(app, org, meeting, client):
    sign_in(client, org.manager_a)
    page = _text(client.get(f"/cases/{meeting['alice']}").get_data(as_text=True))
    since = TODAY - timedelta(days=PROMOTED_DAYS_AGO)
    assert "1 of 4 competencies with enough shared evidence" in page
    assert f"since {since.day} {since.strftime('%b %Y')} , when Alice became Level 2" in page
    assert page.count("when Alice became") == 1
    grid_page = _text(client.get(f"/sessions/{meeting['session_id']}").get_data(as_text=True))
    assert grid_page.count(f"evidence since {since.day} {since.strftime('%b %Y')}") == 1


def test_without_level_history_the_whole_window_counts(app, org, meeting, client):
    with app.app_context():
        manager = db.session.get(User, org.manager_a.id)
        row = _grid_row(manager, meeting["session_id"], meeting["bea"])
        by_key = {cell.key: cell.sufficiency for cell in row.cells}
        assert by_key["skill-0-0"] is Status.ENOUGH  # 300 days old, inside 24 months
        assert by_key["skill-1-0"] is Status.THIN
        assert row.evidence_since is None
        evidence = case_evidence(loading.case(meeting["bea"]))
        assert evidence.level_since is None
        assert evidence.enough == 1
        growth = readiness.readiness(org.pm_b1.id, shared_only=True)
        assert growth.count(Status.ENOUGH) == evidence.enough
        packet = packets.assemble(meeting["bea"], "committee")
        assert packet.level_since is None
        assert packet.period_start == readiness.window_start(packet.period_end, 24)
    sign_in(client, org.manager_b)
    page = _text(client.get(f"/cases/{meeting['bea']}").get_data(as_text=True))
    assert "Bea\N{RIGHT SINGLE QUOTATION MARK}s shared evidence from the last 24 months" in page


def test_a_published_promotion_keeps_counting_from_the_level_the_case_started_at(app, org, meeting):
    """Publishing moves Alice to L3; her case, its grid row and its packet still count from
    the day she became L2, not from the promotion the case brought."""
    since = TODAY - timedelta(days=PROMOTED_DAYS_AGO)
    with app.app_context():
        db.session.get(PromotionCase, meeting["alice"]).decided_at = _moment(1)
        db.session.commit()
    set_phase(app, meeting["cycle_id"], CyclePhase.PUBLISHED)
    with app.app_context():
        l3 = db.session.execute(select(Level.id).where(Level.code == "L3")).scalar_one()
        level_history.move(
            db.session.get(User, org.pm_a1.id), l3, source="promotion", case_id=meeting["alice"]
        )
        db.session.commit()
        assert readiness.readiness(org.pm_a1.id).level_since == TODAY  # growth: a new level
        case = loading.case(meeting["alice"])
        assert case_level_reached([case]) == {org.pm_a1.id: since}
        assert case_evidence(case).enough == 1
        packet = packets.assemble(meeting["alice"], "committee")
        assert packet.level_since == since
        assert sum(1 for s in packet.competencies if s.sufficiency == "enough") == 1


def test_the_grid_reads_the_since_dates_of_every_case_at_once(app, org, make, client):
    """Every candidate has a level history; the grid's queries do not grow with the cases."""
    data = cycle_with_cases(app, org, phase=CyclePhase.CALIBRATION, candidates=())
    levels = data.level_ids

    def session_of(count: int, name: str) -> int:
        case_ids = []
        for n in range(count):
            person = make.person(name=f"{name} {n:02d}", manager=org.manager_a, password=None)
            _promote(app, person, levels["L1"], days_ago=200)
            _promote(app, person, levels["L2"], days_ago=10 + n)
            log(app, person, KEYS[0], days_ago=5)
            case_id = make_case(
                app,
                data.cycle_id,
                person,
                current_level_id=levels["L2"],
                proposed_level_id=levels["L3"],
            )
            rate(app, case_id, RatingSource.MANAGER, dict.fromkeys(KEYS, M), by=org.manager_a)
            case_ids.append(case_id)
        session_id = make_session(
            app,
            data.cycle_id,
            facilitator=org.head,
            participants=[org.manager_a, org.manager_b],
            case_ids=case_ids,
            name=name,
        )
        for case_id in case_ids:
            vote(app, session_id, case_id, org.manager_b, dict.fromkeys(KEYS, M))
        return session_id

    two, twelve = session_of(2, "Small"), session_of(12, "Big")
    sign_in(client, org.manager_a)
    assert count_queries(app, client, f"/sessions/{two}") == count_queries(
        app, client, f"/sessions/{twelve}"
    )
    page = _text(client.get(f"/sessions/{twelve}").get_data(as_text=True))
    assert len(re.findall(r"evidence since \d+ \w+ \d{4}", page)) == 12


def test_the_packet_pdf_names_the_day_the_period_starts_from(app, org, meeting):
    since = TODAY - timedelta(days=PROMOTED_DAYS_AGO)
    with app.app_context():
        pdf = packets.render(meeting["alice"], "candidate")
    text = " ".join(
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert f"{since.day} {since.strftime('%B %Y')}" in text
    assert "from the day Alice became" in text
