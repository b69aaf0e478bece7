"""A person's own settings: the time zone that every date and time is shown in."""

from __future__ import annotations

from app.core.errors import ValidationError
from app.extensions import db
from app.infra import timezones
from app.models import User
from app.services import audit


def set_time_zone(person: User, name: str | None) -> User:
    """Show dates and times to `person` in the IANA zone `name` ("Europe/Berlin")."""
    name = (name or "").strip()
    if not timezones.is_known(name):
        raise ValidationError(
            "Choose a time zone from the list, for example Europe/Berlin.", field="time_zone"
        )
    if person.time_zone != name:
        audit.record(
            person,
            "account.time_zone",
            person,
            before={"time_zone": person.time_zone},
            after={"time_zone": name},
        )
        person.time_zone = name
        db.session.flush()
    return person
