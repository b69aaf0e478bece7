"""Rules about frameworks: which versions of a framework a person may read."""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from app.models import FrameworkVersion, Role, User, VersionStatus
from app.policy.rules import rule


def versions_readable_by(viewer: User) -> ColumnElement[bool]:
    """Published and archived versions are for everyone; drafts only for the head of product
    (framework_version.view)."""
    if viewer.role is Role.HEAD:
        return true()
    return FrameworkVersion.status != VersionStatus.DRAFT


@rule("framework_version.view", on=FrameworkVersion, where=versions_readable_by)
def _can_view_version(actor: User, version: FrameworkVersion | None) -> bool:
    """The filter's comparison of columns on one object (tests/services/test_policy_rules.py
    proves them equal)."""
    return version is None or not version.is_draft or actor.role is Role.HEAD
