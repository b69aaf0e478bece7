"""The models, imported here so that metadata is complete wherever any of them is used."""

from app.models.audit import AuditEvent
from app.models.auth import LoginFailure, PasswordResetLink
from app.models.base import Base
from app.models.framework import (
    DELEGATION_LEVELS,
    CellStatus,
    Competency,
    CompetencyArea,
    DaciRole,
    DecisionRight,
    Expectation,
    Framework,
    FrameworkVersion,
    Indicator,
    IndicatorKind,
    Level,
    Track,
    VersionStatus,
    competency_tracks,
)
from app.models.user import Role, User, mentorships

__all__ = [
    "DELEGATION_LEVELS",
    "AuditEvent",
    "Base",
    "CellStatus",
    "Competency",
    "CompetencyArea",
    "DaciRole",
    "DecisionRight",
    "Expectation",
    "Framework",
    "FrameworkVersion",
    "Indicator",
    "IndicatorKind",
    "Level",
    "LoginFailure",
    "PasswordResetLink",
    "Role",
    "Track",
    "User",
    "VersionStatus",
    "competency_tracks",
    "mentorships",
]
