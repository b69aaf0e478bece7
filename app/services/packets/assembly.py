"""Reading a case into PacketData, in a fixed number of queries whatever its size.

What each view shows follows the policy's rules for the case page, so the PDF never tells anyone
more than the app would:
- the self-assessment once submitted (the committee only after the manager's is in, as
  `case.view_self_assessment`); the manager's assessment and statement once submitted, and never
  in the candidate view (`case.view_assessment`);
- individual votes, with the voters' names, only in the committee view and only once the session
  is locked (`policy.packet_shows_votes`): everyone who may have that view may then see them in
  the app too (`votes.view`); a reveal before the lock is for the session's people alone;
- "private notes" — left out of the candidate view: the manager's statement and rationales, the
  reasons calibration gave for departing from the manager's rating, the decision log, the
  facilitator's name and every vote.

The period is the readiness window (the head of product's `window_months`) ending on the day of
the decision, or the publishing of the cycle, or else the newest change to the case or the
candidate's shared evidence; it starts no earlier than the day the candidate reached the level the
case starts at (growth.since, as readiness counts). Sufficiency is counted over that period, as of
its last day, never "today", so the same data always gives the same packet.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.infra import markdown
from app.infra.pdf_text import bounded
from app.models import (
    CalibrationSession,
    CaseRating,
    Comment,
    Corroboration,
    DecisionLogEntry,
    Evidence,
    FrameworkVersion,
    Kudos,
    Level,
    Outcome,
    PacketView,
    PromotionCase,
    Rating,
    RatingSource,
    Vote,
)
from app.services.evidence import competency_names
from app.services.growth import readiness
from app.services.growth.since import case_level_reached
from app.services.growth.thresholds import thresholds
from app.services.packets import data as d
from app.services.packets.goals import packet_goals
from app.services.promotions.log import LogAction

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
SOURCES = (RatingSource.SELF, RatingSource.MANAGER, RatingSource.AGREED)


def assemble(case_id: int, view: PacketView | str) -> d.PacketData:
    """Everything the packet of one case shows in one view."""
    view = PacketView(view)
    case = _case(case_id)
    version = db.session.execute(
        select(FrameworkVersion)
        .where(FrameworkVersion.id == case.proposed_level.version_id)
        .options(joinedload(FrameworkVersion.framework))
    ).scalar_one()
    committee = view is PacketView.COMMITTEE
    shows_manager = committee and case.manager_submitted_at is not None
    shows_self = case.self_submitted_at is not None and (
        not committee or case.manager_submitted_at is not None
    )
    shown = {RatingSource.AGREED}
    if shows_self:
        shown.add(RatingSource.SELF)
    if shows_manager:
        shown.add(RatingSource.MANAGER)
    ratings = [r for r in case.ratings if r.source in shown]

    all_shared = _shared_evidence(case.candidate_id)
    moments = _case_moments(case)
    anchor = (
        case.decided_at
        or case.cycle.published_at
        or max([*moments, *(e.updated_at for e in all_shared)], default=_EPOCH)
    )
    rules = thresholds()
    period_end = anchor.date()
    since = case_level_reached([case])
    level_since = since.get(case.candidate_id)
    window_start = readiness.window_start(period_end, rules.window_months)
    period_start = max(window_start, level_since) if level_since else window_start
    linked_ids = {e.id for r in ratings for e in r.evidence}
    evidence_rows = [
        e for e in all_shared if e.id in linked_ids or period_start <= e.occurred_on <= period_end
    ]
    expected = readiness.competencies_at([case.proposed_level_id])[case.proposed_level_id]
    names = {c.key: c.name for c in expected}
    items, conversation_at = _evidence_items(evidence_rows, names)
    votes = _votes(case) if committee else []
    log = (
        _log(case, names, hide_votes=not policy.packet_shows_votes(case.session))
        if committee
        else []
    )
    sufficiency = readiness.sufficiency(
        [(case.candidate_id, case.proposed_level_id)], since=since, today=period_end
    )
    sections = _sections(case, expected, ratings, votes, items, sufficiency, committee)
    shows_goals = committee and bool(case.cycle.packets_show_goals)
    goals, goal_moments = (
        packet_goals(case.candidate_id, version.framework_id, anchor) if shows_goals else ((), [])
    )
    as_of = max(
        [
            *moments,
            *(r.updated_at for r in ratings),
            *(v.updated_at for v in votes),
            *(line.at for line in log),
            *(_item_moment(e) for e in evidence_rows),
            conversation_at,
            version.published_at or version.created_at,
            *goal_moments,
        ]
    )
    appendix = tuple(items[e.id] for e in evidence_rows)
    data = d.PacketData(
        layout=d.LAYOUT,
        view=view,
        case_id=case.id,
        candidate=d.Person(case.candidate.id, case.candidate.name),
        manager=d.Person(case.manager.id, case.manager.name),
        cycle=case.cycle.name,
        phase=case.cycle.phase.label,
        current_level=_level(case.current_level),
        proposed_level=_level(case.proposed_level),
        framework=f"{version.name}, version {version.number}",
        as_of=as_of,
        period_start=period_start,
        period_end=period_end,
        level_since=level_since if level_since == period_start else None,
        statement=case.statement if shows_manager else "",
        self_statement=case.self_statement if shows_self else "",
        outcome=case.outcome.label if case.outcome else "",
        outcome_rationale=case.outcome_rationale,
        decision=case.decision.label if case.decision else "",
        decision_rationale=case.decision_rationale,
        decided_on=case.decided_at.date() if case.decided_at else None,
        withdrawn_on=case.withdrawn_at.date() if case.withdrawn_at else None,
        session=case.session.name if case.session else "",
        facilitator=case.session.facilitator.name if committee and case.session else "",
        shows_manager=shows_manager,
        shows_self=shows_self,
        competencies=sections,
        log=tuple(log),
        appendix=appendix,
        kudos_count=sum(len(item.kudos) for item in appendix),
        shows_goals=shows_goals,
        goals=goals,
        goals_as_of=period_end if shows_goals else None,
    )
    # Every text bounded, whatever was stored: a packet stays seconds of work (pdf_text.py).
    return bounded(data)


# --- reading ----------------------------------------------------------------------------------


def _case(case_id: int) -> PromotionCase:
    case = (
        db.session.execute(
            select(PromotionCase)
            .where(PromotionCase.id == case_id)
            .options(
                joinedload(PromotionCase.cycle),
                joinedload(PromotionCase.candidate),
                joinedload(PromotionCase.manager),
                joinedload(PromotionCase.current_level).joinedload(Level.track),
                joinedload(PromotionCase.proposed_level).joinedload(Level.track),
                joinedload(PromotionCase.session).joinedload(CalibrationSession.facilitator),
                selectinload(PromotionCase.ratings).selectinload(CaseRating.evidence),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if case is None:
        raise NotFoundError("Not found.")
    return case


def _shared_evidence(owner_id: int) -> list[Evidence]:
    """The person's shared items outside the Trash, by date then id."""
    return list(
        db.session.scalars(
            select(Evidence)
            .where(
                Evidence.owner_id == owner_id,
                Evidence.is_visible_to_others,
            )
            .options(
                selectinload(Evidence.competencies),
                selectinload(Evidence.links),
                selectinload(Evidence.attachments),
            )
            .order_by(Evidence.occurred_on, Evidence.id)
        )
    )


def _case_moments(case: PromotionCase) -> list[datetime]:
    values = [
        case.created_at,
        case.updated_at,
        case.self_submitted_at,
        case.manager_submitted_at,
        case.decided_at,
        case.withdrawn_at,
        case.cycle.phase_changed_at,
        case.cycle.published_at,
        case.candidate.updated_at,
        case.manager.updated_at,
    ]
    return [value for value in values if value is not None]


def _item_moment(item: Evidence) -> datetime:
    return max(value for value in (item.updated_at, item.shared_at) if value is not None)


def _evidence_items(
    rows: list[Evidence], names: dict[str, str]
) -> tuple[dict[int, d.EvidenceItem], datetime]:
    """The items as packet values, and the newest comment, kudos or corroboration on them."""
    ids = [e.id for e in rows]
    comments = _by_evidence(Comment, ids, Comment.author, Comment.created_at)
    kudos = _by_evidence(Kudos, ids, Kudos.giver, Kudos.created_at)
    corroborations = _by_evidence(
        Corroboration, ids, Corroboration.peer, Corroboration.requested_at
    )
    tag_names = competency_names({t.framework_id for e in rows for t in e.competencies})
    order = {key: position for position, key in enumerate(names)}
    items = {}
    for e in rows:
        tags = sorted(
            e.competencies, key=lambda t: (order.get(t.competency_key, 999), t.competency_key)
        )
        items[e.id] = d.EvidenceItem(
            id=e.id,
            title=e.title,
            occurred_on=e.occurred_on,
            kind=e.kind.label,
            body=e.body,
            excerpt=markdown.html_excerpt(e.html("body"), 320),
            metric=_metric(e),
            competencies=tuple(
                names.get(t.competency_key)
                or tag_names.get((t.framework_id, t.competency_key), t.competency_key)
                for t in tags
            ),
            links=tuple((link.label, link.url) for link in e.links),
            attachments=tuple(a.original_name for a in e.attachments),
            corroborations=tuple(
                d.Corroboration(c.peer.name, c.status.value, c.note) for c in corroborations[e.id]
            ),
            comments=tuple(
                d.Comment(c.author.name, c.body, c.created_at, c.parent_id is not None)
                for c in _threaded(comments[e.id])
            ),
            kudos=tuple(k.giver.name for k in kudos[e.id]),
        )
    moments = [
        *(c.created_at for group in comments.values() for c in group),
        *(k.created_at for group in kudos.values() for k in group),
        *(c.answered_at or c.requested_at for group in corroborations.values() for c in group),
    ]
    return items, max(moments, default=_EPOCH)


def _threaded(comments: list[Comment]) -> list[Comment]:
    """Each top comment followed by its replies, in the order they were written."""
    replies: dict[int, list[Comment]] = defaultdict(list)
    for comment in comments:
        if comment.parent_id is not None:
            replies[comment.parent_id].append(comment)
    ordered = []
    for comment in comments:
        if comment.parent_id is None:
            ordered.append(comment)
            ordered.extend(replies[comment.id])
    return ordered


def _metric(e: Evidence) -> str:
    if not e.metric:
        return ""
    unit = f" {e.metric_unit}" if e.metric_unit else ""
    if e.metric_before and e.metric_after:
        return f"{e.metric}: {e.metric_before} → {e.metric_after}{unit}"
    return f"{e.metric}: {e.metric_after or e.metric_before}{unit}".rstrip(": ")


def _votes(case: PromotionCase) -> list[Vote]:
    if not policy.packet_shows_votes(case.session):
        return []
    return list(
        db.session.scalars(
            select(Vote)
            .where(Vote.case_id == case.id, Vote.session_id == case.session_id)
            .options(joinedload(Vote.voter))
            .order_by(Vote.competency_key, Vote.voter_id, Vote.id)
        )
    )


def _log(case: PromotionCase, names: dict[str, str], *, hide_votes: bool) -> list[d.LogLine]:
    entries = db.session.scalars(
        select(DecisionLogEntry)
        .where(DecisionLogEntry.case_id == case.id)
        .options(joinedload(DecisionLogEntry.actor))
        .order_by(DecisionLogEntry.at, DecisionLogEntry.id)
    )
    lines = []
    for entry in entries:
        try:
            action = LogAction(entry.action).label
        except ValueError:
            action = entry.action
        blind = hide_votes and entry.action == LogAction.VOTE.value
        lines.append(
            d.LogLine(
                id=entry.id,
                at=entry.at,
                actor=entry.actor.name if entry.actor else "Rungs",
                action=action,
                competency=names.get(entry.competency_key or "", entry.competency_key or ""),
                from_value="" if blind else _value_label(entry.from_value),
                to_value="(blind until the session is locked)"
                if blind
                else _value_label(entry.to_value),
                reason=entry.reason,
            )
        )
    return lines


def _value_label(value: str) -> str:
    """Ratings and outcomes by their label; anything else as written."""
    for enum_type in (Rating, Outcome):
        try:
            return enum_type(value).label
        except ValueError:
            pass
    return value


def _level(level: Level) -> d.LevelInfo:
    return d.LevelInfo(level.code, level.title, level.track.name)


# --- per competency ---------------------------------------------------------------------------


def _sections(case, expected, ratings, votes, items, sufficiency, committee):
    by_key: dict[str, dict[RatingSource, CaseRating]] = defaultdict(dict)
    for rating in ratings:
        by_key[rating.competency_key][rating.source] = rating
    votes_by_key: dict[str, list[Vote]] = defaultdict(list)
    for vote in votes:
        votes_by_key[vote.competency_key].append(vote)
    sections = []
    for competency in expected:
        rated = by_key.get(competency.key, {})
        linked = sorted(
            {e.id for r in rated.values() for e in r.evidence if e.id in items},
            key=lambda i: (items[i].occurred_on, i),
        )
        status = sufficiency.get((case.candidate_id, competency.key), readiness.Status.NONE)
        sections.append(
            d.CompetencySection(
                key=competency.key,
                name=competency.name,
                area=competency.area,
                description=competency.description,
                expectation=competency.expectation,
                indicators=tuple((label, tuple(texts)) for label, texts in competency.indicators),
                sufficiency=status.value,
                sufficiency_label=status.label,
                ratings=tuple(
                    _rating_entry(source, rated.get(source), committee)
                    for source in SOURCES
                    if source in {r.source for r in ratings}
                ),
                votes=tuple(
                    d.Vote(v.voter.name, v.rating.label)
                    for v in sorted(
                        votes_by_key[competency.key], key=lambda v: (v.voter.name, v.id)
                    )
                ),
                evidence=tuple(items[i] for i in linked),
            )
        )
    return tuple(sections)


def _rating_entry(
    source: RatingSource, rating: CaseRating | None, committee: bool
) -> d.RatingEntry:
    value = rating.rating if rating else None
    return d.RatingEntry(
        source=source.value,
        label=source.label,
        rating=value.value if value else None,
        rating_label=value.label if value else "Not rated",
        score=value.score if value else 0,
        rationale=rating.rationale if rating else "",
        reason=rating.reason if rating and committee else "",
    )


def _by_evidence(model, evidence_ids, person, when) -> dict[int, list]:
    """Rows of `model` (comments, kudos, corroborations) per evidence id, oldest first, with
    their person loaded: one query for every item."""
    grouped: dict[int, list] = defaultdict(list)
    if evidence_ids:
        for row in db.session.scalars(
            select(model)
            .where(model.evidence_id.in_(evidence_ids))
            .options(joinedload(person))
            .order_by(when, model.id)
        ):
            grouped[row.evidence_id].append(row)
    return grouped
