"""The delegation board through HTTP: who sees and plays it, picks hidden from every response
until the reveal, a stale agreement answered 409 with both values, fixed query counts, and the
PDF made by a job."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import (
    DelegationAgreement,
    DelegationBoard,
    DelegationRound,
    DelegationRow,
    Job,
    JobStatus,
    Role,
)
from app.models.base import utcnow
from app.services import delegation, jobs
from tests.delegation_helpers import play, publish_with_rights, row_ids, user
from tests.factories import Person, sign_in
from tests.queries import count_queries

DECISIONS = ("What to build next", "Which experiments to run", "Hiring for the team")


@dataclass(frozen=True)
class Cast:
    person: Person  # reports to manager
    manager: Person  # reports to skip
    skip: Person  # reports to head
    head: Person  # the line's top
    other_head: Person  # head of product outside the line
    mentor: Person
    peer: Person  # same manager
    stranger: Person


@pytest.fixture
def cast(app, make, org) -> Cast:
    person = make.person(name="Pat Person", manager=org.director, mentors=(org.pm_b1,))
    other_head = make.person(name="Olga Otherhead", role=Role.HEAD)
    publish_with_rights(app, [person, org.pm_d1])
    return Cast(
        person=person,
        manager=org.director,
        skip=org.manager_a,
        head=org.head,
        other_head=other_head,
        mentor=org.pm_b1,
        peer=org.pm_d1,
        stranger=org.pm_a1,
    )


def client_of(app, who: Person):
    client = app.test_client()
    sign_in(client, who)
    return client


def board_url(cast: Cast) -> str:
    return f"/people/{cast.person.id}/delegation"


def open_board(app, cast: Cast) -> None:
    with app.app_context():
        delegation.open_board(user(cast.manager), cast.person.id)
        db.session.commit()


# --- who sees what ------------------------------------------------------------------------


READERS = ("person", "manager", "skip", "head")
OUTSIDERS = ("other_head", "mentor", "peer", "stranger")


@pytest.mark.parametrize("who", READERS + OUTSIDERS)
def test_the_board_is_read_by_the_person_and_their_line_only(app, cast, who):
    open_board(app, cast)
    client = client_of(app, getattr(cast, who))
    response = client.get(board_url(cast))
    body = response.get_data(as_text=True)
    pdf_page = client.get(f"/people/{cast.person.id}/delegation.pdf")
    if who in READERS:
        assert response.status_code == 200
        assert all(d in body for d in DECISIONS)
        assert pdf_page.status_code == 200
    else:
        assert response.status_code == 404
        assert not any(d in body for d in DECISIONS)
        assert pdf_page.status_code == 404
        assert client.post_form(f"/people/{cast.person.id}/delegation/pdf").status_code == 404
    # Only the two play: the line above reads, and the forms are not offered to it.
    plays = who in ("person", "manager")
    assert ("Add the decision" in body) is plays
    assert ("Start round 1" in body) is plays
    added = client.post_form(f"{board_url(cast)}/rows", {"decision": f"Row by {who}", "role": ""})
    assert added.status_code == (302 if plays else 404)
    started = client.post_form(f"{board_url(cast)}/rounds")
    assert started.status_code == (302 if plays else 404)


@pytest.mark.parametrize("who", READERS + OUTSIDERS)
def test_the_person_page_panel_follows_the_board(app, cast, who):
    play(
        app,
        cast.manager,
        cast.person,
        person_levels=[5, 5, 2],
        manager_levels=[5, 5, 2],
        agree=[6, 5, 1],
        close=True,
    )
    client = client_of(app, getattr(cast, who))
    page = client.get(f"/people/{cast.person.id}")
    body = page.get_data(as_text=True)
    if who in READERS:
        assert "Delegation board</h2>" in body
        assert "1 above" in body and "1 at" in body and "1 below" in body
    else:
        assert "Delegation board</h2>" not in body


def test_only_the_direct_manager_is_offered_to_open_a_board(app, cast):
    for who, offered in (("manager", True), ("skip", False), ("person", False)):
        body = client_of(app, getattr(cast, who)).get(f"/people/{cast.person.id}")
        assert ("Open a delegation board" in body.get_data(as_text=True)) is offered, who
    skip = client_of(app, cast.skip)
    assert skip.get(board_url(cast)).status_code == 404
    assert skip.post_form(f"{board_url(cast)}/open").status_code == 404
    own = client_of(app, cast.person).get(board_url(cast)).get_data(as_text=True)
    assert "has not opened your delegation board yet" in own
    manager = client_of(app, cast.manager)
    assert manager.post_form(f"{board_url(cast)}/open").status_code == 302
    assert all(d in manager.get(board_url(cast)).get_data(as_text=True) for d in DECISIONS)


# --- hidden picks -------------------------------------------------------------------------

SELECT = re.compile(r"<select\b.*?</select>", re.S)
LEVELS_HELP = re.compile(r'<details class="panel levels-help">.*?</details>', re.S)


def shown(body: str) -> str:
    """The response without the level choices of its forms and the levels' explanation: what
    is left names a level only where the page shows someone's pick or agreement."""
    return LEVELS_HELP.sub("", SELECT.sub("", body))


def test_the_other_s_pick_is_in_no_response_before_the_reveal(app, cast):
    """The manager picks 7 (Delegate) everywhere, the person 1 (Tell) on two of three rows:
    nothing the person or the line above receives names a 7 until the person picks the last
    row; then both picks show together."""
    open_board(app, cast)
    manager, person = client_of(app, cast.manager), client_of(app, cast.person)
    assert manager.post_form(f"{board_url(cast)}/rounds").status_code == 302
    with app.app_context():
        rows = row_ids(cast.person)
        round_id = db.session.scalar(select(DelegationRound.id))
    picks = f"{board_url(cast)}/rounds/{round_id}/picks"
    saved = manager.post_form(picks, {f"pick-{r}": "7" for r in rows}, follow_redirects=True)
    assert "stay hidden" in saved.get_data(as_text=True)
    person_sent = person.post_form(
        picks, {f"pick-{rows[0]}": "1", f"pick-{rows[1]}": "1"}, follow_redirects=True
    )
    refused = person.post_form(picks, {f"pick-{rows[2]}": "9"})  # a 400 page is a response too
    assert refused.status_code == 400
    skip = client_of(app, cast.skip)
    responses = {
        "picks saved": person_sent,
        "refused pick": refused,
        "board": person.get(board_url(cast)),
        "person page": person.get(f"/people/{cast.person.id}"),
        "home": person.get("/"),
        "notifications": person.get("/notifications"),
        "pdf page": person.get(f"/people/{cast.person.id}/delegation.pdf"),
        "skip-level board": skip.get(board_url(cast)),
        "skip-level person page": skip.get(f"/people/{cast.person.id}"),
    }
    for name, response in responses.items():
        body = shown(response.get_data(as_text=True))
        assert "7 Delegate" not in body and "level-7" not in body, name
        assert 'value="7" selected' not in response.get_data(as_text=True), name
    board = responses["board"].get_data(as_text=True)
    assert "You: 2 of 3 picked" in board and "has picked every row" in board  # progress only
    assert "round 1 of Delegation Poker" in responses["notifications"].get_data(as_text=True)

    revealed = person.post_form(picks, {f"pick-{rows[2]}": "2"}, follow_redirects=True)
    body = revealed.get_data(as_text=True)
    assert "the picks are revealed" in body
    assert shown(body).count("7 Delegate") == 3 and "6 levels apart: talk this one through" in body
    assert "7 Delegate" in shown(skip.get(board_url(cast)).get_data(as_text=True))


# --- agreeing -----------------------------------------------------------------------------


def test_a_stale_agreement_is_a_409_showing_both_values(app, cast):
    round_id = play(
        app, cast.manager, cast.person, person_levels=[3, 5, 2], manager_levels=[4, 5, 2]
    )
    with app.app_context():
        row = row_ids(cast.person)[0]
    url = f"{board_url(cast)}/rounds/{round_id}/rows/{row}/agreement"
    person, manager = client_of(app, cast.person), client_of(app, cast.manager)
    first = person.post_form(
        url, {"level": "4", "note": "Pat drafts, Dora signs off", "revision": "0"}
    )
    assert first.status_code == 303
    late = manager.post_form(url, {"level": "3", "note": "Consult me first", "revision": "0"})
    body = late.get_data(as_text=True)
    assert late.status_code == 409
    assert "saved an agreement for this row meanwhile" in body
    assert "Pat drafts, Dora signs off" in body and "Consult me first" in body
    with app.app_context():
        agreement = db.session.scalar(select(DelegationAgreement))
        assert (agreement.level, agreement.note) == (4, "Pat drafts, Dora signs off")
        latest = agreement.revision
    again = manager.post_form(
        url, {"level": "3", "note": "Consult me first", "revision": str(latest)}
    )
    assert again.status_code == 303
    no_level = manager.post_form(url, {"level": "", "note": "", "revision": str(latest + 1)})
    assert no_level.status_code == 400
    assert "Choose a level from 1 (Tell) to 7 (Delegate)." in no_level.get_data(as_text=True)


def test_a_round_closes_once_every_row_is_agreed_and_the_board_shows_it(app, cast):
    round_id = play(
        app,
        cast.manager,
        cast.person,
        person_levels=[6, 5, 2],
        manager_levels=[5, 5, 2],
        agree=[6, 5],
    )
    manager = client_of(app, cast.manager)
    close = f"{board_url(cast)}/rounds/{round_id}/close"
    with app.app_context():
        first, _, last = row_ids(cast.person)
    early = manager.post_form(close, {"agreed": f"{first}:1,{first + 1}:1"}, follow_redirects=True)
    assert "1 row is still open" in early.get_data(as_text=True)
    manager.post_form(
        f"{board_url(cast)}/rounds/{round_id}/rows/{last}/agreement",
        {"level": "1", "note": "", "revision": "0"},
    )
    body = manager.post_form(
        close, {"agreed": agreed_on(manager.get(board_url(cast)))}, follow_redirects=True
    ).get_data(as_text=True)
    assert "The round is closed" in body
    assert "2 above" in body and "1 below" in body  # 6 against 4; 1 against 2
    assert "1 above</span>" in body  # the tally: one row above its expectation
    assert "Start round 2" in body


# --- query counts -------------------------------------------------------------------------


def _grow(app, cast: Cast, *, rows: int, rounds: int) -> None:
    """A board with `rows` rows and `rounds` closed rounds agreeing every row, and an open
    revealed round with picks and agreements: written directly, for speed."""
    with app.app_context():
        board = DelegationBoard(person_id=cast.person.id, created_by_id=cast.manager.id)
        db.session.add(board)
        db.session.flush()
        made = [
            DelegationRow(board_id=board.id, position=n, decision=f"Decision {n}", expected=4)
            for n in range(rows)
        ]
        db.session.add_all(made)
        db.session.flush()
        now = utcnow()
        for number in range(1, rounds + 2):
            is_open = number == rounds + 1
            played = DelegationRound(
                board_id=board.id,
                number=number,
                revealed_at=now,
                closed_at=None if is_open else now,
            )
            db.session.add(played)
            db.session.flush()
            db.session.add_all(
                DelegationAgreement(round_id=played.id, row_id=r.id, level=1 + (number + i) % 7)
                for i, r in enumerate(made)
            )
        db.session.commit()


@pytest.mark.parametrize("shape", ["rows", "rounds"])
@pytest.mark.parametrize("who", ["person", "skip"])
def test_the_board_page_uses_as_many_queries_for_5_as_for_200(app, make, org, shape, who):
    counts = []
    for size in (5, 200):
        person = make.person(name=f"Size {size}", manager=org.director)
        cast = Cast(
            person, org.director, org.manager_a, org.head, org.head, org.pm_b1, org.pm_d1, org.pm_a1
        )
        _grow(
            app, cast, rows=size if shape == "rows" else 3, rounds=size if shape == "rounds" else 2
        )
        client = client_of(app, person if who == "person" else org.manager_a)
        counts.append(
            [count_queries(app, client, path) for path in (board_url(cast), f"/people/{person.id}")]
        )
    assert counts[0] == counts[1]


def test_home_uses_as_many_queries_for_5_as_for_200_boards(app, make, org):
    counts = []
    for size in (5, 200):
        boss = make.person(name=f"Boss {size}", role=Role.MANAGER, manager=org.head)
        for n in range(size):
            report = make.person(name=f"Report {size}-{n}", manager=boss)
            cast = Cast(report, boss, org.head, org.head, org.head, org.pm_b1, org.pm_d1, org.pm_a1)
            _grow(app, cast, rows=2, rounds=1)
        client = client_of(app, boss)
        counts.append(count_queries(app, client, "/"))
        assert f"Report {size}-0" in client.get("/").get_data(as_text=True)
    assert counts[0] == counts[1]


# --- the PDF ------------------------------------------------------------------------------


@pytest.fixture
def no_render_here(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("a PDF was rendered in the web request")

    monkeypatch.setattr("app.infra.pdf.render_pdf", refuse)


def test_the_pdf_is_made_by_a_job_then_served_from_disk(app, cast, no_render_here, tmp_path):
    play(
        app,
        cast.manager,
        cast.person,
        person_levels=[5, 5, 2],
        manager_levels=[5, 5, 2],
        agree=[6, 5, 1],
        close=True,
    )
    person = client_of(app, cast.person)
    url = f"/people/{cast.person.id}/delegation.pdf"
    assert "not made yet" in person.get(url).get_data(as_text=True)
    asked = person.post_form(f"/people/{cast.person.id}/delegation/pdf")
    assert asked.status_code == 303 and "/jobs/" in asked.headers["Location"]
    with app.app_context():
        jobs.run_pending(app)
        job = db.session.scalar(select(Job))
        assert job.status is JobStatus.DONE, job.error
    job_page = person.get(asked.headers["Location"]).get_data(as_text=True)
    board = f'<a href="/people/{cast.person.id}/delegation">Pat Person\u2019s delegation board</a>'
    assert f'<p class="job-about">For {board}</p>' in job_page
    served = person.get(url)
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    data = served.data
    served.close()
    (tmp_path / "board.pdf").write_bytes(data)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for expected in ("Pat Person", "What to build next", "6 Inquire", "1 above", "1 below"):
        assert expected in text, expected
    # The manager asks for the same content: served from disk, no second job.
    again = client_of(app, cast.manager).post_form(f"/people/{cast.person.id}/delegation/pdf")
    assert again.status_code == 303 and again.headers["Location"].endswith("/delegation.pdf")


def test_a_notice_loses_its_link_when_the_board_is_no_longer_readable(app, cast):
    """The person hears that their manager started a round; the manager, moved to another
    line before the reveal, keeps the notice but no link to a board they may no longer read."""
    open_board(app, cast)
    manager = client_of(app, cast.manager)
    manager.post_form(f"{board_url(cast)}/rounds")
    inbox = client_of(app, cast.person).get("/notifications").get_data(as_text=True)
    assert "started round 1 of Delegation Poker on" in inbox
    assert f'href="/people/{cast.person.id}/delegation">your delegation board</a>' in inbox
    play_url = f"{board_url(cast)}/rounds/1/picks"
    with app.app_context():
        rows = row_ids(cast.person)
    person = client_of(app, cast.person)
    person.post_form(play_url, {f"pick-{r}": "4" for r in rows})
    manager.post_form(play_url, {f"pick-{r}": "4" for r in rows})
    told = manager.get("/notifications").get_data(as_text=True)
    assert "and you have both picked: round 1 is revealed on" in told
    with app.app_context():
        user(cast.person).manager_id = cast.mentor.id  # moved to another line
        db.session.commit()
    moved = manager.get("/notifications").get_data(as_text=True)
    assert "a delegation board you can no longer see" in moved
    assert f"/people/{cast.person.id}/delegation" not in moved


def test_a_refused_row_says_why(app, cast):
    round_id = play(
        app, cast.manager, cast.person, person_levels=[4, 5, 2], manager_levels=[4, 5, 2]
    )
    person = client_of(app, cast.person)
    empty = person.post_form(f"{board_url(cast)}/rows", {"decision": " ", "role": ""})
    assert empty.status_code == 400
    # While agreeing, rows stay put: the refusal is said on the page, nothing is added.
    late = person.post_form(f"{board_url(cast)}/rows", {"decision": "Late idea", "role": "driver"})
    assert late.status_code == 400
    assert "change the rows once the round is closed" in late.get_data(as_text=True)
    with app.app_context():
        assert len(row_ids(cast.person)) == 3
        assert db.session.get(DelegationRound, round_id).closed_at is None


def test_a_refused_pick_or_agreement_says_why_whatever_the_round_s_state(app, cast):
    """A pick sent from a page left open across the reveal, and an agreement whose hidden
    revision is garbled, are refused with a message on the page, not a bare 400."""
    round_id = play(
        app, cast.manager, cast.person, person_levels=[4, 5, 2], manager_levels=[4, 5, 2]
    )
    with app.app_context():
        rows = row_ids(cast.person)
    person = client_of(app, cast.person)
    late = person.post_form(f"{board_url(cast)}/rounds/{round_id}/picks", {f"pick-{rows[0]}": "3"})
    assert late.status_code == 400
    assert "revealed already: agree a level now" in late.get_data(as_text=True)
    garbled = person.post_form(
        f"{board_url(cast)}/rounds/{round_id}/rows/{rows[0]}/agreement",
        {"level": "4", "note": "", "revision": "x"},
    )
    assert garbled.status_code == 400
    body = garbled.get_data(as_text=True)
    assert f'id="note-{rows[0]}-error"' in body and "field-error" in body


def agreed_on(page) -> str:
    """The fingerprint the Close button of a board page carries."""
    return re.search(r'name="agreed" value="([^"]*)"', page.get_data(as_text=True)).group(1)


def test_closing_from_a_stale_page_is_a_409_naming_the_changed_rows(app, cast):
    """The manager loads the board with every row agreed; meanwhile the person changes one
    agreement. The manager's Close seals nothing: it answers 409 naming that decision; from
    the reloaded page it closes, and the person hears of it."""
    round_id = play(
        app,
        cast.manager,
        cast.person,
        person_levels=[4, 5, 2],
        manager_levels=[4, 5, 2],
        agree=[4, 5, 2],
    )
    manager, person = client_of(app, cast.manager), client_of(app, cast.person)
    stale = agreed_on(manager.get(board_url(cast)))
    with app.app_context():
        row = row_ids(cast.person)[1]
    changed = person.post_form(
        f"{board_url(cast)}/rounds/{round_id}/rows/{row}/agreement",
        {"level": "6", "note": "More of this is mine", "revision": "1"},
    )
    assert changed.status_code == 303
    close = f"{board_url(cast)}/rounds/{round_id}/close"
    refused = manager.post_form(close, {"agreed": stale})
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "Agreements changed since you loaded the board: Which experiments to run" in body
    with app.app_context():
        assert db.session.get(DelegationRound, round_id).closed_at is None
    fresh = agreed_on(refused)
    assert fresh != stale
    assert manager.post_form(close, {"agreed": fresh}).status_code == 302
    with app.app_context():
        assert db.session.get(DelegationRound, round_id).closed_at is not None
    assert "closed round 1 of Delegation Poker" in person.get("/notifications").get_data(
        as_text=True
    )


def test_a_player_abandons_the_round_from_the_board(app, cast):
    round_id = play(
        app, cast.manager, cast.person, person_levels=[4, 5, 2], manager_levels=[4, 5, 2]
    )
    person, skip = client_of(app, cast.person), client_of(app, cast.skip)
    assert "Abandon round 1" in person.get(board_url(cast)).get_data(as_text=True)
    assert "Abandon round 1" not in skip.get(board_url(cast)).get_data(as_text=True)
    url = f"{board_url(cast)}/rounds/{round_id}/abandon"
    assert skip.post_form(url).status_code == 404
    body = person.post_form(url, follow_redirects=True).get_data(as_text=True)
    assert "The round is abandoned" in body
    assert "1 round abandoned" in body and "Start round 2" in body
