"""A realistic promotion case for packet tests: 12 competencies, ~60 shared evidence items with
comments, kudos and corroborations, three assessments linked to evidence, blind votes, a locked
session, a decision and a decision log — in a published cycle.

Strings only the committee may read carry a marker (COMMITTEE_ONLY), so a test can prove that
the candidate's copy holds none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    CaseRating,
    CyclePhase,
    DecisionLogEntry,
    Evidence,
    EvidenceKind,
    Outcome,
    PromotionCase,
    Rating,
    RatingSource,
    User,
)
from app.models.base import utcnow
from app.services.evidence import conversation
from tests import evidence_helpers, promotion_helpers
from tests.factories import Organisation

KEYS = [f"skill-{a}-{c}" for a in range(3) for c in range(4)]
KINDS = list(EvidenceKind)
SCALE = [Rating.DEVELOPING, Rating.MEETS, Rating.MEETS, Rating.EXCEEDS]

# Written only where the committee view may show it.
COMMITTEE_ONLY = [
    "MGRSTATEMENTMARK",
    "MGRRATIONALEMARK",
    "AGREEDREASONMARK",
    "LOGREASONMARK",
    "Ben Manager",  # votes, never anything the candidate sees
    "Hana Head",  # facilitator and log actor only
    "Pre-votes",
    "Decision log",
]
# Written where both views show it.
SHARED_TEXT = ["SELFSTATEMENTMARK", "AGREEDRATIONALEMARK", "DECISIONRATIONALEMARK"]


@dataclass(frozen=True)
class PacketCase:
    case_id: int
    cycle_id: int
    session_id: int
    evidence_ids: list[int]


BODY = """We ran **{n} discovery interviews** with admins of mid-sized accounts and learned that
imports fail on the second step far more often than on the first.

- Mapped the drop-off with the data team
- Shipped a fix behind a flag, then to everyone

> "The import finally just works" — a customer on the follow-up call

Next: the same for exports. See [the write-up](https://example.com/write-up/{n})."""


def realistic_case(app, org: Organisation, *, items: int = 60, body=None) -> PacketCase:
    levels = promotion_helpers.publish_sample(app, areas=3, per_area=4)
    promotion_helpers.place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1], levels["L1"])
    cycle_id = promotion_helpers.make_cycle(app, phase=CyclePhase.CALIBRATION)
    case_id = promotion_helpers.make_case(
        app,
        cycle_id,
        org.pm_a1,
        current_level_id=levels["L1"],
        proposed_level_id=levels["L2"],
        statement=(
            "Alice has led discovery for the whole onboarding group this year and is ready for "
            "the next level. She sets direction with the team rather than for it.\n\n"
            "MGRSTATEMENTMARK: the two areas to keep growing are written strategy and coaching."
        ),
    )
    today = date.today()
    evidence_ids = [
        evidence_helpers.record(
            app,
            org.pm_a1,
            title=f"Evidence item {n:02d}: improved onboarding step {n}",
            occurred_on=today - timedelta(days=9 * n + 3),
            kind=KINDS[n % len(KINDS)],
            competency_keys=[KEYS[n % 12], KEYS[(n + 5) % 12]],
            body=(body or BODY).format(n=n),
            metric="Activation" if n % 3 == 0 else "",
            metric_before="31" if n % 3 == 0 else "",
            metric_after=f"{32 + n % 9}" if n % 3 == 0 else "",
            metric_unit="%" if n % 3 == 0 else "",
            links=[(f"https://example.com/item/{n}", "Notes")],
        )
        for n in range(items)
    ]
    _conversation(app, org, evidence_ids[:: max(1, items // 8)])
    session_id = promotion_helpers.make_session(
        app,
        cycle_id,
        facilitator=org.head,
        participants=[org.manager_a, org.manager_b],
        case_ids=[case_id],
    )
    _assessments(app, org, case_id, evidence_ids)
    for voter, shift in ((org.manager_a, 0), (org.manager_b, 1)):
        promotion_helpers.vote(
            app,
            session_id,
            case_id,
            voter,
            {key: SCALE[(i + shift) % 4] for i, key in enumerate(KEYS)},
        )
    _decide(app, org, cycle_id, session_id, case_id)
    return PacketCase(case_id, cycle_id, session_id, evidence_ids)


def _conversation(app, org: Organisation, evidence_ids: list[int]) -> None:
    with app.app_context():
        owner = db.session.get(User, org.pm_a1.id)
        manager = db.session.get(User, org.manager_a.id)
        peer = db.session.get(User, org.pm_b1.id)
        for index, evidence_id in enumerate(evidence_ids):
            item = db.session.get(Evidence, evidence_id)
            conversation.add_comment(
                manager, item, f"Great work on this one — the write-up made the case ({index})."
            )
            conversation.give_kudos(manager, evidence_id)
            if index % 2 == 0:
                request = conversation.request_corroboration(owner, item, peer.id)
                conversation.answer_corroboration(
                    peer, request, confirm=True, note="I was in those interviews."
                )
        db.session.commit()


def _assessments(app, org: Organisation, case_id: int, evidence_ids: list[int]) -> None:
    with app.app_context():
        case = db.session.get(PromotionCase, case_id)
        case.self_statement = (
            "SELFSTATEMENTMARK: this year I moved from running my team's discovery to running "
            "the group's, and I coached two new PMs through their first launches."
        )
        items = {e.id: e for e in db.session.scalars(select(Evidence))}
        for i, key in enumerate(KEYS):
            picks = dict.fromkeys(evidence_ids[(i + 12 * k) % len(evidence_ids)] for k in range(3))
            linked = [items[evidence_id] for evidence_id in picks]
            for source, rating, rationale, reason in (
                (RatingSource.SELF, SCALE[(i + 1) % 4], "I led this across the group.", ""),
                (
                    RatingSource.MANAGER,
                    SCALE[i % 4],
                    "MGRRATIONALEMARK seen in the quarterly reviews.",
                    "",
                ),
                (
                    RatingSource.AGREED,
                    SCALE[(i + 2) % 4],
                    "AGREEDRATIONALEMARK: consistent across the year.",
                    "AGREEDREASONMARK: the evidence is stronger than the rating said.",
                ),
            ):
                db.session.add(
                    CaseRating(
                        case_id=case_id,
                        competency_key=key,
                        source=source,
                        rating=rating,
                        rationale=rationale,
                        reason=reason,
                        evidence=linked,
                    )
                )
        case.self_submitted_at = utcnow()
        case.manager_submitted_at = utcnow()
        db.session.commit()


def _decide(app, org: Organisation, cycle_id: int, session_id: int, case_id: int) -> None:
    from app.models import CalibrationSession

    with app.app_context():
        case = db.session.get(PromotionCase, case_id)
        case.outcome = Outcome.PROMOTE
        case.outcome_rationale = "Calibration agreed she works at the next level in most areas."
        case.decision = Outcome.PROMOTE
        case.decision_rationale = "DECISIONRATIONALEMARK: promote from the next cycle start."
        case.decided_at = utcnow()
        case.decided_by_id = org.head.id
        session = db.session.get(CalibrationSession, session_id)
        session.locked_at = utcnow()
        session.locked_by_id = org.head.id
        for action, actor, key, before, after, reason in (
            ("vote", org.manager_b, KEYS[0], "", "meets", ""),
            ("rating.agreed", org.head, KEYS[0], "developing", "meets", "LOGREASONMARK strong"),
            ("outcome", org.head, None, "", "promote", "Most competencies meet the bar."),
            ("session.locked", org.head, None, "", "", ""),
            ("decision", org.head, None, "", "promote", "As calibrated."),
        ):
            db.session.add(
                DecisionLogEntry(
                    cycle_id=cycle_id,
                    session_id=session_id,
                    case_id=case_id,
                    actor_id=actor.id,
                    action=action,
                    competency_key=key,
                    from_value=before,
                    to_value=after,
                    reason=reason,
                )
            )
        db.session.commit()
    promotion_helpers.set_phase(app, cycle_id, CyclePhase.PUBLISHED)
