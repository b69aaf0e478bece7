"""How a framework's cells read: a measure for each expectation, openings a level's cells share,
and a level that differs from the one below only in how far it reaches. Warnings, never errors:
a draft is written cell by cell, and a head of product may publish one that is still rough."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.models import CellStatus, IndicatorKind

if TYPE_CHECKING:  # document.check calls this module
    from app.services.frameworks.document import CellDoc, CompetencyDoc, FrameworkDoc, Report

# Words that say how far an expectation reaches rather than what the person does. A cell that
# only swaps these for the level below ("for their team" → "across the company") describes the
# same work at a wider scope, which does not tell two levels apart. Entries of two words are
# matched as a phrase ("product line"), so "product" alone still counts ("product strategy").
# Articles, possessives and the prepositions scope hangs on are here too: "for their team" and
# "across the whole company" must both leave nothing behind. Words are compared after
# lower-casing and removing punctuation and a possessive "'s" (see `words`).
SCOPE_WORDS = frozenset(
    {
        # what is covered
        "team", "teams", "squad", "squads", "tribe", "tribes", "pod", "pods",
        "group", "groups", "area", "areas", "domain", "domains",
        "product area", "product areas", "product line", "product lines",
        "product group", "product groups", "business unit", "business units",
        "department", "departments", "function", "functions", "division", "divisions",
        "portfolio", "portfolios", "business", "org", "orgs",
        "organisation", "organisations", "organization", "organizations",
        "company", "companies", "company-wide", "organisation-wide", "organization-wide",
        "org-wide", "team-wide", "cross-team", "multi-team", "cross-functional",
        # how much of it
        "several", "multiple", "many", "all", "every", "each", "whole", "entire",
        "wider", "broader", "larger", "bigger", "own",
        # the small words scope hangs on
        "the", "a", "an", "their", "its", "his", "her", "our", "one",
        "across", "within", "for", "in", "of", "throughout", "beyond",
    }
)  # fmt: skip
_LONGEST_SCOPE = max(len(entry.split()) for entry in SCOPE_WORDS)

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
class _Written:
    """A defined cell with where it is in the document."""

    path: str
    competency: CompetencyDoc
    code: str
    cell: CellDoc


def check(doc: FrameworkDoc, report: Report) -> None:
    """Warn about defined cells without a measure, openings shared by many cells of one level,
    and cells that differ from the level below only in scope words."""
    written, below = [], {}
    for a, c, _area, competency in doc.competencies():
        below.update(_cells_below(doc, competency, f"areas[{a}].competencies[{c}]"))
        for level in doc.cell_levels(competency):
            cell = competency.expectations.get(level.code)
            if cell is not None and cell.status is CellStatus.DEFINED and cell.text.strip():
                path = f"areas[{a}].competencies[{c}].expectations.{level.code}"
                written.append(_Written(path, competency, level.code, cell))
    shared = _shared_openings(doc, written)
    for cell in written:
        _check_measure(cell, report)
        if cell.path in shared:
            report.warn(f"{cell.path}.text", shared[cell.path])
        _check_scope(cell, below.get(cell.path), report)


def _check_measure(written: _Written, report: Report) -> None:
    if not any(i.kind is IndicatorKind.MEASURE for i in written.cell.indicators):
        report.warn(
            f"{written.path}.indicators",
            f"{written.competency.name} at {written.code} has no measure: "
            "say how you will know it is met",
        )


def _shared_openings(doc: FrameworkDoc, written: list[_Written]) -> dict[str, str]:
    """The warning of each cell whose opening too many cells of its level share, by its path."""
    messages = {}
    for _, level in doc.levels():
        cells = [w for w in written if w.code == level.code]
        openings = {w.path: tuple(words(w.cell.text)[:OPENING_WORDS]) for w in cells}
        counts = Counter(o for o in openings.values() if len(o) == OPENING_WORDS)
        for w in cells:
            count = counts.get(openings[w.path], 0)
            if count >= OPENING_MIN_CELLS and count >= OPENING_MIN_SHARE * len(cells):
                opening = " ".join(w.cell.text.split()[:OPENING_WORDS]).rstrip(".,;:")
                messages[w.path] = (
                    f'{w.competency.name} at {w.code} opens with "{opening}", as do {count} of '
                    f"the {len(cells)} written cells at {w.code}: say what is new at this level "
                    "in words of its own"
                )
    return messages


def _cells_below(
    doc: FrameworkDoc, competency: CompetencyDoc, path: str
) -> dict[str, tuple[str, CellDoc]]:
    """By a cell's path: the level below it on its track and that level's cell, if written."""
    below = {}
    for track in doc.tracks:
        if track.key not in doc.track_keys_of(competency):
            continue
        for lower, level in zip(track.levels, track.levels[1:], strict=False):
            cell = competency.expectations.get(lower.code)
            if cell is not None and cell.status is CellStatus.DEFINED and cell.text.strip():
                below[f"{path}.expectations.{level.code}"] = (lower.code, cell)
    return below


def _check_scope(written: _Written, below: tuple[str, CellDoc] | None, report: Report) -> None:
    if below is None:
        return
    code, lower = below
    if words(written.cell.text) == words(lower.text):
        return  # the same text: document.check says so already
    if without_scope(written.cell.text) == without_scope(lower.text):
        report.warn(
            f"{written.path}.text",
            f"{written.competency.name} at {written.code} differs from {code}, the level below, "
            "only in scope words (team, product line, company…): say what the person does "
            "differently, not only how far it reaches",
        )
