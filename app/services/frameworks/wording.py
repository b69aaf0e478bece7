"""How a framework's cells read: one measure for each expectation, openings a level's cells share,
and a level that differs from the one below only in how far it reaches. Warnings, never errors:
a draft is written cell by cell, and a head of product may publish one that is still rough."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import NamedTuple

# Words that say how far an expectation reaches rather than what the person does. A cell that
# only swaps these for the level below ("for their team" → "across the company") describes the
# same work at a wider scope, which does not tell two levels apart. Entries of two words are
# matched as a phrase ("product line", "company level"), so "product" alone still counts
# ("product strategy"). Articles, possessives and the prepositions scope hangs on are here too:
# "for their team" and "at company level" must both leave nothing behind. Words that are often
# what the person works on or with, not how far it reaches, are left out: "domain" ("learns the
# domain"), "function", "business", "own" ("writes their own specs") and "one". Words are compared
# after lower-casing and removing punctuation and a possessive "'s" (see `words`).
SCOPE_WORDS = frozenset(
    {
        # what is covered
        "team", "teams", "squad", "squads", "tribe", "tribes", "pod", "pods",
        "group", "groups", "area", "areas",
        "product area", "product areas", "product line", "product lines",
        "product-area", "product-areas", "product-line", "product-lines",
        "product group", "product groups", "business unit", "business units",
        "department", "departments", "division", "divisions",
        "portfolio", "portfolios", "org", "orgs",
        "organisation", "organisations", "organization", "organizations",
        "company", "companies", "company-wide", "organisation-wide", "organization-wide",
        "org-wide", "team-wide", "cross-team", "multi-team", "cross-functional",
        "team level", "product level", "company level", "organisation level",
        "organization level", "team-level", "product-level", "company-level",
        "organisation-level", "organization-level",
        # how much of it
        "several", "multiple", "many", "all", "every", "each", "whole", "entire", "other",
        "wider", "broader", "larger", "bigger",
        # the small words scope hangs on
        "the", "a", "an", "their", "its", "his", "her", "our",
        "across", "within", "for", "in", "of", "at", "to", "throughout", "beyond",
    }
)  # fmt: skip
_LONGEST_SCOPE = max(len(entry.split()) for entry in SCOPE_WORDS)

# What each check is called in a warning's `kind` (document.Problem.kind): the editor lists the
# cells without a measure together by it, whatever the message says.
NO_MEASURE_KIND = "no_measure"
MEASURES_KIND = "measures"
OPENING_KIND = "shared_opening"
SCOPE_KIND = "scope_only"

# What a written cell without a measure is told, after its competency and level.
NO_MEASURE = "has no measure: say how you will know it is met"

# A level's cells share an opening too often when at least this many do, and at least this share
# of the level's written cells: six of twelve Principal cells opening "Shapes how the company"
# read as one sentence with the nouns swapped.
OPENING_WORDS = 3
OPENING_MIN_CELLS = 3
OPENING_MIN_SHARE = 0.25

_NOT_IN_A_WORD = re.compile("[^\\w'\u2019-]")  # keeps letters, digits, apostrophes, hyphens
_POSSESSIVE = re.compile("['\u2019]s$")
_LEFT_OVER = re.compile("['\u2019]|^-+|-+$")


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, without punctuation or a possessive "'s"."""
    found = []
    for token in text.lower().split():
        word = _POSSESSIVE.sub("", _NOT_IN_A_WORD.sub("", token))
        word = _LEFT_OVER.sub("", word)
        if word:
            found.append(word)
    return found


def without_scope(text: str) -> Counter[str]:
    """The words of a text once the scope words are taken out, in any order."""
    remaining: Counter[str] = Counter()
    found = words(text)
    i = 0
    while i < len(found):
        for size in range(min(_LONGEST_SCOPE, len(found) - i), 0, -1):
            if " ".join(found[i : i + size]) in SCOPE_WORDS:
                i += size
                break
        else:
            remaining[found[i]] += 1
            i += 1
    return remaining


@dataclass(frozen=True)
class Written:
    """A defined cell, as the checks read it: where it is, what it says, the level below."""

    path: str  # the cell's path in the document
    competency: str  # the competency's name
    code: str  # the level's code
    text: str
    measures: int  # how many of its indicators are measures
    # The code and text of the level below, if written: on the cell's track, or for a track's
    # first level the highest-ranked level below it on another track.
    below: tuple[str, str] | None = None


class Flag(NamedTuple):
    """A warning about a cell: where (a path in the document), what, and which check found it."""

    path: str
    message: str
    kind: str


def warnings(cells: list[Written]) -> list[Flag]:
    """Each warning: a cell without a measure or with several, an opening that too many cells of
    one level share, a cell that differs from the level below only in scope words."""
    found = []
    shared = _shared_openings(cells)
    for cell in cells:
        place = f"{cell.competency} at {cell.code}"
        if cell.measures == 0:
            found.append(Flag(f"{cell.path}.indicators", f"{place} {NO_MEASURE}", NO_MEASURE_KIND))
        elif cell.measures > 1:
            found.append(
                Flag(
                    f"{cell.path}.indicators",
                    f"{place} has {cell.measures} measures: keep the one that best says how "
                    "you will know it is met",
                    MEASURES_KIND,
                )
            )
        if cell.path in shared:
            found.append(Flag(f"{cell.path}.text", shared[cell.path], OPENING_KIND))
        if _only_scope_differs(cell):
            found.append(
                Flag(
                    f"{cell.path}.text",
                    f"{place} differs from {cell.below[0]}, the level below, only in scope "
                    "words (team, product line, company…): say what the person does "
                    "differently, not only how far it reaches",
                    SCOPE_KIND,
                )
            )
    return found


def _shared_openings(cells: list[Written]) -> dict[str, str]:
    """The warning of each cell whose opening too many cells of its level share, by its path."""
    by_level: dict[str, list[Written]] = defaultdict(list)
    for cell in cells:
        by_level[cell.code].append(cell)
    messages = {}
    for code, level_cells in by_level.items():
        openings = {c.path: tuple(words(c.text)[:OPENING_WORDS]) for c in level_cells}
        counts = Counter(o for o in openings.values() if len(o) == OPENING_WORDS)
        for cell in level_cells:
            count = counts.get(openings[cell.path], 0)
            if count >= OPENING_MIN_CELLS and count >= OPENING_MIN_SHARE * len(level_cells):
                opening = " ".join(cell.text.split()[:OPENING_WORDS]).rstrip(".,;:")
                messages[cell.path] = (
                    f'{cell.competency} at {code} opens with "{opening}"; {count} of the '
                    f"{len(level_cells)} written cells at {code} open this way: say what is new "
                    "at this level in words of its own"
                )
    return messages


def _only_scope_differs(cell: Written) -> bool:
    if cell.below is None:
        return False
    below = cell.below[1]
    if words(cell.text) == words(below):
        return False  # the same text: document.check says so already
    return without_scope(cell.text) == without_scope(below)
