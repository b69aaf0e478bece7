"""Rules about background jobs: a job and its file are for whoever started it."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from app.models import Job, User
from app.policy.rules import rule


def jobs_readable_by(viewer: User) -> ColumnElement[bool]:
    """The jobs the viewer started (job.view)."""
    return Job.created_by_id == viewer.id


@rule("job.view", on=Job, where=jobs_readable_by)
def _own_job(actor: User, job: Job | None) -> bool:
    """The filter's comparison of columns on one object (tests/services/test_policy_rules.py
    proves them equal)."""
    return job is None or job.created_by_id == actor.id
