"""What each person must do now, derived from the state of cycles, cases, sessions, feedback asks
and 1:1 action items: never stored, so a done task drops off by itself.

The home page's "To do", the navigation's count, reminders and the head of product's "who has not
done it yet" all read these functions, so that they cannot disagree about what is due.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class TaskKind(enum.StrEnum):
    NOMINATIONS = "nominations"  # a manager may nominate reports in a cycle's nominations phase
    SELF_ASSESSMENT = "self_assessment"
    MANAGER_ASSESSMENT = "manager_assessment"
    VOTES = "votes"  # a participant's blind votes before a calibration session
    CORROBORATION = "corroboration"  # confirm or decline a colleague's evidence
    FEEDBACK = "feedback"  # answer a feedback request
    ACTION_ITEM = "action_item"  # an open 1:1 action item one owns


@dataclass(frozen=True)
class Task:
    """One thing one person must do. `key` is stable while the task exists ("self_assessment:
    case:12"): reminders and nudges are keyed by it."""

    key: str
    person_id: int
    kind: TaskKind
    title: str  # "Your self-assessment", "Manager assessment of Kwame Mensah"
    detail: str  # one line: the cycle and level, the competencies, the meeting
    endpoint: str  # where it is done
    values: tuple[tuple[str, int], ...] = ()
    due_at: datetime | None = None  # UTC; None: no date set
    cycle_id: int | None = None  # for the head of product's view per phase
    phase: str | None = None
    done: int | None = None  # progress, where it has one (competencies rated)
    total: int | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def is_dated(self) -> bool:
        return self.due_at is not None

    def is_overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at <= now
