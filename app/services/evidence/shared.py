"""A person's shared evidence as someone else reads it (the person page), and what the viewer
said about it: their comments and kudos on the person's items.

Who may read which item is the policy's (`evidence.view`); this module only narrows that to one
person's shared items and the viewer's filters. Every function reads a fixed number of queries
whatever the amount of evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import policy
from app.extensions import db
from app.models import Comment, Evidence, Kudos
from app.services import evidence as evidence_service
from app.services.evidence import conversation
from app.services.evidence.timeline import TimelineFilters, filtered_query, names_for

PER_PAGE = 10
RECENT_GIVEN = 5  # comments and kudos the viewer gave, newest first
DATE_MESSAGE = "Enter a date as YYYY-MM-DD, for example 2026-03-02."


@dataclass(frozen=True)
class FilterInput:
    """The filters as typed into the GET form, before they are checked."""

    competency: str = ""
    since: str = ""
    until: str = ""


@dataclass(frozen=True)
class SharedEvidence:
    """A page of the person's shared items the viewer may read, newest first, narrowed by the
    filters; `errors` names each filter that could not be read (then nothing is listed)."""

    page: Pagination | None
    names: dict[tuple[int, str], str]
    counts: dict[int, conversation.Counts]
    competencies: list[evidence_service.CompetencyChoice]
    typed: FilterInput
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def is_filtered(self) -> bool:
        return bool(self.typed.competency or self.typed.since or self.typed.until)

    @property
    def args(self) -> dict[str, str]:
        """The filters as query arguments, for page links that keep them."""
        values = {
            "competency": self.typed.competency,
            "since": self.typed.since,
            "until": self.typed.until,
        }
        return {key: value for key, value in values.items() if value}


def _parse(typed: FilterInput, known: set[str]) -> tuple[TimelineFilters, dict[str, str]]:
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("since", "until"):
        text = getattr(typed, name)
        days[name] = None
        if text:
            try:
                days[name] = date.fromisoformat(text)
            except ValueError:
                errors[name] = DATE_MESSAGE
    since, until = days["since"], days["until"]
    if since and until and until < since:
        errors["until"] = "The end date is before the start date."
    if typed.competency and typed.competency not in known:
        errors["competency"] = "Choose a competency from the list."
    return TimelineFilters(competency=typed.competency, since=since, until=until), errors


def shared_evidence(viewer, person_id: int, typed: FilterInput, page: int) -> SharedEvidence:
    """The person's shared items the viewer may read (`evidence.view`), newest first."""
    version = evidence_service.published_version_of(person_id)
    choices = evidence_service.competency_choices(person_id) if version else []
    filters, errors = _parse(typed, {choice.key for choice in choices})
    if errors:
        return SharedEvidence(None, {}, {}, choices, typed, errors)
    query = filtered_query(person_id, filters, version.framework_id if version else None).where(
        Evidence.is_visible_to_others, policy.where("evidence.view", viewer)
    )
    found = db.paginate(
        query.options(selectinload(Evidence.competencies)),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
        count=True,
    )
    ids = [item.id for item in found.items]
    counted = conversation.counts(ids)
    return SharedEvidence(
        page=found,
        names=names_for(found.items),
        counts={i: counted.get(i, conversation.Counts()) for i in ids},
        competencies=choices,
        typed=typed,
    )


@dataclass(frozen=True)
class Given:
    """A comment or kudos the viewer gave on one of the person's items."""

    evidence_id: int
    evidence_title: str
    at: datetime
    comment: str  # "" for kudos

    @property
    def is_kudos(self) -> bool:
        return not self.comment


def given_by(viewer, person_id: int, limit: int = RECENT_GIVEN) -> list[Given]:
    """The viewer's latest comments and kudos on the person's items they may still read."""
    readable = (
        Evidence.owner_id == person_id,
        Evidence.is_visible_to_others,
        policy.where("evidence.view", viewer),
    )
    comments = db.session.execute(
        select(Evidence.id, Evidence.title, Comment.created_at, Comment.body)
        .join(Comment, Comment.evidence_id == Evidence.id)
        .where(*readable, Comment.author_id == viewer.id, Comment.body != "")
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()
    kudos = db.session.execute(
        select(Evidence.id, Evidence.title, Kudos.created_at)
        .join(Kudos, Kudos.evidence_id == Evidence.id)
        .where(*readable, Kudos.giver_id == viewer.id)
        .order_by(Kudos.created_at.desc(), Kudos.id.desc())
        .limit(limit)
    ).all()
    rows = [Given(i, title, at, body) for i, title, at, body in comments]
    rows += [Given(i, title, at, "") for i, title, at in kudos]
    return sorted(rows, key=lambda given: given.at, reverse=True)[:limit]
