"""What the app accepts from a request before any view reads it: text, ids and page numbers.

Every form field, query-string value and path argument of every request is checked here, so a
field added tomorrow is covered without a line of its own: no control characters (PostgreSQL
refuses NUL in text with a 500 while SQLite stores it) and no value longer than any field the
app has. Each form still limits its own fields (a name to 120 characters, and so on) and says so
next to the field; this is the floor under all of them. Uploaded files are not form text: their
importers read them.
"""

from __future__ import annotations

import re

from flask import Request, abort, request
from werkzeug.routing import IntegerConverter

from app.core.errors import ValidationError
from app.infra.text import check_text

# The longest text a field may hold is 20,000 characters (an evidence body, a statement); a
# value far past that is a mistake or an attack, refused before a view renders it back.
VALUE_MAX = 50_000
# Ids are PostgreSQL integers; a larger number in a path can name nothing (and SQLite's driver
# raises OverflowError on a number past 64 bits instead of finding no row).
ID_MAX = 2**31 - 1
# Fields a view makes safe itself rather than refusing: the page to return to after signing in
# is never stored, and one that is not a plain local path sends the person home instead, which
# serves them better than a refused sign-in (a link they followed, not something they typed).
SELF_CLEANED = frozenset({"next"})
# No list has a million pages; past that the offset would overflow the database's integers.
PAGE_MAX = 1_000_000


class DatabaseIntConverter(IntegerConverter):
    """`<int:…>` in a route: a whole number an id column can hold, else the route does not
    match (404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=ID_MAX, signed=False):
        super().__init__(url_map, fixed_digits, min, max, signed)


class CheckedRequest(Request):
    """A request whose form is checked the moment it is read, whoever reads it first (CSRF
    protection, a form, a view), and only then: a view that allows a larger body than the
    default (the "Your data" import) sets its limit before anything reads the form."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        _check_fields("form", self.form)


def check_request() -> None:
    """Refuse (400) a request whose path or query string holds text no field may store."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text(value, "The address", field=name)
    _check_fields("query string", request.args)


def _check_fields(where: str, values) -> None:
    for name, value in values.items(multi=True):
        check_text(name, f"A {where} field name")
        _check_value(name, value)


def _check_value(name: str, value: str) -> None:
    label = f"The field “{name[:60]}”"
    if len(value) > VALUE_MAX:
        raise ValidationError(
            f"{label} is far too long ({len(value):,} characters); shorten it and try again.",
            field=name,
        )
    if name not in SELF_CLEANED:
        check_text(value, label, field=name)


def page_number(name: str = "page") -> int:
    """The page of a list asked for in the query string: 1 when absent or not a number (links
    from before a list shrank stay usable), 404 when no list could have it."""
    value = request.args.get(name, "").strip()
    if not re.fullmatch(r"-?[0-9]+", value):
        return 1
    if len(value) > len(str(PAGE_MAX)) or int(value) > PAGE_MAX:
        abort(404)
    return max(int(value), 1)
