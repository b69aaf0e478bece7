"""Pydantic models the API's resources share (a person, a reference to one)."""

from __future__ import annotations

from datetime import datetime

import pydantic

from app.models import Role, User


class PersonRef(pydantic.BaseModel):
    id: int
    name: str


class PersonOut(pydantic.BaseModel):
    """A person as the API shows them: what their profile page shows at the top."""

    id: int
    name: str
    email: str
    role: Role
    manager_id: int | None
    level_id: int | None
    is_active: bool
    deactivated_at: datetime | None

    @classmethod
    def of(cls, person: User) -> PersonOut:
        return cls(
            id=person.id,
            name=person.name,
            email=person.email,
            role=person.role,
            manager_id=person.manager_id,
            level_id=person.level_id,
            is_active=person.deactivated_at is None,
            deactivated_at=person.deactivated_at,
        )
