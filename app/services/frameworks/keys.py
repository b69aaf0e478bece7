"""Stable keys made from names, for formats that have names only."""

import re
import unicodedata


def slugify(name: str, fallback: str = "item") -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:80].strip("-") or fallback
