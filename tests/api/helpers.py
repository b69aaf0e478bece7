"""Making API tokens for tests, and calling the API with one."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from app.models.identity import ApiScope
from app.services.api import tokens
from tests.factories import Person


def make_token(
    app,
    person: Person,
    *,
    scope: ApiScope = ApiScope.READ_WRITE,
    days: int = 30,
    name: str = "test",
) -> str:
    """A new token's secret, for `person`."""
    with app.app_context():
        owner = db.session.get(User, person.id)
        made = tokens.create_token(owner, name=name, scope=scope, days=days)
        db.session.commit()
        return made.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
