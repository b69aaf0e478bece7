"""The API's own endpoints: who the token acts as, and the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

import pydantic
from flask import current_app, g, jsonify
from flask_login import current_user

from app.models.identity import ApiScope
from app.services.api import tokens

from . import openapi
from .core import operation
from .schemas import PersonOut


class TokenOut(pydantic.BaseModel):
    name: str
    scope: ApiScope = pydantic.Field(description="read, or read_write (read and write).")
    hint: str
    expires_at: datetime


class MeOut(PersonOut):
    time_zone: str
    token: TokenOut


@operation(
    "GET", "/me", tag="Me", summary="Who the token acts as", action="home.view", response=MeOut
)
def me():
    """The token's owner (whom every other answer is for) and the token itself."""
    token = tokens.get_token(g.api_token_id)
    return MeOut(
        **PersonOut.of(current_user).model_dump(),
        time_zone=current_user.time_zone,
        token=TokenOut(
            name=token.name, scope=token.scope, hint=token.hint, expires_at=token.expires_at
        ),
    )


@operation(
    "GET", "/openapi.json", tag="Meta", summary="This API's OpenAPI 3.1 document", public=True
)
def openapi_document():
    """The document this reference is made from; needs no token."""
    return jsonify(cached_document())


def cached_document() -> dict:
    cache = current_app.extensions.setdefault("rungs_api", {})
    if "document" not in cache:
        cache["document"] = openapi.document(title="Rungs API", version="1.0.0")
    return cache["document"]
