"""The most text of one field that reaches a PDF, whatever was stored.

Forms and imports limit what can be stored (an evidence body: 20,000 characters; a framework
cell: 5,000), but rows stored before those limits, or written around them, must not make a render
take minutes and gigabytes (a 4 MB framework cell took 536 MB in a web worker). So the data of
every PDF passes through `bounded`: a field longer than PDF_TEXT_MAX is cut, and says so.

20,000 characters is the largest text any form accepts (an evidence body), about six printed
pages: no real field is cut, and a PDF stays a few seconds of work.
"""

from __future__ import annotations

import dataclasses
from typing import Any

PDF_TEXT_MAX = 20_000


def bounded_text(text: str, limit: int = PDF_TEXT_MAX) -> str:
    """The text, or its first `limit` characters and a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters are not shown in this PDF]"


def bounded(value: Any, limit: int = PDF_TEXT_MAX) -> Any:
    """The same value with every string in it bounded: frozen dataclasses, tuples, lists and
    dicts are rebuilt, anything else is returned as it is."""
    if isinstance(value, str):
        return bounded_text(value, limit)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: bounded(getattr(value, f.name), limit) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, (tuple, list)):
        return type(value)(bounded(item, limit) for item in value)
    if isinstance(value, dict):
        return {key: bounded(item, limit) for key, item in value.items()}
    return value
