"""People's names as the pages abbreviate them: the initials in a small avatar circle.

Names come from anywhere (typed, imported from CSV, from an identity provider): one word, a
surname with particles ("Ludwig van Beethoven"), scripts without case or without spaces
("李小龙", "محمد بن سلمان"), punctuation ("O'Brien", "(Lena)"). The rule stays small: the first
letter of the first word and of the last word that is not a lower-case particle; one letter for
a one-word name; "?" only when there is no character to take at all.
"""

from __future__ import annotations

import unicodedata

UNKNOWN = "?"


def initials(name: str | None) -> str:
    """ "Lena Fischer" → "LF", "Ludwig van Beethoven" → "LB", "Cher" → "C", "李小龙" → "李",
    "山田 太郎" → "山太", "" → "?"."""
    text = unicodedata.normalize("NFC", name or "")
    words = [w for w in text.split() if any(c.isalnum() for c in w)]
    if not words:
        # Nothing but symbols ("🙂", "—"): show the first one rather than pretend to know nothing.
        return text.strip()[:1] or UNKNOWN
    first = _letter(words[0])
    rest = words[1:]
    # Particles (van, de, da, von, bin …) are written in lower case inside a name; skip them
    # unless every later word is lower case (someone typed "lena fischer").
    surnames = [w for w in rest if not _letter(w).islower()] or rest
    last = _letter(surnames[-1]) if surnames else ""
    return first + last


def _letter(word: str) -> str:
    """The word's first letter or digit (skipping quotes and brackets), with its combining marks,
    in upper case when that stays one character ("ß" would become "SS"). Only called for words
    that hold one."""
    i = next(i for i, char in enumerate(word) if char.isalnum())
    end = i + 1
    while end < len(word) and unicodedata.combining(word[end]):
        end += 1
    upper = word[i].upper()
    return (upper if len(upper) == 1 else word[i]) + word[i + 1 : end]
