"""Saving an assessment: every part checked before anything is stored, then a draft or a
submission (read-only from then on, logged, and the manager told of a self-assessment)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app import policy
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.extensions import db
from app.models import CaseRating, Evidence, NotificationKind, PromotionCase, Rating, RatingSource
from app.models.base import utcnow
from app.policy import phases
from app.services import notifications
from app.services.promotions import loading, log
from app.services.promotions.assessments.evidence_links import linkable
from app.services.promotions.assessments.kinds import (
    RATIONALE_MAX,
    STATEMENT_MAX,
    Kind,
    content_revision,
    kind_of,
    linked_visible,
    rated_competencies,
    statement_of,
    stored_ratings,
    stored_revision,
    submitted_at_of,
)


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


@dataclass(frozen=True)
class Saved:
    """What a save leaves: the case, and the revision the form carries from now on."""

    case: PromotionCase
    revision: int
    saved_at: datetime


def save(
    actor,
    case_id: int,
    source: RatingSource,
    entries: Mapping[str, EntryInput],
    statement: str,
    *,
    submit: bool,
    expected_revision: int,
) -> Saved:
    """Store a draft of the assessment, or submit it (then it is read-only). Everything is
    checked before anything is stored; the caller commits.

    `expected_revision` is the content revision the form was opened with (Assessment.revision):
    when the stored content changed since, and what is sent is not that same content, it is a
    conflict showing what is stored. Only this assessment's content counts, so another change
    to the case (a session planned) or a repeated save of the same content never conflicts."""
    kind = kind_of(source)
    case = loading.case(case_id)
    _require_may_fill(actor, case, kind)
    expected = rated_competencies(case)
    names = {competency.key: competency.name for competency in expected}
    unknown = sorted(set(entries) - set(names))
    if unknown:
        raise ValidationError(
            f"{case.proposed_level.title} has no competency {', '.join(unknown)}; reload the "
            "page to see the current list."
        )
    statement = _checked_statement(statement, source)
    wanted = {key: _parsed(key, names[key], entries.get(key, EntryInput())) for key in names}
    stored = stored_ratings(case.id, source)
    revision = _revision(statement, wanted)
    # Only the level's competencies count, as in what is sent (a row outside it never changes).
    current = stored_revision(case, source, {k: r for k, r in stored.items() if k in names})
    if expected_revision != current and revision != current:
        raise ConflictError(
            f"This {kind.name} was saved in another window or by someone else since you opened it.",
            current=_snapshot(actor, case, source, stored),
        )
    evidence = _checked_evidence(case, wanted, names)
    if submit:
        _require_complete(wanted, names, kind)

    # Touch the case first: its version check is the lock two saves of one form meet at.
    now = utcnow()
    _set_statement(case, source, statement)
    case.updated_at = now
    db.session.flush()
    _store(actor, case, stored, source, wanted, evidence)
    if submit:
        _submit(actor, case, kind, wanted)
    db.session.flush()
    return Saved(case, revision, now)


def _require_may_fill(actor, case: PromotionCase, kind: Kind) -> None:
    """Policy decides; when it refuses someone who can see the case, say why in their words
    (wrong phase, withdrawn, already submitted). Everyone else gets a 404."""
    if policy.can(actor, kind.fill, case):
        return
    policy.authorize(actor, "case.view", case)
    if not case.is_open:
        raise ValidationError(f"This case was withdrawn, so its {kind.name} is closed.")
    phases.require(case.cycle, kind.activity)
    submitted_at = submitted_at_of(case, kind.source)
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
    rationale = _one_newline(entry.rationale).strip()
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


def _revision(statement: str, wanted: Mapping[str, _Wanted]) -> int:
    """The content revision of what is being saved, as stored_revision reads it back."""
    return content_revision(
        statement,
        {key: (entry.rating, entry.rationale, entry.evidence_ids) for key, entry in wanted.items()},
    )


def _one_newline(text: str | None) -> str:
    """A browser sends a textarea's line breaks as CRLF: each is one character to the person
    (and to the form's count), and the same words must give the same revision however sent."""
    return (text or "").replace("\r\n", "\n")


def _checked_statement(statement: str, source: RatingSource) -> str:
    statement = _one_newline(statement).strip()
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
    found = linkable(case.candidate_id, requested)
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
            f"{kind.name} can be submitted. Missing: {listed}. What you typed is still in the "
            "form.",
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
    stored: dict[str, CaseRating],
    source: RatingSource,
    wanted: Mapping[str, _Wanted],
    evidence: Mapping[int, Evidence],
) -> None:
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
            [case.manager_id],
            NotificationKind.SELF_ASSESSMENT_SUBMITTED,
            actor_id=actor.id,
            case_id=case.id,
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


def _snapshot(
    actor, case: PromotionCase, source: RatingSource, rows: Mapping[str, CaseRating]
) -> dict:
    """The stored assessment, for the conflict page next to what the person typed."""
    names = {competency.key: competency.name for competency in rated_competencies(case)}
    return {
        "statement": statement_of(case, source),
        "revision": stored_revision(case, source, rows),
        "submitted": submitted_at_of(case, source) is not None,
        "entries": [
            {
                "key": key,
                "name": name,
                "rating": rows[key].rating if key in rows else None,
                "rationale": rows[key].rationale if key in rows else "",
                "evidence": [e.title for e in linked_visible(actor, case, rows[key])]
                if key in rows
                else [],
            }
            for key, name in names.items()
        ],
    }
