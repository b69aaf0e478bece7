"""A framework as plain data, whatever file it came from, and the checks every source shares."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from app.core.errors import ValidationError
from app.infra.text import UNWANTED, unwanted_character
from app.models import DELEGATION_LEVELS, CellStatus, DaciRole, IndicatorKind
from app.services.frameworks import wording

FORMAT = "rungs-framework/1"
# The largest framework file Rungs reads. The shipped ladders are under 50 kB; the YAML reader
# takes several seconds per megabyte (pure Python), so this bounds what one upload can cost.
MAX_BYTES = 1024 * 1024
# Ranks compare seniority; the database stores them as 32-bit integers.
MAX_RANK = 1000
SUPPORTED_FORMATS = (
    "Rungs reads a Rungs YAML file (.yaml or .yml), a Monzo progression-framework page "
    "(.md with YAML front matter) and a CSV in Rungs' columns (.csv); "
    "docs/framework-format.md, docs/monzo-format.md and docs/csv-format.md describe them"
)
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")

# The most text one field may hold, for files and the editor alike: every field reaches the PDF,
# and a 4 MB cell took 536 MB and seconds to render. Real frameworks stay far below (the shipped
# ladders: cells up to 284 characters, descriptions up to 431), so these leave room for long
# prose: 5,000 characters is about 800 words, most of a printed page for one cell.
NAME_MAX = 200  # names, titles, a level's typical experience
SHORT_NAME_MAX = 16  # a competency's short name, a column header of the calibration grid
TEXT_MAX = 5_000  # a cell's expectation, a description, a level's summary or scope
INDICATOR_MAX = 1_000  # one indicator (an example, a signal): a sentence or a short paragraph
DECISION_MAX = 1_000  # one decision right
INDICATORS_MAX = 50  # per cell
# The errors a page or the command line lists of one file; a file with more (a wrong file, a
# column shifted on every row) says how many more there are instead of a list no one reads.
SHOWN_ERRORS = 50
# Indicator kinds in the order the docs, the pages and the editor give them: the measure first.
INDICATOR_KINDS = tuple(sorted(IndicatorKind, key=lambda kind: kind is not IndicatorKind.MEASURE))


@dataclass
class DecisionRightDoc:
    decision: str
    role: DaciRole
    delegation: int

    @property
    def held(self) -> str:
        """How the right is held, such as "Driver, delegation 4 (Agree)"."""
        label = DELEGATION_LEVELS.get(self.delegation, "?")
        return f"{self.role.value.capitalize()}, delegation {self.delegation} ({label})"


@dataclass
class LevelDoc:
    code: str
    title: str
    rank: int
    summary: str = ""
    scope: str = ""
    typical_experience: str = ""
    decision_rights: list[DecisionRightDoc] = field(default_factory=list)


@dataclass
class TrackDoc:
    key: str
    name: str
    levels: list[LevelDoc] = field(default_factory=list)


@dataclass
class IndicatorDoc:
    kind: IndicatorKind
    text: str


@dataclass
class CellDoc:
    status: CellStatus
    text: str = ""
    indicators: list[IndicatorDoc] = field(default_factory=list)


@dataclass
class CompetencyDoc:
    key: str
    name: str
    description: str = ""
    tracks: list[str] | None = None  # None: every track
    expectations: dict[str, CellDoc] = field(default_factory=dict)  # level code → cell
    short_name: str = ""  # the grid's column header; "" derives one from the name


@dataclass
class AreaDoc:
    key: str
    name: str
    description: str = ""
    competencies: list[CompetencyDoc] = field(default_factory=list)


@dataclass
class FrameworkDoc:
    slug: str
    name: str
    description: str = ""
    tracks: list[TrackDoc] = field(default_factory=list)
    areas: list[AreaDoc] = field(default_factory=list)
    # Tracks, areas and competencies whose keys were made from their names (a CSV without keys):
    # files.validate matches them by name against the framework's current version.
    named_only: list = field(default_factory=list, compare=False, repr=False)

    def levels(self) -> list[tuple[TrackDoc, LevelDoc]]:
        return [(track, level) for track in self.tracks for level in track.levels]

    def competencies(self) -> list[tuple[int, int, AreaDoc, CompetencyDoc]]:
        return [
            (a, c, area, competency)
            for a, area in enumerate(self.areas)
            for c, competency in enumerate(area.competencies)
        ]

    def track_keys_of(self, competency: CompetencyDoc) -> list[str]:
        if competency.tracks is None:
            return [track.key for track in self.tracks]
        return competency.tracks

    def cell_levels(self, competency: CompetencyDoc) -> list[LevelDoc]:
        """The levels a competency has a cell for, in track and level order."""
        keys = set(self.track_keys_of(competency))
        return [level for track, level in self.levels() if track.key in keys]


@dataclass(frozen=True)
class Problem:
    """A problem of a file: where it is (a path in a YAML file, or a CSV file's column), what
    it is, and its line; `kind` names the check that found it where a page groups by it (such
    as wording.NO_MEASURE_KIND). Two problems are equal when they say the same at one place."""

    path: str
    message: str
    line: int | None = None
    column: str = ""  # a CSV file's column; such a problem has no path
    kind: str = field(default="", compare=False)

    def __str__(self) -> str:
        if self.column:
            return f"line {self.line}, column {self.column}: {self.message}"
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path}: {self.message}{where}" if self.path else f"{self.message}{where}"


@dataclass
class Report:
    """What a check found; `lines` maps a path in the document to its line in the source file.

    A CSV file has no paths a person could read: its reader gives `columns` (a path in the
    document → the column its row holds it in), and every problem about a path is then told
    by its line and column instead.
    """

    lines: dict[str, int] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    columns: dict[str, str] | None = None

    def error(self, path: str, message: str, *, line: int | None = None, column: str = "") -> None:
        self.errors.append(self._problem(path, message, line, column))

    def warn(
        self, path: str, message: str, *, line: int | None = None, column: str = "", kind: str = ""
    ) -> None:
        self.warnings.append(self._problem(path, message, line, column, kind))

    def _problem(
        self, path: str, message: str, line: int | None, column: str, kind: str = ""
    ) -> Problem:
        found = self._nearest(path)
        if self.columns is None:
            return Problem(path, message, line or self.lines.get(found), kind=kind)
        if line is None and found in self.lines:
            line, column = self.lines[found], column or self.columns.get(found, "")
        return Problem("", message, line, column, kind)

    def line_of(self, path: str) -> int | None:
        """The line of the path, or of the nearest enclosing part of the file that has one."""
        return self.lines.get(self._nearest(path))

    def _nearest(self, path: str) -> str:
        """The path, or the nearest enclosing one, that has a line ("" if none has)."""
        while path and path not in self.lines:
            shorter = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path)
            path = "" if shorter == path else shorter
        return path


def independent(report: Report, since: int, causes: list[Problem]) -> None:
    """Drop the errors found after index `since` that only follow from one of `causes`.

    A file read on past a problem gives a stand-in ("" for a text that was not text, 0 for a
    rank that was not a number); the later checks would report that stand-in again in other
    words. An error follows from a cause when it is about the same part of the file, a part
    inside it or around it; a cell's level code or a competency's track follows from any
    problem in the tracks; a level's rank from a problem in the level before it.
    """
    if not causes:
        return
    report.errors[since:] = [e for e in report.errors[since:] if not _follows(e.path, causes)]


_REFERENCE = re.compile(r"^areas\[\d+\]\.competencies\[\d+\]\.(expectations\.[^.]+|tracks\[\d+\])$")
_RANK = re.compile(r"^(tracks\[\d+\]\.levels\[)(\d+)\]\.rank$")


def _related(path: str, cause: str) -> bool:
    if path == cause:
        return True
    if not path or not cause:
        return False
    inside = path.startswith((cause + ".", cause + "["))
    return inside or cause.startswith((path + ".", path + "["))


def _follows(path: str, causes: list[Problem]) -> bool:
    for cause in causes:
        if _related(path, cause.path):
            return True
        if _REFERENCE.match(path) and cause.path.startswith("tracks"):
            return True
        rank = _RANK.match(path)
        if rank and int(rank.group(2)) > 0:
            before = f"{rank.group(1)}{int(rank.group(2)) - 1}]"
            if _related(cause.path, before):
                return True
    return False


def shown_errors(report: Report) -> tuple[list[Problem], int]:
    """The first SHOWN_ERRORS errors of the report and how many more it holds."""
    return report.errors[:SHOWN_ERRORS], max(0, len(report.errors) - SHOWN_ERRORS)


class InvalidFrameworkError(ValidationError):
    """A framework file with errors: nothing was stored."""

    def __init__(self, report: Report):
        count = len(report.errors)
        super().__init__(f"{count} error{'s' if count != 1 else ''} found; nothing was imported.")
        self.report = report


def too_large(text: str, report: Report) -> bool:
    """Whether the text is over MAX_BYTES (an error in the report if so)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= MAX_BYTES:
        return False
    report.error(
        "",
        f"the file is {size / (1024 * 1024):.1f} MB; Rungs reads framework files of up to "
        f"{MAX_BYTES // (1024 * 1024)} MB",
    )
    return True


def control_character(text: str, report: Report, *, first_line: int = 1) -> bool:
    """Whether the raw text holds a control character (an error naming its line if so)."""
    found = UNWANTED.search(text)
    if found is None:
        return False
    line = first_line + text.count("\n", 0, found.start())
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    report.error(
        "",
        f"contains a control character (U+{ord(found.group()):04X} at column {column}); remove it",
        line=line,
    )
    return True


def check(doc: FrameworkDoc, report: Report) -> Report:
    """The rules every framework must follow, whichever format it came from."""
    _check_characters(doc, report)
    if not KEY_PATTERN.match(doc.slug or ""):
        report.error("slug", f'"{doc.slug}" must be lower-case letters, digits and single dashes')
    if not doc.name.strip():
        report.error("name", "is required")
    if not doc.tracks:
        report.error("tracks", "at least one track is required")
    if not doc.areas:
        report.error("areas", "at least one competency area is required")
    _check_tracks(doc, report)
    _check_areas(doc, report)
    _check_lengths(doc, report)
    if not report.errors:  # wording is worth reading once the file itself holds together
        for flag in wording.warnings(_written_cells(doc)):
            report.warn(flag.path, flag.message, kind=flag.kind)
    return report


def _written_cells(doc: FrameworkDoc) -> list[wording.Written]:
    """The defined cells in document order, each with the written cell below it (see
    `_written_below`)."""
    written = []
    for a, c, _area, competency in doc.competencies():
        path = f"areas[{a}].competencies[{c}].expectations"
        below = _written_below(doc, competency)
        for level in doc.cell_levels(competency):
            cell = competency.expectations.get(level.code)
            if cell is None or cell.status is not CellStatus.DEFINED or not cell.text.strip():
                continue
            measures = sum(i.kind is IndicatorKind.MEASURE for i in cell.indicators)
            written.append(
                wording.Written(
                    f"{path}.{level.code}",
                    competency.name,
                    level.code,
                    cell.text,
                    measures,
                    below.get(level.code),
                )
            )
    return written


def _texts(doc: FrameworkDoc):
    """Every text of the document with its path."""
    yield "slug", doc.slug
    yield "name", doc.name
    yield "description", doc.description
    for t, track in enumerate(doc.tracks):
        yield f"tracks[{t}].key", track.key
        yield f"tracks[{t}].name", track.name
        for i, level in enumerate(track.levels):
            yield from _level_texts(f"tracks[{t}].levels[{i}]", level)
    for a, area in enumerate(doc.areas):
        for name in ("key", "name", "description"):
            yield f"areas[{a}].{name}", getattr(area, name)
    for a, c, _area, competency in doc.competencies():
        yield from _competency_texts(f"areas[{a}].competencies[{c}]", competency)


def _level_texts(path: str, level: LevelDoc):
    for name in ("code", "title", "summary", "scope", "typical_experience"):
        yield f"{path}.{name}", getattr(level, name)
    for d, right in enumerate(level.decision_rights):
        yield f"{path}.decision_rights[{d}].decision", right.decision


def _competency_texts(path: str, competency: CompetencyDoc):
    for name in ("key", "name", "short_name", "description"):
        yield f"{path}.{name}", getattr(competency, name)
    for i, key in enumerate(competency.tracks or []):
        yield f"{path}.tracks[{i}]", key
    for code, cell in competency.expectations.items():
        yield f"{path}.expectations.{code}", code
        yield f"{path}.expectations.{code}.text", cell.text
        for n, indicator in enumerate(cell.indicators):
            yield f"{path}.expectations.{code}.indicators[{n}].text", indicator.text


def _check_characters(doc: FrameworkDoc, report: Report) -> None:
    # PostgreSQL refuses NUL and SQLite stores it: refuse every control character in one place,
    # whatever the format (a YAML "\0" escape gets past a check of the raw file).
    for path, text in _texts(doc):
        problem = unwanted_character(text or "")
        if problem is not None:
            report.error(path, f"contains a control character ({problem}); remove it")


# The limit of a text by the last part of its path (keys, codes and the slug have patterns).
_LIMITS = {
    "name": (NAME_MAX, "a name"),
    "short_name": (SHORT_NAME_MAX, "a short name (a column header of the calibration grid)"),
    "title": (NAME_MAX, "a title"),
    "typical_experience": (NAME_MAX, "a typical experience"),
    "description": (TEXT_MAX, "a description"),
    "summary": (TEXT_MAX, "a summary"),
    "scope": (TEXT_MAX, "a scope"),
    "decision": (DECISION_MAX, "a decision"),
    "text": (TEXT_MAX, "an expectation"),
}


def _limit_of(path: str) -> tuple[int, str] | None:
    if ".indicators[" in path:
        return INDICATOR_MAX, "an indicator"
    return _LIMITS.get(path.rsplit(".", 1)[-1])


def _check_lengths(doc: FrameworkDoc, report: Report) -> None:
    for path, text in _texts(doc):
        limit = _limit_of(path)
        if limit is not None and len(text or "") > limit[0]:
            report.error(
                path,
                f"is {len(text):,} characters long; {limit[1]} may have at most {limit[0]:,}. "
                "Shorten it.",
            )
    for a, c, _area, competency in doc.competencies():
        for code, cell in competency.expectations.items():
            if len(cell.indicators) > INDICATORS_MAX:
                report.error(
                    f"areas[{a}].competencies[{c}].expectations.{code}.indicators",
                    f"has {len(cell.indicators):,} indicators; a cell may have at most "
                    f"{INDICATORS_MAX}. Keep the ones that tell levels apart.",
                )


def _duplicates(values) -> set:
    return {value for value, count in Counter(values).items() if count > 1}


def _check_tracks(doc: FrameworkDoc, report: Report) -> None:
    twice = _duplicates(track.key for track in doc.tracks)
    codes = _duplicates(level.code for _, level in doc.levels())
    for t, track in enumerate(doc.tracks):
        _check_key(report, f"tracks[{t}].key", track.key, twice)
        if not track.levels:
            report.error(f"tracks[{t}].levels", "a track needs at least one level")
        for i, level in enumerate(track.levels):
            below = track.levels[i - 1] if i else None
            _check_level(report, f"tracks[{t}].levels[{i}]", level, below, codes)


def _check_key(report: Report, path: str, key: str, twice: set) -> None:
    if not KEY_PATTERN.match(key):
        report.error(path, f'"{key}" must be lower-case letters, digits and single dashes')
    elif key in twice:
        report.error(path, f'"{key}" is used twice')


def _check_level(report: Report, path: str, level: LevelDoc, below, codes: set) -> None:
    if not CODE_PATTERN.match(level.code):
        report.error(
            f"{path}.code",
            f'"{level.code}" must be 1 to 30 letters, digits, ".", "_" '
            'or "-", starting with a letter or digit',
        )
    elif level.code in codes:
        report.error(f"{path}.code", f'"{level.code}" is used twice')
    if not 0 <= level.rank <= MAX_RANK:
        report.error(f"{path}.rank", f"{level.rank} is not between 0 and {MAX_RANK}")
    elif below is not None and level.rank <= below.rank:
        report.error(
            f"{path}.rank",
            f"{level.rank} must be higher than the rank of "
            f"{below.code} ({below.rank}), the level before it",
        )
    for d, right in enumerate(level.decision_rights):
        problem = delegation_problem(right.delegation)
        if problem:
            report.error(f"{path}.decision_rights[{d}].delegation", problem)


def delegation_problem(delegation: int) -> str | None:
    """What is wrong with a delegation level, if anything (1 tell … 7 delegate)."""
    if 1 <= delegation <= 7:
        return None
    return f"{delegation} is not between 1 (tell) and 7 (delegate)"


def _check_areas(doc: FrameworkDoc, report: Report) -> None:
    area_twice = _duplicates(area.key for area in doc.areas)
    competency_twice = _duplicates(c.key for *_, c in doc.competencies())
    track_keys = {track.key for track in doc.tracks}
    for a, area in enumerate(doc.areas):
        _check_key(report, f"areas[{a}].key", area.key, area_twice)
        if not area.competencies:
            report.error(f"areas[{a}].competencies", "an area needs at least one competency")
    for a, c, _area, competency in doc.competencies():
        path = f"areas[{a}].competencies[{c}]"
        _check_key(report, f"{path}.key", competency.key, competency_twice)
        for i, key in enumerate(competency.tracks or []):
            if key not in track_keys:
                report.error(f"{path}.tracks[{i}]", f'"{key}" is not a track of this framework')
        if competency.tracks == []:
            report.warn(f"{path}.tracks", f"no track uses {competency.name}")
        _check_cells(doc, competency, path, report)


def _check_cells(doc: FrameworkDoc, competency: CompetencyDoc, path: str, report: Report) -> None:
    all_codes = {level.code for _, level in doc.levels()}
    in_scope = [level.code for level in doc.cell_levels(competency)]
    for code, cell in competency.expectations.items():
        where = f"{path}.expectations.{code}"
        if code not in all_codes:
            report.error(where, f'"{code}" is not a level of this framework')
        elif code not in in_scope:
            report.error(where, f"{competency.name} does not apply to the track of level {code}")
        elif cell.status is CellStatus.DEFINED and not cell.text.strip():
            report.error(f"{where}.text", "a defined expectation needs text")
        elif cell.status is not CellStatus.DEFINED and (cell.text.strip() or cell.indicators):
            report.error(
                f"{where}.status",
                f"is {cell.status.value} but the cell has text or indicators; use status: defined",
            )
    below = _written_below(doc, competency)
    for track_key in doc.track_keys_of(competency):
        for level in next((t.levels for t in doc.tracks if t.key == track_key), []):
            cell = competency.expectations.get(level.code)
            if cell is None or cell.status is CellStatus.EMPTY:
                report.warn(
                    f"{path}.expectations.{level.code}",
                    f"the expectation of {competency.name} at {level.code} is empty",
                )
                continue
            text = " ".join(cell.text.split())
            lower = below.get(level.code)
            if text and lower and text == " ".join(lower[1].split()):
                report.warn(
                    f"{path}.expectations.{level.code}.text",
                    f"is the same as at {lower[0]}, the level below",
                )


def _written_below(doc: FrameworkDoc, competency: CompetencyDoc) -> dict[str, tuple[str, str]]:
    """Level code → the code and text of the level below it (`step_below`), when that cell is
    defined: an unwritten step is no comparison."""
    keys = doc.track_keys_of(competency)

    def applies(track: TrackDoc) -> bool:
        return track.key in keys

    below = {}
    for track in filter(applies, doc.tracks):
        for level in track.levels:
            _track, lower = step_below(doc.tracks, track, level, applies)
            cell = competency.expectations.get(lower.code) if lower is not None else None
            if cell is not None and cell.status is CellStatus.DEFINED:
                below[level.code] = (lower.code, cell.text)
    return below


def step_below(tracks, track, level, applies):
    """The level a cell is read against, with its track: the one before `level` on `track`; for
    a track's first level (a first manager level beside the IC track), the highest-ranked level
    of lower rank on another track that `applies` (the first of equal ranks), the step a person
    takes to reach it. (None, None) when there is none. For documents and stored versions alike:
    anything whose tracks have `levels` and whose levels have a `rank`."""
    at = track.levels.index(level)
    if at:
        return track, track.levels[at - 1]
    lower = [
        (other, below)
        for other in tracks
        if other is not track and applies(other)
        for below in other.levels
        if below.rank < level.rank
    ]
    return max(lower, key=lambda pair: pair[1].rank, default=(None, None))
