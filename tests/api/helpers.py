"""Making API tokens for tests, calling the API with one, and a test app with operations of
its own (writes, errors) on the real API machinery."""

from __future__ import annotations

from datetime import timedelta

import pydantic
from flask import Blueprint

from app.api.core import operation
from app.core.errors import ConflictError
from app.extensions import csrf, db
from app.models import User
from app.models.base import utcnow
from app.models.identity import ApiScope, ApiToken
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


def change_token(app, secret: str, **values) -> None:
    with app.app_context():
        token = db.session.scalar(
            db.select(ApiToken).where(ApiToken.token_hash == tokens.digest(secret))
        )
        for key, value in values.items():
            setattr(token, key, value)
        db.session.commit()


def expire(app, secret: str) -> None:
    change_token(app, secret, expires_at=utcnow() - timedelta(seconds=1))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class ThingIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str = pydantic.Field(min_length=1, max_length=20)
    size: int = pydantic.Field(ge=1)


class ThingOut(pydantic.BaseModel):
    name: str
    size: int


def extra_blueprint() -> Blueprint:
    """Operations a test app adds under /api/v1/test/: a write, a head-only read, and errors."""
    bp = Blueprint("api_test", __name__, url_prefix="/api/v1/test")

    @operation(
        "POST",
        "/things",
        tag="Test",
        summary="Write",
        action="home.view",
        body=ThingIn,
        response=ThingOut,
        status=201,
        blueprint=bp,
    )
    def make_thing(body: ThingIn):
        return ThingOut(name=body.name, size=body.size)

    @operation(
        "GET",
        "/heads-only",
        tag="Test",
        summary="Head only",
        action="people.manage",
        response=ThingOut,
        blueprint=bp,
    )
    def heads_only():
        return ThingOut(name="secret", size=1)

    @operation(
        "GET",
        "/conflict",
        tag="Test",
        summary="Conflict",
        action="home.view",
        response=ThingOut,
        blueprint=bp,
    )
    def conflict():
        raise ConflictError("Changed meanwhile.", current={"title": "Theirs", "version": 3})

    @operation(
        "GET",
        "/boom",
        tag="Test",
        summary="Bug",
        action="home.view",
        response=ThingOut,
        blueprint=bp,
    )
    def boom():
        raise RuntimeError("a bug")

    csrf.exempt(bp)
    return bp


def app_with_test_operations(make_app, **overrides):
    other = make_app(**overrides)
    other.register_blueprint(extra_blueprint())
    return other
