"""What changes from one level to another: word-level differences, competency by competency."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from itertools import zip_longest

from app.core.errors import ValidationError
from app.infra.text_diff import similarity, word_diff
from app.models import (
    CellStatus,
    Competency,
    CompetencyArea,
    DecisionRight,
    Expectation,
    Level,
)
from app.models import FrameworkVersion as Version

# Decision rights whose wording is at least this similar count as the same decision, reworded.
SIMILAR_DECISION = 0.6
# Below this share of words in common a text was rewritten, not edited: marking nearly every word
# would hide the few kept ones ("the", "their", "and"), so both texts are shown whole instead.
REWRITTEN_BELOW = 0.4


# --- word differences ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of text, changed (removed on the before side, added on the after side) or not."""

    text: str
    is_changed: bool = False


@dataclass(frozen=True)
class TextDiff:
    """Two texts side by side: the first with its removed words marked, the second its added."""

    before: tuple[Piece, ...]
    after: tuple[Piece, ...]
    similarity: float = 1.0  # the share of words the two texts have in common, 0 to 1

    @property
    def is_same(self) -> bool:
        return not any(piece.is_changed for piece in (*self.before, *self.after))

    @property
    def is_rewrite(self) -> bool:
        return not self.is_same and self.similarity < REWRITTEN_BELOW


def diff_words(before: str, after: str) -> TextDiff:
    """Both texts as pieces, from the app's word diff (app.services.text_diff)."""
    segments = word_diff(before.strip(), after.strip())
    old = [Piece(s.text, s.kind == "removed") for s in segments if s.kind != "added"]
    new = [Piece(s.text, s.kind == "added") for s in segments if s.kind != "removed"]
    return TextDiff(_joined(old), _joined(new), similarity(before, after))


def _joined(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Neighbours of the same kind as one piece (a removal next to an addition leaves two)."""
    result: list[Piece] = []
    for piece in pieces:
        if result and result[-1].is_changed == piece.is_changed:
            result[-1] = Piece(result[-1].text + piece.text, piece.is_changed)
        elif piece.text:
            result.append(piece)
    return tuple(result)


# --- comparing two levels -----------------------------------------------------------------------


@dataclass(frozen=True)
class CellComparison:
    """One competency at both levels; a side is None when the competency is not on its track."""

    competency: Competency
    before: Expectation | None
    after: Expectation | None
    text: TextDiff | None  # when both cells are defined

    @property
    def is_same(self) -> bool:
        if self.before is None or self.after is None:
            return False
        if self.before.status is not self.after.status:
            return False
        if self.before_measures != self.after_measures:
            return False
        return self.text is None or self.text.is_same

    @property
    def is_measure_change(self) -> bool:
        """Both cells say the same and only how you will know it is met differs."""
        return (
            self.text is not None
            and self.text.is_same
            and self.before_measures != self.after_measures
        )

    @property
    def before_measures(self) -> list[str]:
        """How you will know the first level's expectation is met."""
        return self.before.measures if self.before is not None else []

    @property
    def after_measures(self) -> list[str]:
        return self.after.measures if self.after is not None else []

    @cached_property
    def measure_diffs(self) -> tuple[AttributeComparison, ...]:
        """The measures of both written cells paired in order, their words compared like the
        text's (a measure on one side only is paired with an empty one); none unless both
        cells are written."""
        if self.text is None:
            return ()
        pairs = zip_longest(self.before_measures, self.after_measures, fillvalue="")
        return tuple(
            AttributeComparison("Measure", old, new, diff_words(old, new)) for old, new in pairs
        )


@dataclass(frozen=True)
class AreaComparison:
    area: CompetencyArea
    cells: list[CellComparison]


@dataclass(frozen=True)
class AttributeComparison:
    label: str
    before: str
    after: str
    text: TextDiff

    @property
    def is_same(self) -> bool:
        return self.text.is_same


@dataclass(frozen=True)
class DecisionRightComparison:
    before: DecisionRight | None  # None: new at the second level
    after: DecisionRight | None  # None: not held at the second level
    decision: TextDiff | None  # when both exist

    @property
    def change(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if self.is_same:
            return "same"
        return "changed"

    @property
    def is_same(self) -> bool:
        return (
            self.before is not None
            and self.after is not None
            and self.before.role is self.after.role
            and self.before.delegation == self.after.delegation
            and self.decision is not None
            and self.decision.is_same
        )

    @property
    def delegation_trend(self) -> int:
        """Above zero: more autonomy at the second level; below: less."""
        if self.before is None or self.after is None:
            return 0
        return self.after.delegation - self.before.delegation


@dataclass(frozen=True)
class LevelComparison:
    version: Version
    before: Level
    after: Level
    attributes: list[AttributeComparison]
    decision_rights: list[DecisionRightComparison]
    areas: list[AreaComparison]

    @property
    def cells(self) -> list[CellComparison]:
        return [cell for area in self.areas for cell in area.cells]

    @property
    def changed_count(self) -> int:
        return sum(not cell.is_same for cell in self.cells)

    @property
    def is_upward(self) -> bool:
        return self.after.rank > self.before.rank

    @property
    def gist(self) -> str:
        """The first sentence of the later level's summary: what the move is about, in brief."""
        return first_sentence(self.after.summary or "")


# A sentence ends at . ! or ? followed by the next one's capital, unless the full stop ends an
# abbreviation ("e.g. Payments" runs on).
SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z\"(\u201c])")
ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|incl|approx)$", re.IGNORECASE)


def first_sentence(text: str) -> str:
    """The text up to the end of its first sentence (all of it when it is one sentence)."""
    for found in SENTENCE_END.finditer(text):
        if not ABBREVIATION.search(text[: found.start()]):
            return text[: found.end()]
    return text.strip()


ATTRIBUTES = (
    ("Summary", "summary"),
    ("Scope", "scope"),
    ("Typical experience", "typical_experience"),
)


def compare_levels(version: Version, code_a: str | None, code_b: str | None) -> LevelComparison:
    """Level A against level B of a fully loaded version; ValidationError names a bad choice."""
    levels = _levels(version)
    before = _choose(levels, code_a, "a", "the level to compare from")
    after = _choose(levels, code_b, "b", "the level to compare with")
    if before.id == after.id:
        raise ValidationError(f"Choose two different levels: both are {before.code}.", field="b")
    attributes = [
        AttributeComparison(
            label,
            getattr(before, name),
            getattr(after, name),
            diff_words(getattr(before, name), getattr(after, name)),
        )
        for label, name in ATTRIBUTES
        if getattr(before, name) or getattr(after, name)
    ]
    return LevelComparison(
        version=version,
        before=before,
        after=after,
        attributes=attributes,
        decision_rights=compare_decision_rights(before.decision_rights, after.decision_rights),
        areas=_compare_areas(version, before, after),
    )


def _levels(version: Version) -> dict[str, Level]:
    return {level.code: level for track in version.tracks for level in track.levels}


def _choose(levels: dict[str, Level], code: str | None, field: str, what: str) -> Level:
    code = (code or "").strip()
    if code in levels:
        return levels[code]
    choices = ", ".join(levels)
    if not code:
        raise ValidationError(f"Choose {what} ({choices}).", field=field)
    raise ValidationError(
        f'There is no level "{code[:40]}" in this version. Choose one of {choices}.', field=field
    )


def _compare_areas(version: Version, before: Level, after: Level) -> list[AreaComparison]:
    areas = []
    for area in version.areas:
        cells = []
        for competency in area.competencies:
            by_level = {e.level_id: e for e in competency.expectations}
            old, new = by_level.get(before.id), by_level.get(after.id)
            if old is None and new is None:
                continue  # on neither track: nothing to say
            cells.append(CellComparison(competency, old, new, _cell_text(old, new)))
        if cells:
            areas.append(AreaComparison(area, cells))
    return areas


def _cell_text(old: Expectation | None, new: Expectation | None) -> TextDiff | None:
    defined = CellStatus.DEFINED
    if old is None or new is None or old.status is not defined or new.status is not defined:
        return None
    return diff_words(old.text, new.text)


def compare_decision_rights(
    before: list[DecisionRight], after: list[DecisionRight]
) -> list[DecisionRightComparison]:
    """Pair the decisions of two levels: same wording first, then the most similar wording.

    In the second level's order, with the decisions it no longer holds at the end.
    """
    pairs: dict[int, DecisionRight] = {}  # index in `after` → its match in `before`
    unmatched = list(before)
    for index, right in enumerate(after):
        same = next((r for r in unmatched if _norm(r.decision) == _norm(right.decision)), None)
        if same is not None:
            pairs[index] = same
            unmatched.remove(same)
    candidates = sorted(
        (
            (_similarity(old.decision, new.decision), index, old)
            for index, new in enumerate(after)
            if index not in pairs
            for old in unmatched
        ),
        key=lambda candidate: -candidate[0],
    )
    for score, index, old in candidates:
        if score >= SIMILAR_DECISION and index not in pairs and old in unmatched:
            pairs[index] = old
            unmatched.remove(old)
    result = [
        DecisionRightComparison(
            pairs.get(index),
            new,
            diff_words(pairs[index].decision, new.decision) if index in pairs else None,
        )
        for index, new in enumerate(after)
    ]
    return result + [DecisionRightComparison(old, None, None) for old in unmatched]


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _similarity(a: str, b: str) -> float:
    return similarity(a.casefold(), b.casefold())


# --- one level against two: two paths from the same place ---------------------------------------


@dataclass(frozen=True)
class PathAttribute:
    """An attribute at the level compared from and on each path (in the order of the paths)."""

    label: str
    before: str
    paths: tuple[AttributeComparison, ...]


@dataclass(frozen=True)
class PathCell:
    """A competency at the level compared from and on each path; on a path whose two levels
    both lack the competency, that path's comparison has neither side."""

    competency: Competency
    before: Expectation | None
    paths: tuple[CellComparison, ...]


@dataclass(frozen=True)
class PathArea:
    area: CompetencyArea
    cells: list[PathCell]


@dataclass(frozen=True)
class PathsComparison:
    """Level A against level B and against level C: two comparisons from the same level,
    lined up competency by competency (each path keeps its own pairing of decision rights)."""

    paths: tuple[LevelComparison, LevelComparison]
    attributes: list[PathAttribute]
    areas: list[PathArea]

    @property
    def before(self) -> Level:
        return self.paths[0].before

    @property
    def targets(self) -> tuple[Level, ...]:
        return tuple(path.after for path in self.paths)


def compare_paths(
    version: Version, code_a: str | None, code_b: str | None, code_c: str | None
) -> PathsComparison:
    """Level A against B and against C, side by side; ValidationError names a bad choice."""
    first = compare_levels(version, code_a, code_b)
    other = _choose(_levels(version), code_c, "c", "the second level to compare with")
    if other.id == first.before.id:
        raise ValidationError(f"Choose two different levels: both are {other.code}.", field="c")
    if other.id == first.after.id:
        raise ValidationError(
            f"Choose two different levels to compare with: both are {other.code}.", field="c"
        )
    paths = (first, compare_levels(version, first.before.code, other.code))
    return PathsComparison(paths, _path_attributes(paths), _path_areas(version, paths))


def _path_attributes(paths: tuple[LevelComparison, ...]) -> list[PathAttribute]:
    before = paths[0].before
    rows = []
    for label, name in ATTRIBUTES:
        if not any(getattr(level, name) for level in (before, *(p.after for p in paths))):
            continue
        by_path = []
        for path in paths:
            found = next((a for a in path.attributes if a.label == label), None)
            by_path.append(found or AttributeComparison(label, "", "", diff_words("", "")))
        rows.append(PathAttribute(label, getattr(before, name), tuple(by_path)))
    return rows


def _path_areas(version: Version, paths: tuple[LevelComparison, ...]) -> list[PathArea]:
    """Every competency on the level compared from or on either path, in the version's order."""
    on_path = [{cell.competency.id: cell for cell in path.cells} for path in paths]
    areas = []
    for area in version.areas:
        cells = []
        for competency in area.competencies:
            found = [cells_of.get(competency.id) for cells_of in on_path]
            if not any(found):
                continue
            before = next((c.before for c in found if c is not None), None)
            by_path = tuple(c or CellComparison(competency, None, None, None) for c in found)
            cells.append(PathCell(competency, before, by_path))
        if cells:
            areas.append(PathArea(area, cells))
    return areas
