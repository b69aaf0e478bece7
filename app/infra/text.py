"""Rules for text that crosses the boundary: typed into a form, in a query string or in a file.

PostgreSQL refuses NUL in text (an error, a 500 unless caught) while SQLite stores it, and lone
surrogates cannot be encoded at all. Refusing control characters (other than tab, line feed and
carriage return) and surrogates where text comes in makes both databases behave alike and keeps
invisible characters out of what people read, export and print.
"""

from __future__ import annotations

import re

from app.core.errors import ValidationError

# C0 controls except \t \n \r, DEL, C1 controls, and UTF-16 surrogates (never valid on their own).
UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unwanted_character(text: str) -> str | None:
    """A description of the first character that text may not hold ("U+0000 at character 12"),
    or None when the text is clean."""
    found = UNWANTED.search(text)
    if found is None:
        return None
    return f"U+{ord(found.group()):04X} at character {found.start() + 1}"


def check_text(text: str, where: str, *, field: str | None = None) -> str:
    """Return text unchanged, or refuse it naming where the control character is."""
    problem = unwanted_character(text)
    if problem is not None:
        raise ValidationError(
            f"{where} contains a control character ({problem}); remove it and try again.",
            field=field,
        )
    return text


# What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_csv_cell(value: object) -> str:
    """A cell a spreadsheet will show as text: OWASP's advice against CSV injection is to prefix
    a leading = + - @ tab or carriage return with an apostrophe, which keeps it from running as
    a formula. A cell that already is apostrophes before such a character gets one more, so that
    restore_csv_cell gives back exactly what was written."""
    cell = "" if value is None else str(value)
    return "'" + cell if cell.lstrip("'")[:1] in FORMULA_STARTS else cell


def restore_csv_cell(cell: str) -> str:
    """The inverse of inert_csv_cell, for CSV files Rungs reads back (framework CSV): one
    apostrophe is taken off a cell that is apostrophes followed by = + - @ tab or CR."""
    if cell[:1] == "'" and cell.lstrip("'")[:1] in FORMULA_STARTS:
        return cell[1:]
    return cell
