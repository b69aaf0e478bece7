"""The models, imported here so that metadata is complete wherever any of them is used."""

from app.models.audit import AuditEvent
from app.models.auth import LoginFailure, PasswordResetLink
from app.models.base import Base
from app.models.user import Role, User, mentorships

__all__ = ["AuditEvent", "Base", "LoginFailure", "PasswordResetLink", "Role", "User", "mentorships"]
