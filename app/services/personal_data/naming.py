"""Names in an export's paths: a readable ASCII slug of a title or a person's name."""

from __future__ import annotations

import re
import unicodedata


def slug(text: str, length: int = 50) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:length].strip("-") or "item"
