"""Run in child processes by test_concurrency: read-modify-write one person through the service."""

from sqlalchemy.orm.exc import StaleDataError

from app import create_app
from app.core.errors import ConflictError
from app.extensions import db
from app.policy import SYSTEM
from app.services import people
from app.services.people import PersonInput


def increment_name_counter(database_uri: str, person_id: int, times: int) -> int:
    """Add 1 to the number in the person's name `times` times; return how many retries it took."""
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_uri}, environ={})
    retries = 0
    with app.app_context():
        done = 0
        while done < times:
            person = people.get_person(person_id)
            count = int(person.name.split()[-1])
            change = PersonInput(
                email=person.email,
                name=f"Counter {count + 1}",
                role=person.role,
                manager_id=person.manager_id,
            )
            try:
                people.update_person(SYSTEM, person, change, expected_version=person.version)
                db.session.commit()
                done += 1
            except (ConflictError, StaleDataError):
                db.session.rollback()  # someone else saved first: read again, never overwrite
                retries += 1
        db.session.remove()
        db.engine.dispose()
    return retries
