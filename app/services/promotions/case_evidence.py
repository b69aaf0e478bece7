"""A case's evidence at a glance: how many competencies of the proposed level the candidate's
shared evidence covers, counted as the grid, the packet and growth readiness count it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.models import PromotionCase
from app.services.growth import readiness
from app.services.growth.readiness import Status
from app.services.growth.since import case_level_reached
from app.services.growth.thresholds import thresholds


@dataclass(frozen=True)
class CaseEvidence:
    """Per competency of the proposed level, in framework order: (name, status)."""

    statuses: list[tuple[str, Status]]
    counted_from: date  # the first day counted: the window's, or the level's when later
    level_since: date | None  # the day the candidate reached their level, when counting from it
    window_months: int
    keys: tuple[str, ...] = ()  # the competencies' keys, in the order of `statuses`

    def status_of(self, key: str) -> Status:
        return dict(zip(self.keys, (s for _name, s in self.statuses), strict=True)).get(
            key, Status.NONE
        )

    @property
    def total(self) -> int:
        return len(self.statuses)

    def count(self, status: Status) -> int:
        return sum(1 for _name, s in self.statuses if s is status)

    @property
    def enough(self) -> int:
        return self.count(Status.ENOUGH)

    @property
    def tallies(self) -> list[tuple[Status, int]]:
        return [(s, self.count(s)) for s in (Status.ENOUGH, Status.THIN, Status.NONE)]

    def names(self, status: Status) -> list[str]:
        return [name for name, s in self.statuses if s is status]

    @property
    def thin_names(self) -> list[str]:
        return self.names(Status.THIN)

    @property
    def none_names(self) -> list[str]:
        return self.names(Status.NONE)


def case_evidence(case: PromotionCase, *, today: date | None = None) -> CaseEvidence:
    """The candidate's shared evidence per competency of the proposed level (case and cycle
    loaded). A fixed number of queries."""
    today = today or date.today()
    rules = thresholds()
    since = case_level_reached([case])
    found = readiness.sufficiency(
        [(case.candidate_id, case.proposed_level_id)], since=since, today=today
    )
    expected = readiness.competencies_at([case.proposed_level_id])[case.proposed_level_id]
    start = readiness.window_start(today, rules.window_months)
    reached = since.get(case.candidate_id)
    counted_from = max(start, reached) if reached else start
    return CaseEvidence(
        statuses=[(e.name, found.get((case.candidate_id, e.key), Status.NONE)) for e in expected],
        counted_from=counted_from,
        level_since=reached if reached == counted_from else None,
        window_months=rules.window_months,
        keys=tuple(e.key for e in expected),
    )
