"""Domain errors. errors.py maps each kind to an HTTP status; the CLI prints their message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Something the user asked for cannot be done; the message says why, in their words."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(DomainError):
    status = 400


class NotFoundError(DomainError):
    status = 404


class ForbiddenError(DomainError):
    status = 403


class ConflictError(DomainError):
    """Someone else changed the record since it was read. `current` holds their values."""

    status = 409

    def __init__(self, message: str, *, current: dict[str, Any] | None = None):
        super().__init__(message)
        self.current = current or {}


class RowErrors(DomainError):
    """A file with one or more bad rows: nothing was stored."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} problem(s) found; nothing was imported.")
        self.errors = errors
