"""Self-assessment and manager assessment of a promotion case: a rating per competency of the
proposed level, a short rationale and links to the candidate's shared evidence.

The candidate fills in the self-assessment during the self-assessment phase, the manager (or the
head of product) the manager assessment during the next one. Drafts may be partial; submitting
needs every competency rated and explained, and makes the assessment read-only. Who may see what
is decided by app/policy.py: the manager sees the self-assessment only once their own is in, and
the candidate never sees the manager's ratings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app import policy
from app.extensions import db
from app.models import (
    CaseRating,
    Evidence,
    EvidenceCompetency,
    EvidenceKind,
    FrameworkVersion,
    Level,
    NotificationKind,
    PromotionCase,
    Rating,
    RatingSource,
)
from app.models.base import utcnow
from app.services import notifications
from app.services.errors import ConflictError, NotFoundError, ValidationError
from app.services.growth import readiness
from app.services.promotions import loading, log, phases
from app.services.promotions.log import LogAction
from app.services.promotions.phases import Activity

RATIONALE_MAX = 1_000
STATEMENT_MAX = 20_000
EVIDENCE_SHOWN = 30  # newest items offered per competency (linked ones are always offered)


@dataclass(frozen=True)
class Kind:
    """What differs between the two assessments."""

    source: RatingSource
    fill: str  # policy action to fill it in
    read: str  # policy action to read it
    activity: Activity
    name: str
    log_action: LogAction


KINDS = {
    RatingSource.SELF: Kind(
        RatingSource.SELF,
        "case.self_assess",
        "case.view_self_assessment",
        Activity.SELF_ASSESS,
        "self-assessment",
        LogAction.SELF_SUBMITTED,
    ),
    RatingSource.MANAGER: Kind(
        RatingSource.MANAGER,
        "case.manager_assess",
        "case.view_assessment",
        Activity.MANAGER_ASSESS,
        "manager assessment",
        LogAction.MANAGER_SUBMITTED,
    ),
}


MANAGER = RatingSource.MANAGER


def _kind(source: RatingSource) -> Kind:
    if source not in KINDS:
        raise ValueError(f"{source!r} is not an assessment (agreed ratings are calibration's)")
    return KINDS[source]


# --- what the pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceItem:
    """An evidence item as an assessment lists it; plain values, so it outlives the commit."""

    id: int
    title: str
    occurred_on: date
    kind: EvidenceKind
    can_open: bool  # the viewer may open its page (policy evidence.view)


@dataclass(frozen=True)
class Entry:
    """One competency of an assessment: what the level expects and what was said about it."""

    key: str
    name: str
    area: str
    description: str
    expectation: str  # "" while the framework leaves the cell undefined
    indicators: list[tuple[str, list[str]]]
    rating: Rating | None
    rationale: str
    linked: list[EvidenceItem]  # the evidence this rating links to
    choices: list[EvidenceItem] = field(default_factory=list)  # what may be linked (editable)
    more: int = 0  # older tagged items not offered

    @property
    def linked_ids(self) -> list[int]:
        return [item.id for item in self.linked]

    @property
    def is_complete(self) -> bool:
        return self.rating is not None and bool(self.rationale.strip())


@dataclass(frozen=True)
class Assessment:
    case: PromotionCase
    source: RatingSource
    entries: list[Entry]
    statement: str  # SELF: the candidate's statement; MANAGER: the nomination statement
    submitted_at: datetime | None
    revision: int  # the case's, carried in the form
    is_editable: bool
    closed_reason: str  # why it cannot be changed (when it cannot)

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def by_area(self) -> list[tuple[str, list[Entry]]]:
        grouped: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            grouped[entry.area].append(entry)
        return list(grouped.items())

    @property
    def complete_count(self) -> int:
        return sum(1 for entry in self.entries if entry.is_complete)


def assessment(actor, case_id: int, source: RatingSource) -> Assessment:
    """The assessment as the actor may see it: a form for the person who fills it in while it
    is open, read-only for those who may read it, NotFoundError for everybody else."""
    kind = _kind(source)
    case = loading.case(case_id)
    is_editable = policy.can(actor, kind.fill, case)
    if not is_editable:
        policy.authorize(actor, kind.read, case)
    expected = _expected(case)
    shows_ratings = _shows_ratings(actor, case, kind)
    ratings = _ratings(case.id, source) if shows_ratings else {}
    linked = {key: [item.id for item in row.evidence] for key, row in ratings.items()}
    choices, more = _choices(case, [e.key for e in expected], linked) if is_editable else ({}, {})
    shown = {item.id for items in choices.values() for item in items}
    shown |= {item.id for row in ratings.values() for item in _linked_visible(actor, case, row)}
    openable = _openable(actor, shown)
    entries = []
    for competency in expected:
        row = ratings.get(competency.key)
        entries.append(
            Entry(
                key=competency.key,
                name=competency.name,
                area=competency.area,
                description=competency.description,
                expectation=competency.expectation,
                indicators=competency.indicators,
                rating=row.rating if row else None,
                rationale=row.rationale if row else "",
                linked=[
                    _item(e, openable) for e in (_linked_visible(actor, case, row) if row else [])
                ],
                choices=[
                    EvidenceItem(i.id, i.title, i.occurred_on, i.kind, i.id in openable)
                    for i in choices.get(competency.key, [])
                ],
                more=more.get(competency.key, 0),
            )
        )
    return Assessment(
        case=case,
        source=source,
        entries=entries,
        # The nomination statement is the case's from the start; the candidate's is a draft.
        statement=_statement(case, source) if shows_ratings or source is MANAGER else "",
        submitted_at=_submitted_at(case, source),
        revision=case.revision,
        is_editable=is_editable,
        closed_reason="" if is_editable else _closed_reason(actor, case, kind),
    )


def _item(evidence: Evidence, openable: set[int]) -> EvidenceItem:
    return EvidenceItem(
        evidence.id, evidence.title, evidence.occurred_on, evidence.kind, evidence.id in openable
    )


def _statement(case: PromotionCase, source: RatingSource) -> str:
    return case.self_statement if source is RatingSource.SELF else case.statement


def _submitted_at(case: PromotionCase, source: RatingSource) -> datetime | None:
    return case.self_submitted_at if source is RatingSource.SELF else case.manager_submitted_at


def _shows_ratings(actor, case: PromotionCase, kind: Kind) -> bool:
    """A draft is its author's until submitted: others (who may read the assessment at all)
    see the ratings once it is in."""
    if _submitted_at(case, kind.source) is not None:
        return True
    if kind.source is RatingSource.SELF:
        return actor.id == case.candidate_id
    return actor.id == case.manager_id or policy.can(actor, kind.fill, case)


def _closed_reason(actor, case: PromotionCase, kind: Kind) -> str:
    submitted_at = _submitted_at(case, kind.source)
    if submitted_at is not None:
        return f"Submitted on {submitted_at:%-d %b %Y}; a submitted {kind.name} cannot be changed."
    if not case.is_open:
        return f"This case was withdrawn, so its {kind.name} is closed."
    if not phases.allows(case.cycle.phase, kind.activity):
        try:
            phases.require(case.cycle, kind.activity)
        except ValidationError as error:
            return error.message
    if kind.source is RatingSource.SELF:
        return f"Only {case.candidate.name} fills in their self-assessment."
    return f"Only {case.manager.name} or the head of product fills in the manager assessment."


def _expected(case: PromotionCase) -> list[readiness.Expected]:
    return readiness.competencies_at([case.proposed_level_id])[case.proposed_level_id]


def _ratings(case_id: int, source: RatingSource) -> dict[str, CaseRating]:
    rows = db.session.scalars(
        select(CaseRating)
        .where(CaseRating.case_id == case_id, CaseRating.source == source)
        .options(selectinload(CaseRating.evidence))
    )
    return {row.competency_key: row for row in rows}


def _linked_visible(actor, case: PromotionCase, row: CaseRating) -> list[Evidence]:
    """Linked items that may be shown: shared ones still out of the Trash; the candidate also
    sees their own items that they made private or deleted since (nobody else does)."""
    if actor.id == case.candidate_id:
        return list(row.evidence)
    return [e for e in row.evidence if e.is_visible_to_others]


def _framework_of(level_id: int):
    return (
        select(FrameworkVersion.framework_id)
        .join(Level, Level.version_id == FrameworkVersion.id)
        .where(Level.id == level_id)
        .scalar_subquery()
    )


def _choices(
    case: PromotionCase, keys: list[str], linked: Mapping[str, list[int]]
) -> tuple[dict[str, list], dict[str, int]]:
    """Per competency, the candidate's shared items tagged with it, newest first (at most
    EVIDENCE_SHOWN, plus any already linked), and how many older ones were left out. One query."""
    if not keys:
        return {}, {}
    linked_ids = {i for ids in linked.values() for i in ids}
    order = (Evidence.occurred_on.desc(), Evidence.id.desc())
    tagged = (
        select(
            EvidenceCompetency.competency_key.label("key"),
            Evidence.id,
            Evidence.title,
            Evidence.occurred_on,
            Evidence.kind,
            func.row_number()
            .over(partition_by=EvidenceCompetency.competency_key, order_by=order)
            .label("position"),
            func.count().over(partition_by=EvidenceCompetency.competency_key).label("total"),
        )
        .join(EvidenceCompetency, EvidenceCompetency.evidence_id == Evidence.id)
        .where(
            Evidence.owner_id == case.candidate_id,
            Evidence.is_visible_to_others,
            EvidenceCompetency.framework_id == _framework_of(case.proposed_level_id),
            EvidenceCompetency.competency_key.in_(keys),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(tagged)
        .where(or_(tagged.c.position <= EVIDENCE_SHOWN, tagged.c.id.in_(linked_ids or {-1})))
        .order_by(tagged.c.key, tagged.c.position)
    ).all()
    choices: dict[str, list] = defaultdict(list)
    more: dict[str, int] = {}
    for row in rows:
        choices[row.key].append(row)
        more[row.key] = row.total
    more = {key: total - len(choices[key]) for key, total in more.items()}
    # Linked items the candidate untagged since: still offered, so that saving keeps the link.
    untagged = linked_ids - {row.id for rows in choices.values() for row in rows}
    if untagged:
        for item in _linkable(case.candidate_id, untagged).values():
            for key, ids in linked.items():
                if item.id in ids:
                    choices[key].append(item)
    return choices, more


def _linkable(candidate_id: int, ids: Iterable[int]) -> dict[int, Evidence]:
    """The candidate's shared items out of the Trash among `ids`."""
    ids = set(ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Evidence).where(
            Evidence.id.in_(ids),
            Evidence.owner_id == candidate_id,
            Evidence.is_visible_to_others,
        )
    )
    return {item.id: item for item in rows}


def _openable(viewer, evidence_ids: set[int]) -> set[int]:
    """Which of these items the viewer may open (policy evidence.view), in one query."""
    if not evidence_ids:
        return set()
    return set(
        db.session.scalars(
            select(Evidence.id).where(
                Evidence.id.in_(evidence_ids), policy.evidence_readable_by(viewer)
            )
        )
    )


# --- saving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryInput:
    """What the form sent for one competency, as typed (the service checks every part)."""

    rating: str | None = None
    rationale: str = ""
    evidence_ids: tuple = ()


class IncompleteError(ValidationError):
    """Submitting needs a rating and a rationale for every competency; `missing` says, per
    competency key, which of the two is missing."""

    def __init__(self, message: str, missing: dict[str, list[str]]):
        super().__init__(message)
        self.missing = missing


def save(
    actor,
    case_id: int,
    source: RatingSource,
    entries: Mapping[str, EntryInput],
    statement: str,
    *,
    submit: bool,
    expected_revision: int,
) -> PromotionCase:
    """Store a draft of the assessment, or submit it (then it is read-only). Everything is
    checked before anything is stored; the caller commits."""
    kind = _kind(source)
    case = loading.case(case_id)
    _require_may_fill(actor, case, kind)
    if case.revision != expected_revision:
        raise ConflictError(
            f"This {kind.name} was saved in another window or by someone else since you opened "
            f"it (version {expected_revision} then, {case.revision} now).",
            current=_snapshot(actor, case, source),
        )
    expected = _expected(case)
    names = {competency.key: competency.name for competency in expected}
    unknown = sorted(set(entries) - set(names))
    if unknown:
        raise ValidationError(
            f"{case.proposed_level.title} has no competency {', '.join(unknown)}; reload the "
            "page to see the current list."
        )
    statement = _checked_statement(statement, source)
    wanted = {key: _parsed(key, names[key], entries.get(key, EntryInput())) for key in names}
    evidence = _checked_evidence(case, wanted, names)
    if submit:
        _require_complete(wanted, names, kind)

    # Touch the case first: its revision check is the lock two saves of one form meet at.
    _set_statement(case, source, statement)
    case.updated_at = utcnow()
    db.session.flush()
    _store(actor, case, source, wanted, evidence)
    if submit:
        _submit(actor, case, kind, wanted)
    db.session.flush()
    return case


def _require_may_fill(actor, case: PromotionCase, kind: Kind) -> None:
    """Policy decides; when it refuses someone who can see the case, say why in their words
    (wrong phase, withdrawn, already submitted). Everyone else gets a 404."""
    if policy.can(actor, kind.fill, case):
        return
    policy.authorize(actor, "case.view", case)
    if not case.is_open:
        raise ValidationError(f"This case was withdrawn, so its {kind.name} is closed.")
    phases.require(case.cycle, kind.activity)
    submitted_at = _submitted_at(case, kind.source)
    if submitted_at is not None:
        raise ValidationError(
            f"This {kind.name} was submitted on {submitted_at:%-d %b %Y}; it cannot be changed."
        )
    raise NotFoundError("Not found.")


@dataclass(frozen=True)
class _Wanted:
    rating: Rating | None
    rationale: str
    evidence_ids: frozenset[int]

    @property
    def is_empty(self) -> bool:
        return self.rating is None and not self.rationale and not self.evidence_ids


def _parsed(key: str, name: str, entry: EntryInput) -> _Wanted:
    raw = (entry.rating or "").strip()
    try:
        rating = Rating(raw) if raw else None
    except ValueError:
        labels = ", ".join(r.label for r in Rating)
        raise ValidationError(
            f"{name}: “{raw[:40]}” is not on the scale; choose one of {labels}.",
            field=f"{key}-rating",
        ) from None
    rationale = (entry.rationale or "").strip()
    if len(rationale) > RATIONALE_MAX:
        raise ValidationError(
            f"{name}: keep the rationale to {RATIONALE_MAX:,} characters "
            f"(it has {len(rationale):,}); link evidence for the detail.",
            field=f"{key}-rationale",
        )
    ids = set()
    for value in entry.evidence_ids:
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise ValidationError(
                f"{name}: “{str(value)[:40]}” is not an evidence item.", field=f"{key}-evidence"
            ) from None
    return _Wanted(rating, rationale, frozenset(ids))


def _checked_statement(statement: str, source: RatingSource) -> str:
    statement = (statement or "").strip()
    if len(statement) > STATEMENT_MAX:
        what = "Your statement" if source is RatingSource.SELF else "The statement"
        raise ValidationError(
            f"{what} is {len(statement):,} characters long; keep it to {STATEMENT_MAX:,}.",
            field="statement",
        )
    return statement


def _checked_evidence(
    case: PromotionCase, wanted: Mapping[str, _Wanted], names: Mapping[str, str]
) -> dict[int, Evidence]:
    """Links only to the candidate's shared items out of the Trash (what the committee can read);
    the message does not say whether a refused id exists."""
    requested = {i for entry in wanted.values() for i in entry.evidence_ids}
    found = _linkable(case.candidate_id, requested)
    for key, entry in wanted.items():
        refused = sorted(entry.evidence_ids - found.keys())
        if refused:
            raise ValidationError(
                f"{names[key]}: evidence item {', '.join(map(str, refused))} cannot be linked; "
                f"link only {case.candidate.name}'s shared evidence that is not in the Trash.",
                field=f"{key}-evidence",
            )
    return found


def _require_complete(wanted: Mapping[str, _Wanted], names: Mapping[str, str], kind: Kind) -> None:
    missing: dict[str, list[str]] = {}
    for key, entry in wanted.items():
        gaps = []
        if entry.rating is None:
            gaps.append("a rating")
        if not entry.rationale:
            gaps.append("a rationale")
        if gaps:
            missing[key] = gaps
    if missing:
        listed = "; ".join(f"{names[key]} ({' and '.join(gaps)})" for key, gaps in missing.items())
        raise IncompleteError(
            f"Not submitted: every competency needs a rating and a rationale before the "
            f"{kind.name} can be submitted. Missing: {listed}. Nothing was saved; what you "
            "typed is still in the form.",
            missing,
        )


def _set_statement(case: PromotionCase, source: RatingSource, statement: str) -> None:
    if source is RatingSource.SELF:
        case.self_statement = statement
    else:
        case.statement = statement


def _store(
    actor,
    case: PromotionCase,
    source: RatingSource,
    wanted: Mapping[str, _Wanted],
    evidence: Mapping[int, Evidence],
) -> None:
    stored = _ratings(case.id, source)
    for key, entry in wanted.items():
        row = stored.get(key)
        if row is None:
            if entry.is_empty:
                continue
            row = CaseRating(case_id=case.id, competency_key=key, source=source)
            row.evidence = []
            db.session.add(row)
        linked = sorted(entry.evidence_ids)
        if (
            row.id is not None
            and row.rating is entry.rating
            and row.rationale == entry.rationale
            and sorted(e.id for e in row.evidence) == linked
        ):
            continue
        row.rating = entry.rating
        row.rationale = entry.rationale
        row.evidence = [evidence[i] for i in linked]
        row.updated_at = utcnow()
        row.updated_by_id = actor.id


def _submit(actor, case: PromotionCase, kind: Kind, wanted: Mapping[str, _Wanted]) -> None:
    now = utcnow()
    if kind.source is RatingSource.SELF:
        case.self_submitted_at = now
        # The manager is told it is in; they read it only after submitting their own (policy).
        notifications.notify(
            [case.manager_id], NotificationKind.CASE_PHASE, actor_id=actor.id, case_id=case.id
        )
    else:
        case.manager_submitted_at = now
    log.record(actor, kind.log_action, cycle_id=case.cycle_id, case_id=case.id)
    if kind.source is RatingSource.MANAGER:
        # The self-assessment's ratings stay out of the log: the case log is read by the
        # manager, who must not see them before submitting their own.
        for key, entry in wanted.items():
            log.record(
                actor,
                kind.log_action,
                cycle_id=case.cycle_id,
                case_id=case.id,
                competency_key=key,
                to_value=entry.rating,
                reason=entry.rationale,
            )


def _snapshot(actor, case: PromotionCase, source: RatingSource) -> dict:
    """The stored assessment, for the conflict page next to what the person typed."""
    names = {competency.key: competency.name for competency in _expected(case)}
    rows = _ratings(case.id, source)
    return {
        "statement": _statement(case, source),
        "revision": case.revision,
        "submitted": _submitted_at(case, source) is not None,
        "entries": [
            {
                "key": key,
                "name": name,
                "rating": rows[key].rating if key in rows else None,
                "rationale": rows[key].rationale if key in rows else "",
                "evidence": [e.title for e in _linked_visible(actor, case, rows[key])]
                if key in rows
                else [],
            }
            for key, name in names.items()
        ],
    }


# --- the case page's panel ---------------------------------------------------------------------


@dataclass(frozen=True)
class RatingView:
    rating: Rating | None
    rationale: str
    evidence: list[EvidenceItem]


@dataclass(frozen=True)
class PanelRow:
    key: str
    name: str
    area: str
    self: RatingView | None  # None: nothing stored, or the viewer may not see it
    manager: RatingView | None


@dataclass(frozen=True)
class Panel:
    rows: list[PanelRow]
    shows_self: bool
    shows_manager: bool
    self_submitted_at: datetime | None
    manager_submitted_at: datetime | None
    self_started: bool
    manager_started: bool
    may_self_assess: bool
    may_manager_assess: bool


def panel(viewer, case: PromotionCase) -> Panel:
    """The self and manager ratings of a case as the viewer may see them, in a fixed number of
    queries (the case comes from loading.case)."""
    shows_self = policy.can(viewer, "case.view_self_assessment", case)
    shows_manager = policy.can(viewer, "case.view_assessment", case)
    sources = [RatingSource.SELF] if shows_self else []
    sources += [RatingSource.MANAGER] if shows_manager else []
    sources = [s for s in sources if _shows_ratings(viewer, case, KINDS[s])]
    stored: dict[tuple[RatingSource, str], CaseRating] = {}
    started: set[RatingSource] = set()
    if sources:
        rows = db.session.scalars(
            select(CaseRating)
            .where(CaseRating.case_id == case.id, CaseRating.source.in_(sources))
            .options(selectinload(CaseRating.evidence))
        )
        for row in rows:
            stored[(row.source, row.competency_key)] = row
            started.add(row.source)
    openable = _openable(
        viewer, {e.id for row in stored.values() for e in _linked_visible(viewer, case, row)}
    )

    def view(source: RatingSource, key: str) -> RatingView | None:
        row = stored.get((source, key))
        if row is None:
            return None
        items = [_item(e, openable) for e in _linked_visible(viewer, case, row)]
        return RatingView(row.rating, row.rationale, items)

    rows = [
        PanelRow(
            c.key, c.name, c.area, view(RatingSource.SELF, c.key), view(RatingSource.MANAGER, c.key)
        )
        for c in _expected(case)
    ]
    return Panel(
        rows=rows,
        shows_self=shows_self,
        shows_manager=shows_manager,
        self_submitted_at=case.self_submitted_at,
        manager_submitted_at=case.manager_submitted_at,
        self_started=RatingSource.SELF in started or bool(case.self_statement),
        manager_started=RatingSource.MANAGER in started,
        may_self_assess=policy.can(viewer, "case.self_assess", case),
        may_manager_assess=policy.can(viewer, "case.manager_assess", case),
    )
