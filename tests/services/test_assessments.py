"""Self-assessment and manager assessment: who may fill them in when, what they may link, and
what submitting takes and leaves behind."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    CaseRating,
    CyclePhase,
    DecisionLogEntry,
    Evidence,
    Notification,
    PromotionCase,
    Rating,
    RatingSource,
    Visibility,
)
from app.models.base import utcnow
from app.policy import can
from app.services.promotions import assessments, loading
from app.services.promotions.assessments import EntryInput, IncompleteError, evidence_links, kinds
from tests import evidence_helpers
from tests.promotion_helpers import (
    KEYS,
    all_meets,
    cycle_with_cases,
    make_session,
    rate,
    set_phase,
    user,
)

SELF = RatingSource.SELF
MANAGER = RatingSource.MANAGER


@pytest.fixture
def cycle(app, org):
    return cycle_with_cases(app, org, phase=CyclePhase.SELF_ASSESSMENT)


def revision(case_id: int, source=SELF) -> int:
    """The revision a form opened now would carry: the assessment's stored content's."""
    case = loading.case(case_id)
    return kinds.stored_revision(case, source, kinds.stored_ratings(case_id, source))


def complete(evidence_ids=()) -> dict[str, EntryInput]:
    return {key: EntryInput("meets", f"Rationale for {key}.", tuple(evidence_ids)) for key in KEYS}


def save(person, case_id, source=SELF, entries=None, statement="", *, submit=False, rev=None):
    result = assessments.save(
        user(person),
        case_id,
        source,
        complete() if entries is None else entries,
        statement,
        submit=submit,
        expected_revision=revision(case_id, source) if rev is None else rev,
    )
    db.session.commit()
    return result


def stored(case_id, source) -> dict[str, CaseRating]:
    db.session.expire_all()
    return {
        row.competency_key: row
        for row in db.session.scalars(
            select(CaseRating)
            .where(CaseRating.case_id == case_id, CaseRating.source == source)
            .options(selectinload(CaseRating.evidence))
        )
    }


# --- the form -------------------------------------------------------------------------------


def test_the_form_lists_every_competency_of_the_proposed_level_with_its_expectation(
    app, org, cycle, ctx
):
    form = assessments.assessment(user(org.pm_a1), cycle.case_ids[org.pm_a1.id], SELF)
    assert [entry.key for entry in form.entries] == KEYS
    first = form.entries[0]
    assert (first.area, first.name) == ("Area 0", "Skill 0.0")
    assert first.expectation == "Does skill 0.0 at L2."  # the proposed level's, not L1's
    assert first.indicators == [("Examples", ["An example at L2."])]
    assert form.is_editable and not form.is_submitted


def test_the_form_offers_only_the_candidates_shared_items_newest_first(app, org, cycle):
    old = evidence_helpers.record(app, org.pm_a1, title="Old", occurred_on=date(2026, 1, 5))
    new = evidence_helpers.record(app, org.pm_a1, title="New", occurred_on=date(2026, 6, 5))
    evidence_helpers.record(app, org.pm_a1, title="Draft", visibility=Visibility.PRIVATE)
    trashed = evidence_helpers.record(app, org.pm_a1, title="Trashed")
    evidence_helpers.record(app, org.pm_b1, title="Someone else's")
    evidence_helpers.record(app, org.pm_a1, title="Other skill", competency_keys=["skill-0-1"])
    with app.app_context():
        db.session.get(Evidence, trashed).deleted_at = utcnow()
        db.session.commit()
        form = assessments.assessment(user(org.pm_a1), cycle.case_ids[org.pm_a1.id], SELF)
    by_key = {entry.key: entry for entry in form.entries}
    assert [item.id for item in by_key["skill-0-0"].choices] == [new, old]
    assert [item.title for item in by_key["skill-0-1"].choices] == ["Other skill"]
    assert by_key["skill-1-1"].choices == []
    assert all(item.can_open for item in by_key["skill-0-0"].choices)


def test_the_form_reads_in_a_fixed_number_of_queries(app, org, cycle):
    def queries() -> int:
        statements = []

        def record(*_args):
            statements.append(1)

        with app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                assessments.assessment(user(org.manager_a), cycle.case_ids[org.pm_a1.id], MANAGER)
            finally:
                event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    ids = [evidence_helpers.record(app, org.pm_a1, title=f"Item {n}") for n in range(2)]
    with app.app_context():
        save(org.manager_a, cycle.case_ids[org.pm_a1.id], MANAGER, complete(ids))
    few = queries()
    ids += [evidence_helpers.record(app, org.pm_a1, title=f"Item {n}") for n in range(2, 12)]
    with app.app_context():
        save(org.manager_a, cycle.case_ids[org.pm_a1.id], MANAGER, complete(ids))
    assert queries() == few


def test_at_most_so_many_items_are_offered_but_linked_ones_always_are(app, org, cycle, monkeypatch):
    monkeypatch.setattr(evidence_links, "EVIDENCE_SHOWN", 2)
    ids = [
        evidence_helpers.record(app, org.pm_a1, title=f"Item {n}", occurred_on=date(2026, 1, n))
        for n in range(1, 5)
    ]
    case_id = cycle.case_ids[org.pm_a1.id]
    with app.app_context():
        save(org.pm_a1, case_id, entries={"skill-0-0": EntryInput(evidence_ids=(ids[0],))})
        entry = assessments.assessment(user(org.pm_a1), case_id, SELF).entries[0]
    assert [item.id for item in entry.choices] == [ids[3], ids[2], ids[0]]
    assert entry.more == 1
    assert entry.linked_ids == [ids[0]]


# --- saving ---------------------------------------------------------------------------------


def test_a_draft_may_be_partial_and_is_kept(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    item = evidence_helpers.record(app, org.pm_a1)
    save(
        org.pm_a1,
        case_id,
        entries={"skill-0-0": EntryInput("developing", " Half there. ", (str(item),))},
        statement="I led **discovery**.",
    )
    rows = stored(case_id, SELF)
    assert list(rows) == ["skill-0-0"]
    assert (rows["skill-0-0"].rating, rows["skill-0-0"].rationale) == (
        Rating.DEVELOPING,
        "Half there.",
    )
    assert [e.id for e in rows["skill-0-0"].evidence] == [item]
    case = db.session.get(PromotionCase, case_id)
    assert case.self_statement == "I led **discovery**."
    assert case.self_submitted_at is None
    form = assessments.assessment(user(org.pm_a1), case_id, SELF)
    assert form.entries[0].rating is Rating.DEVELOPING and form.is_editable


def test_submitting_makes_it_read_only_and_tells_the_manager(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    save(org.pm_a1, case_id, statement="Ready.", submit=True)
    case = db.session.get(PromotionCase, case_id)
    assert case.self_submitted_at is not None
    assert {row.rating for row in stored(case_id, SELF).values()} == {Rating.MEETS}
    assert not can(user(org.pm_a1), "case.self_assess", case)
    form = assessments.assessment(user(org.pm_a1), case_id, SELF)
    assert not form.is_editable and "Submitted on" in form.closed_reason
    with pytest.raises(ValidationError, match="was submitted on"):
        save(org.pm_a1, case_id, entries={})
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.recipient_id, n.case_id) for n in notes] == [(org.manager_a.id, case_id)]
    log = db.session.scalars(select(DecisionLogEntry)).all()
    # The self ratings stay out of the case log, which the manager reads before submitting.
    assert [(e.action, e.competency_key, e.to_value) for e in log] == [("self.submitted", None, "")]


def test_the_manager_submission_logs_every_rating_and_nobody_tells_the_candidate(
    app, org, cycle, ctx
):
    case_id = cycle.case_ids[org.pm_a1.id]
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    save(org.manager_a, case_id, MANAGER, statement="Nominated: leads discovery.", submit=True)
    case = db.session.get(PromotionCase, case_id)
    assert case.manager_submitted_at is not None
    assert case.statement == "Nominated: leads discovery."
    log = db.session.scalars(select(DecisionLogEntry).order_by(DecisionLogEntry.id)).all()
    assert [(e.competency_key, e.to_value) for e in log] == [
        (None, ""),
        *[(key, "meets") for key in KEYS],
    ]
    assert {e.action for e in log} == {"manager.submitted"}
    assert log[1].reason == "Rationale for skill-0-0."
    recipients = db.session.scalars(select(Notification.recipient_id)).all()
    assert org.pm_a1.id not in recipients


def test_submitting_needs_a_rating_and_a_rationale_for_every_competency(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    entries = complete()
    entries["skill-0-1"] = EntryInput(None, "Explained but not rated.")
    entries["skill-1-1"] = EntryInput("exceeds", "   ")
    with pytest.raises(IncompleteError) as raised:
        save(org.pm_a1, case_id, entries=entries, submit=True)
    assert raised.value.missing == {"skill-0-1": ["a rating"], "skill-1-1": ["a rationale"]}
    assert "Skill 0.1 (a rating)" in raised.value.message
    assert "Skill 1.1 (a rationale)" in raised.value.message
    db.session.rollback()
    assert stored(case_id, SELF) == {}
    assert db.session.get(PromotionCase, case_id).self_submitted_at is None


def test_an_unknown_rating_value_is_refused_naming_the_competency(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    with pytest.raises(
        ValidationError, match=r"Skill 0\.0: “superb” is not on the scale"
    ) as raised:
        save(org.pm_a1, case_id, entries={"skill-0-0": EntryInput("superb", "x")})
    assert raised.value.field == "skill-0-0-rating"


def test_a_long_rationale_is_refused(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    too_long = "x" * (assessments.RATIONALE_MAX + 1)
    with pytest.raises(ValidationError, match="keep the rationale to 1,000") as raised:
        save(org.pm_a1, case_id, entries={"skill-1-0": EntryInput("meets", too_long)})
    assert raised.value.field == "skill-1-0-rationale"


def test_a_competency_the_level_does_not_have_is_refused(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    with pytest.raises(ValidationError, match="has no competency made-up"):
        save(org.pm_a1, case_id, entries={"made-up": EntryInput("meets", "x")})


@pytest.mark.parametrize("which", ["someone else's", "private draft", "in the Trash", "missing"])
def test_only_the_candidates_shared_items_may_be_linked(app, org, cycle, which):
    case_id = cycle.case_ids[org.pm_a1.id]
    own = evidence_helpers.record(app, org.pm_a1, title="Fine")
    if which == "someone else's":
        bad = evidence_helpers.record(app, org.pm_b1)
    elif which == "private draft":
        bad = evidence_helpers.record(app, org.pm_a1, visibility=Visibility.PRIVATE)
    elif which == "in the Trash":
        bad = evidence_helpers.record(app, org.pm_a1)
        with app.app_context():
            db.session.get(Evidence, bad).deleted_at = utcnow()
            db.session.commit()
    else:
        bad = 999_999
    with app.app_context():
        entries = {
            "skill-0-0": EntryInput("meets", "x", (own,)),
            "skill-1-0": EntryInput("meets", "x", (own, bad)),
        }
        with pytest.raises(
            ValidationError, match=f"evidence item {bad} cannot be linked"
        ) as raised:
            save(org.pm_a1, case_id, entries=entries)
        assert raised.value.field == "skill-1-0-evidence"
        db.session.rollback()
        assert stored(case_id, SELF) == {}  # nothing stored, not even the good link


def test_an_evidence_id_that_is_not_a_number_is_refused(app, org, cycle, ctx):
    with pytest.raises(ValidationError, match="is not an evidence item"):
        save(
            org.pm_a1,
            cycle.case_ids[org.pm_a1.id],
            entries={"skill-0-0": EntryInput(evidence_ids=("1; drop",))},
        )


def test_a_statement_over_the_limit_is_refused(app, org, cycle, ctx):
    with pytest.raises(ValidationError, match="keep it to 20,000") as raised:
        save(org.pm_a1, cycle.case_ids[org.pm_a1.id], statement="x" * 20_001)
    assert raised.value.field == "statement"


def test_a_stale_revision_is_a_conflict_showing_both_versions(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    opened_at = revision(case_id)
    save(org.pm_a1, case_id, entries={"skill-0-0": EntryInput("meets", "From the laptop.")})
    with pytest.raises(ConflictError) as raised:
        save(
            org.pm_a1,
            case_id,
            entries={"skill-0-0": EntryInput("below", "From the phone.")},
            rev=opened_at,
        )
    current = raised.value.current
    assert "saved in another window or by someone else" in raised.value.message
    assert current["entries"][0]["rating"] is Rating.MEETS
    assert current["entries"][0]["rationale"] == "From the laptop."
    db.session.rollback()
    assert stored(case_id, SELF)["skill-0-0"].rationale == "From the laptop."


def test_the_revision_a_save_returns_is_the_one_the_form_then_carries(app, org, cycle, ctx):
    """What the autosave puts in the form's hidden field: the next save from that form (Save
    draft, Submit, the next autosave) is no conflict, and a form opened before it is."""
    case_id = cycle.case_ids[org.pm_a1.id]
    opened_at = revision(case_id)
    first = save(org.pm_a1, case_id, entries={"skill-0-0": EntryInput("meets", "First.")})
    assert first.revision != opened_at
    assert first.revision == assessments.assessment(user(org.pm_a1), case_id, SELF).revision
    save(org.pm_a1, case_id, statement="Then this.", rev=first.revision)  # no conflict
    with pytest.raises(ConflictError):
        save(org.pm_a1, case_id, statement="From the old tab.", rev=first.revision)
    db.session.rollback()
    assert db.session.get(PromotionCase, case_id).self_statement == "Then this."


def test_other_changes_to_the_case_do_not_make_the_form_conflict(app, org, cycle):
    """The form's revision is its own content's: a session planned for the case, or the other
    assessment saved, changes the case but nothing this form would overwrite."""
    case_id = cycle.case_ids[org.pm_a1.id]
    with app.app_context():
        opened_at = revision(case_id)
        case_revision = db.session.get(PromotionCase, case_id).revision
    make_session(app, cycle.cycle_id, facilitator=org.head, participants=[], case_ids=[case_id])
    rate(app, case_id, MANAGER, all_meets(), rationale="The manager's words.")
    with app.app_context():
        assert db.session.get(PromotionCase, case_id).revision != case_revision
        save(org.pm_a1, case_id, entries={"skill-0-0": EntryInput("meets", "Mine.")}, rev=opened_at)
        assert stored(case_id, SELF)["skill-0-0"].rationale == "Mine."
        assert stored(case_id, MANAGER)["skill-0-0"].rationale == "The manager's words."


def test_sending_what_is_stored_again_is_no_conflict(app, org, cycle, ctx):
    """A page closed mid-save sends the same content twice: the second finds it stored."""
    case_id = cycle.case_ids[org.pm_a1.id]
    opened_at = revision(case_id)
    entries = {"skill-0-0": EntryInput("meets", "Same words.")}
    saved = save(org.pm_a1, case_id, entries=entries, statement="Same.", rev=opened_at)
    again = save(org.pm_a1, case_id, entries=entries, statement="Same.", rev=opened_at)
    assert again.revision == saved.revision
    with pytest.raises(ConflictError):  # different words from that old form do conflict
        save(org.pm_a1, case_id, entries=entries, statement="Other.", rev=opened_at)


# --- who, and when ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "source", "message"),
    [
        (CyclePhase.NOMINATIONS, SELF, "Self-assessment is open during self-assessment"),
        (CyclePhase.MANAGER_ASSESSMENT, SELF, "is in manager assessment"),
        (CyclePhase.SELF_ASSESSMENT, MANAGER, "Manager assessment is open during manager"),
        (CyclePhase.CALIBRATION, MANAGER, "is in calibration"),
    ],
)
def test_outside_its_phase_an_assessment_is_refused_with_a_clear_message(
    app, org, cycle, phase, source, message
):
    set_phase(app, cycle.cycle_id, phase)
    person = org.pm_a1 if source is SELF else org.manager_a
    with app.app_context(), pytest.raises(ValidationError, match=message):
        save(person, cycle.case_ids[org.pm_a1.id], source)


@pytest.mark.parametrize(
    ("source", "phase", "who"),
    [
        (SELF, CyclePhase.SELF_ASSESSMENT, "pm_b1"),  # another candidate
        (SELF, CyclePhase.SELF_ASSESSMENT, "pm_a2"),  # a colleague
        (SELF, CyclePhase.SELF_ASSESSMENT, "manager_a"),  # the manager cannot write it for them
        (SELF, CyclePhase.SELF_ASSESSMENT, "manager_b"),
        (MANAGER, CyclePhase.MANAGER_ASSESSMENT, "pm_a1"),  # the candidate
        (MANAGER, CyclePhase.MANAGER_ASSESSMENT, "manager_b"),  # another team's manager
        (MANAGER, CyclePhase.MANAGER_ASSESSMENT, "pm_a2"),
    ],
)
def test_the_wrong_person_is_told_not_found(app, org, cycle, source, phase, who):
    set_phase(app, cycle.cycle_id, phase)
    with app.app_context():
        with pytest.raises(NotFoundError):
            save(getattr(org, who), cycle.case_ids[org.pm_a1.id], source)
        with pytest.raises(NotFoundError):
            assessments.assessment(user(getattr(org, who)), cycle.case_ids[org.pm_a1.id], source)


def test_the_head_of_product_may_write_the_manager_assessment(app, org, cycle, ctx):
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    save(org.head, cycle.case_ids[org.pm_a1.id], MANAGER, submit=True)
    assert db.session.get(PromotionCase, cycle.case_ids[org.pm_a1.id]).manager_submitted_at


def test_a_withdrawn_case_is_closed(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    db.session.get(PromotionCase, case_id).withdrawn_at = utcnow()
    db.session.commit()
    with pytest.raises(ValidationError, match="withdrawn"):
        save(org.pm_a1, case_id)


def test_the_manager_reads_the_self_assessment_only_after_submitting_their_own(
    app, org, cycle, ctx
):
    case_id = cycle.case_ids[org.pm_a1.id]
    save(org.pm_a1, case_id, submit=True)
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    with pytest.raises(NotFoundError):
        assessments.assessment(user(org.manager_a), case_id, SELF)
    case = db.session.get(PromotionCase, case_id)
    assert not assessments.panel(user(org.manager_a), case).shows_self
    save(org.manager_a, case_id, MANAGER, submit=True)
    shown = assessments.assessment(user(org.manager_a), case_id, SELF)
    assert not shown.is_editable
    assert shown.entries[0].rating is Rating.MEETS


def test_the_candidate_never_reads_the_manager_assessment(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    rate(app, case_id, MANAGER, all_meets())
    for phase in CyclePhase:
        set_phase(app, cycle.cycle_id, phase)
        with pytest.raises(NotFoundError):
            assessments.assessment(user(org.pm_a1), case_id, MANAGER)
        db.session.expire_all()
        case = db.session.get(PromotionCase, case_id)
        shown = assessments.panel(user(org.pm_a1), case)
        assert shown.shows_self and not shown.shows_manager
        assert all(row.manager is None for row in shown.rows)
        db.session.rollback()  # SQLite: let set_phase's own session write


# --- the case panel ---------------------------------------------------------------------------


def test_the_panel_links_evidence_only_for_those_who_may_open_it(app, org, cycle):
    case_id = cycle.case_ids[org.pm_a1.id]
    item = evidence_helpers.record(app, org.pm_a1)
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    with app.app_context():
        save(org.manager_a, case_id, MANAGER, complete((item,)), submit=True)
    for viewer, opens in [(org.manager_a, True), (org.head, True), (org.manager_b, None)]:
        with app.app_context():
            case = db.session.get(PromotionCase, case_id)
            if not can(user(viewer), "case.view", case):
                continue  # manager_b is not on this case's committee
            shown = assessments.panel(user(viewer), case)
            linked = shown.rows[0].manager.evidence
            assert [e.id for e in linked] == [item]
            assert linked[0].can_open is opens
            assert linked[0].can_open == can(
                user(viewer), "evidence.view", db.session.get(Evidence, item)
            )


def test_the_panel_hides_linked_items_made_private_from_everyone_but_their_owner(app, org, cycle):
    case_id = cycle.case_ids[org.pm_a1.id]
    item = evidence_helpers.record(app, org.pm_a1)
    with app.app_context():
        save(org.pm_a1, case_id, entries={"skill-0-0": EntryInput("meets", "x", (item,))})
        db.session.get(Evidence, item).visibility = Visibility.PRIVATE
        db.session.commit()
        rate(app, case_id, MANAGER, all_meets())
    with app.app_context():
        case = db.session.get(PromotionCase, case_id)
        case.self_submitted_at = case.manager_submitted_at = utcnow()
        db.session.commit()
        own = assessments.panel(user(org.pm_a1), case).rows[0].self
        theirs = assessments.panel(user(org.manager_a), case).rows[0].self
    assert [e.id for e in own.evidence] == [item]
    assert theirs.evidence == []


def test_a_draft_stays_its_authors_until_submitted(app, org, cycle, ctx):
    case_id = cycle.case_ids[org.pm_a1.id]
    set_phase(app, cycle.cycle_id, CyclePhase.MANAGER_ASSESSMENT)
    save(org.manager_a, case_id, MANAGER, statement="Nominated.")
    case = db.session.get(PromotionCase, case_id)
    # The head of product may read the manager assessment, and writes it too: sees the draft.
    assert assessments.panel(user(org.head), case).rows[0].manager is not None
    assert assessments.panel(user(org.manager_a), case).rows[0].manager is not None
    db.session.rollback()  # SQLite: let set_phase's own session write
    set_phase(app, cycle.cycle_id, CyclePhase.CALIBRATION)
    db.session.expire_all()
    case = db.session.get(PromotionCase, case_id)
    # Unsubmitted when the phase moved on: the head no longer sees a draft as if it were in.
    assert assessments.panel(user(org.head), case).rows[0].manager is None
    assert assessments.panel(user(org.manager_a), case).rows[0].manager is not None


def test_line_breaks_count_once_and_are_stored_as_one(app, org, cycle, ctx):
    """A browser sends a textarea's line breaks as CRLF; the form's count and the person see
    one character each, so the limit and the revision must too."""
    case_id = cycle.case_ids[org.pm_a1.id]
    lines = "\r\n".join(["x" * 61] * 16)  # 991 characters as typed, 1,006 as sent
    assert len(lines.replace("\r\n", "\n")) <= assessments.RATIONALE_MAX < len(lines)
    saved = save(org.pm_a1, case_id, entries={"skill-0-0": EntryInput("meets", lines)})
    assert stored(case_id, SELF)["skill-0-0"].rationale == lines.replace("\r\n", "\n")
    # The same words sent again with other line breaks are the same content: no conflict.
    again = save(
        org.pm_a1,
        case_id,
        entries={"skill-0-0": EntryInput("meets", lines.replace("\r\n", "\n"))},
        rev=saved.revision,
    )
    assert again.revision == saved.revision
