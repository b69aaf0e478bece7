"""What a packet shows, as plain frozen values: the templates read these and nothing else.

Everything is in a stable order (competencies in framework order, evidence by date then id, the
log by time then id), so the same data always gives the same canonical JSON and the same PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.models import PacketView

# Bump when the templates change what a packet shows, so that a stored packet is made again.
LAYOUT = 3  # 2: the period starts when the candidate reached their level; 3: growth-plan goals


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class LevelInfo:
    code: str
    title: str
    track: str


@dataclass(frozen=True)
class Corroboration:
    peer: str
    status: str  # confirmed, declined, pending
    note: str


@dataclass(frozen=True)
class Comment:
    author: str
    body: str  # markdown
    at: datetime
    is_reply: bool


@dataclass(frozen=True)
class EvidenceItem:
    id: int
    title: str
    occurred_on: date
    kind: str  # label
    body: str  # markdown
    excerpt: str  # plain text
    metric: str  # "Activation: 31 → 38 %", "" without one
    competencies: tuple[str, ...]  # names, in framework order
    links: tuple[tuple[str, str], ...]  # (label, url)
    attachments: tuple[str, ...]  # file names only: files are never embedded
    corroborations: tuple[Corroboration, ...]
    comments: tuple[Comment, ...]
    kudos: tuple[str, ...]  # names of the givers

    @property
    def confirmed(self) -> int:
        return sum(1 for c in self.corroborations if c.status == "confirmed")


@dataclass(frozen=True)
class RatingEntry:
    source: str  # self, manager, agreed
    label: str  # Self, Manager, Agreed
    rating: str | None  # below … exceeds; None when not rated
    rating_label: str
    score: int  # 1…4, 0 when not rated
    rationale: str  # markdown
    reason: str  # agreed only: why calibration departed from the manager's rating


@dataclass(frozen=True)
class Vote:
    voter: str
    rating_label: str


@dataclass(frozen=True)
class CompetencySection:
    key: str
    name: str
    area: str
    description: str
    expectation: str
    indicators: tuple[tuple[str, tuple[str, ...]], ...]
    sufficiency: str  # enough, thin, none
    sufficiency_label: str
    ratings: tuple[RatingEntry, ...]  # self, manager, agreed: only those the view shows
    votes: tuple[Vote, ...]  # committee view only
    evidence: tuple[EvidenceItem, ...]  # linked from a rating the view shows

    def rating(self, source: str) -> RatingEntry | None:
        return next((r for r in self.ratings if r.source == source), None)


@dataclass(frozen=True)
class LogLine:
    id: int
    at: datetime
    actor: str
    action: str  # label
    competency: str
    from_value: str
    to_value: str
    reason: str


@dataclass(frozen=True)
class GoalLine:
    """A growth-plan goal of the candidate, for the committee (when the cycle shows them)."""

    competency: str
    level: str  # "Senior PM (L4)"
    change: str
    measure: str
    status: str  # label
    outcome: str  # done: what was achieved
    dropped_reason: str
    proposed_on: date
    agreed_on: date | None
    target_on: date | None
    closed_on: date | None
    evidence: int  # shared items linked


@dataclass(frozen=True)
class PacketData:
    layout: int
    view: PacketView
    case_id: int
    candidate: Person
    manager: Person
    cycle: str
    phase: str
    current_level: LevelInfo
    proposed_level: LevelInfo
    framework: str  # "Product management, version 3"
    as_of: datetime  # the newest change in everything below
    period_start: date
    period_end: date
    level_since: date | None  # period_start, when it is the day the candidate reached their level
    statement: str  # the manager's, markdown ("" when the view leaves it out)
    self_statement: str  # markdown
    outcome: str  # label, "" when not decided
    outcome_rationale: str
    decision: str
    decision_rationale: str
    decided_on: date | None
    withdrawn_on: date | None
    session: str  # name, "" without one
    facilitator: str  # committee view only
    shows_manager: bool  # the manager's assessment is in this packet
    shows_self: bool
    competencies: tuple[CompetencySection, ...]
    log: tuple[LogLine, ...]  # committee view only
    appendix: tuple[EvidenceItem, ...]
    kudos_count: int
    shows_goals: bool = False  # committee view of a cycle whose packets show growth plans
    goals: tuple[GoalLine, ...] = ()  # the candidate's agreed goals in the packet's framework
    goals_as_of: date | None = None  # the goals stand as they were on this day (the anchor)

    @property
    def is_committee(self) -> bool:
        return self.view is PacketView.COMMITTEE

    @property
    def is_decided(self) -> bool:
        return bool(self.decision or self.outcome)

    @property
    def title(self) -> str:
        return f"Promotion packet: {self.candidate.name}, {self.cycle}"
