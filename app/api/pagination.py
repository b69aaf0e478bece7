"""Cursor pagination for the API's lists: `?limit=&cursor=` in, `{items, next_cursor}` out.

The cursor is opaque to clients: the last row's sort-key values, as URL-safe base64 JSON. Use
`PageQuery` (or a subclass with your filters) as the operation's query model, build the list's
select in a service and page it with app.services.api.pages.keyset_page; see people.py."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Generic, TypeVar

import pydantic

from app.core.errors import ValidationError
from app.infra.text import unwanted_character
from app.services.api.pages import CURSOR_REFUSED

Item = TypeVar("Item", bound=pydantic.BaseModel)

LIMIT_DEFAULT = 50
LIMIT_MAX = 200


class PageQuery(pydantic.BaseModel):
    limit: int = pydantic.Field(
        default=LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="How many items per page."
    )
    cursor: str | None = pydantic.Field(
        default=None,
        max_length=500,
        description="The next_cursor of the previous page; omit it for the first page.",
    )


class Page(pydantic.BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = pydantic.Field(
        description="Pass it as cursor for the next page; null on the last page."
    )


def encode_cursor(values: tuple | None) -> str | None:
    if values is None:
        return None
    plain = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, length: int) -> tuple | None:
    """The key values a cursor holds; a cursor this API did not make is a 422 on `cursor`."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = tuple(_value(v) for v in raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        values = ()
    if len(values) != length:
        raise ValidationError(CURSOR_REFUSED, field="cursor")
    return values


def _value(value: Any) -> Any:
    """A key value as this module encodes them: an aware datetime, a number a database column
    holds, or text without control characters."""
    if isinstance(value, dict) and set(value) == {"dt"} and isinstance(value["dt"], str):
        moment = datetime.fromisoformat(value["dt"])
        if moment.tzinfo is None:
            raise ValueError("a cursor's time has its zone")
        return moment
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**62:
        return value
    if isinstance(value, str) and unwanted_character(value) is None:
        return value
    raise ValueError("not a cursor value")
