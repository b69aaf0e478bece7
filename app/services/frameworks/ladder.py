"""Reading a career path: the catalogue, the matrix, a level, a person's placement, downloads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    DELEGATION_LEVELS,
    Competency,
    CompetencyArea,
    Expectation,
    Framework,
    FrameworkVersion,
    Indicator,
    IndicatorKind,
    Level,
    Track,
    VersionStatus,
)
from app.services.frameworks import files, store
from app.services.frameworks.compare import (
    LevelComparison,
    PathsComparison,
    compare_levels,
    compare_paths,
)

# The indicators read after the expectation, by kind; its measure is read with it (Cell.measures).
INDICATOR_LABELS = {
    IndicatorKind.CRITERION: "Criteria",
    IndicatorKind.EXAMPLE: "Examples",
    IndicatorKind.SIGNAL: "Signals",
}
DOWNLOADS = {"yaml": "text/yaml", "csv": "text/csv"}
# Delegation poker, read from the person's side: who decides, and how.
DELEGATION_MEANINGS = {
    1: "the manager decides and explains the decision",
    2: "the manager decides and convinces them it is right",
    3: "the manager asks for their input, then decides",
    4: "they and the manager decide together",
    5: "the manager gives advice; they decide",
    6: "they decide; the manager asks about it afterwards",
    7: "they decide; the manager need not hear about it",
}


# --- the catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionSummary:
    version: FrameworkVersion
    level_count: int
    competency_count: int


@dataclass(frozen=True)
class FrameworkSummary:
    framework: Framework
    published: VersionSummary | None
    drafts: list[VersionSummary]
    archived: list[VersionSummary]  # newest first

    @property
    def current(self) -> VersionSummary | None:
        """What the framework's name links to: published, else a draft (for the head)."""
        return self.published or (self.drafts[-1] if self.drafts else None)

    @property
    def draft(self) -> VersionSummary | None:
        """The draft being edited (a framework has at most one), for those who manage."""
        return self.drafts[-1] if self.drafts else None

    @property
    def new_draft_from(self) -> VersionSummary | None:
        """The version a new draft copies: the published one, else the newest archived."""
        return self.published or (self.archived[0] if self.archived else None)


@dataclass(frozen=True)
class CataloguePage:
    """The career paths, and whether the viewer may create, import and edit them."""

    frameworks: list[FrameworkSummary]
    may_manage: bool


def catalogue_page(actor) -> CataloguePage:
    return CataloguePage(catalogue(actor), policy.can(actor, "frameworks.manage"))


def catalogue(actor) -> list[FrameworkSummary]:
    """Every framework with its versions and their sizes; drafts only for those who manage."""
    with_drafts = policy.can(actor, "frameworks.manage")
    listed = store.list_frameworks()
    levels = dict(
        db.session.execute(select(Level.version_id, func.count()).group_by(Level.version_id)).all()
    )
    competencies = dict(
        db.session.execute(
            select(Competency.version_id, func.count()).group_by(Competency.version_id)
        ).all()
    )

    def summary(version: FrameworkVersion) -> VersionSummary:
        return VersionSummary(version, levels.get(version.id, 0), competencies.get(version.id, 0))

    result = []
    for framework, versions in listed:
        by_status = {status: [] for status in VersionStatus}
        for version in versions:
            by_status[version.status].append(summary(version))
        published = by_status[VersionStatus.PUBLISHED]
        drafts = by_status[VersionStatus.DRAFT] if with_drafts else []
        archived = list(reversed(by_status[VersionStatus.ARCHIVED]))
        if published or drafts or archived:
            result.append(
                FrameworkSummary(framework, published[0] if published else None, drafts, archived)
            )
    return result


def current_number(actor, slug: str) -> int:
    """The version to open for a framework: published, else (for the head) the newest draft,
    else the newest archived one."""
    framework = store.get_framework(slug)
    rows = db.session.execute(
        select(FrameworkVersion.number, FrameworkVersion.status)
        .where(FrameworkVersion.framework_id == framework.id)
        .order_by(FrameworkVersion.number.desc())
    ).all()
    order = [VersionStatus.PUBLISHED, VersionStatus.ARCHIVED]
    if policy.can(actor, "frameworks.manage"):
        order.insert(1, VersionStatus.DRAFT)
    for status in order:
        for number, row_status in rows:
            if row_status is status:
                return number
    raise NotFoundError(f"{framework.name} has no published version yet.")


# --- pages of one version -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """An expectation with its measures (how you will know it is met) and its other indicators
    grouped by kind, in the order people read them."""

    expectation: Expectation
    indicator_groups: list[tuple[str, list[Indicator]]] = field(default_factory=list)

    @property
    def measures(self) -> list[str]:
        return self.expectation.measures

    @property
    def indicator_count(self) -> int:
        return sum(len(items) for _, items in self.indicator_groups)

    @property
    def indicator_summary(self) -> str:
        """The kinds of indicators it has, as a folded list is labelled: "Criteria, examples
        and signals"."""
        labels = [label for label, _ in self.indicator_groups]
        if len(labels) < 2:
            return "".join(labels)
        return ", ".join([labels[0], *(label.lower() for label in labels[1:-1])]) + (
            f" and {labels[-1].lower()}"
        )


def cell(expectation: Expectation) -> Cell:
    groups = [
        (label, [i for i in expectation.indicators if i.kind is kind])
        for kind, label in INDICATOR_LABELS.items()
    ]
    return Cell(expectation, [(label, items) for label, items in groups if items])


@dataclass(frozen=True)
class VersionPage:
    """A version as everyone reads it, with the published version's number for the banner;
    for the head of product also the draft's number (None: there is none to open)."""

    version: FrameworkVersion
    published_number: int | None
    may_manage: bool
    draft_number: int | None

    @property
    def new_draft_from(self) -> int | None:
        """The version a new draft would copy, when the head may start one from this page."""
        if not self.may_manage or self.draft_number is not None:
            return None
        return self.published_number or self.version.number

    @property
    def framework(self) -> Framework:
        return self.version.framework

    @property
    def levels(self) -> list[Level]:
        return [level for track in self.version.tracks for level in track.levels]

    def track_of(self, level: Level) -> Track:
        return next(track for track in self.version.tracks if track.id == level.track_id)


@dataclass(frozen=True)
class MatrixRow:
    competency: Competency
    cells: list[Cell | None]  # one per level, None where the competency is not on that track


@dataclass(frozen=True)
class MatrixArea:
    area: CompetencyArea
    rows: list[MatrixRow]


@dataclass(frozen=True)
class MatrixPage(VersionPage):
    areas: list[MatrixArea]


@dataclass(frozen=True)
class LevelArea:
    area: CompetencyArea
    cells: list[tuple[Competency, Cell]]


@dataclass(frozen=True)
class NextStep:
    """A level someone at another level could aim for, with its track's name to tell paths apart."""

    level: Level
    track: Track


@dataclass(frozen=True)
class LevelPage(VersionPage):
    level: Level
    track: Track
    previous: Level | None
    next: Level | None
    areas: list[LevelArea]
    next_steps: list[NextStep] = field(default_factory=list)

    @property
    def has_measures(self) -> bool:
        return any(cell.measures for area in self.areas for _, cell in area.cells)

    @property
    def delegation_scale(self) -> list[tuple[int, str, str]]:
        return [(n, name, DELEGATION_MEANINGS[n]) for n, name in DELEGATION_LEVELS.items()]


def version_page(actor, slug: str, number: int) -> VersionPage:
    version = store.version_for(actor, slug, number)
    may_manage = policy.can(actor, "frameworks.manage")
    published, draft = _published_and_draft(version)
    return VersionPage(version, published, may_manage, draft if may_manage else None)


def _base(page: VersionPage) -> dict:
    """The fields of a VersionPage, to build one of its kinds from it."""
    return {f.name: getattr(page, f.name) for f in fields(VersionPage)}


@dataclass(frozen=True)
class ComparePage:
    """Two levels side by side, or one level and two others (two paths from it), or the form
    to choose them with why a choice was refused."""

    page: VersionPage
    comparison: LevelComparison | None
    error: ValidationError | None = None
    a: str | None = None  # the codes asked for, to show again in the form
    b: str | None = None
    c: str | None = None
    paths: PathsComparison | None = None


def compare_page(
    actor, slug: str, number: int, a: str | None, b: str | None, c: str | None = None
) -> ComparePage:
    """Level a against level b of a version, and against level c too when one is chosen
    (nothing to compare until a level is chosen; an empty c is no second level)."""
    page = version_page(actor, slug, number)
    c = c if c and c.strip() else None
    if a is None and b is None and c is None:
        return ComparePage(page, None)
    try:
        if c is None:
            return ComparePage(page, compare_levels(page.version, a, b), a=a, b=b)
        return ComparePage(page, None, a=a, b=b, c=c, paths=compare_paths(page.version, a, b, c))
    except ValidationError as error:
        return ComparePage(page, None, error, a, b, c)


def matrix(actor, slug: str, number: int) -> MatrixPage:
    """Competencies by levels; NotFoundError when the actor may not see the version."""
    page = version_page(actor, slug, number)
    levels = page.levels
    areas = []
    for area in page.version.areas:
        rows = []
        for competency in area.competencies:
            by_level = {e.level_id: e for e in competency.expectations}
            cells = [cell(by_level[lv.id]) if lv.id in by_level else None for lv in levels]
            rows.append(MatrixRow(competency, cells))
        areas.append(MatrixArea(area, rows))
    return MatrixPage(**_base(page), areas=areas)


def level_page(actor, slug: str, number: int, code: str) -> LevelPage:
    """One level: its role, decision rights and every expectation, with its neighbours."""
    page = version_page(actor, slug, number)
    level = next((lv for lv in page.levels if lv.code == code), None)
    if level is None:
        raise NotFoundError(
            f'Version {number} of {page.framework.name} has no level "{code[:40]}".'
        )
    track = page.track_of(level)
    index = track.levels.index(level)
    next_level = track.levels[index + 1] if index + 1 < len(track.levels) else None
    areas = []
    for area in page.version.areas:
        cells = [
            (competency, cell(expectation))
            for competency in area.competencies
            for expectation in competency.expectations
            if expectation.level_id == level.id
        ]
        if cells:
            areas.append(LevelArea(area, cells))
    return LevelPage(
        **_base(page),
        level=level,
        track=track,
        previous=track.levels[index - 1] if index else None,
        next=next_level,
        areas=areas,
        next_steps=next_steps(page.version, level, next_level),
    )


def next_steps(version: FrameworkVersion, level: Level, next_level: Level | None) -> list[NextStep]:
    """Where someone at a level could go: the next level of its own track, then beside it, on
    each other track, the first level above its rank that is no higher than that next level (a
    Senior PM may aim for Lead PM beside Group PM; a PM is not shown a jump of two). At the top
    of its track nothing: the level above on another track is another job, not the way up (a
    Lead PM is not sent back to the IC track)."""
    if next_level is None:
        return []
    steps = [NextStep(next_level, track) for track in version.tracks if track.id == level.track_id]
    for track in version.tracks:
        if track.id == level.track_id:
            continue
        above = [other for other in track.levels if level.rank < other.rank <= next_level.rank]
        first = min(above, key=lambda other: (other.rank, other.position), default=None)
        if first is not None:
            steps.append(NextStep(first, track))
    return steps


def _published_and_draft(version: FrameworkVersion) -> tuple[int | None, int | None]:
    """The numbers of the framework's published version and of its draft, in one query."""
    rows = db.session.execute(
        select(FrameworkVersion.status, FrameworkVersion.number).where(
            FrameworkVersion.framework_id == version.framework_id,
            FrameworkVersion.status.in_([VersionStatus.PUBLISHED, VersionStatus.DRAFT]),
        )
    ).all()
    numbers = {status: number for status, number in rows}
    return numbers.get(VersionStatus.PUBLISHED), numbers.get(VersionStatus.DRAFT)


# --- a person's place on the ladder -------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    level: Level
    track: Track
    version: FrameworkVersion
    framework: Framework
    next_steps: list[NextStep] = field(default_factory=list)  # where they could aim next

    @property
    def next_level(self) -> Level | None:
        """The next level up their own track (None at its top)."""
        return self.next_steps[0].level if self.next_steps else None


def placement(level_id: int | None) -> Placement | None:
    """The level a person is on, its framework version and where they could aim next.

    Two queries whatever the framework's size; none when the person is not placed.
    """
    if level_id is None:
        return None
    level = db.session.execute(
        select(Level)
        .where(Level.id == level_id)
        .options(
            joinedload(Level.track).joinedload(Track.version).joinedload(FrameworkVersion.framework)
        )
    ).scalar_one_or_none()
    if level is None:
        return None
    version = level.track.version
    return Placement(level, level.track, version, version.framework, next_steps_from(level))


def next_steps_from(level: Level) -> list[NextStep]:
    """Where someone at `level` could go next (next_steps), its version's tracks and levels
    read in one query, whatever their number."""
    version = (
        db.session.execute(
            select(FrameworkVersion)
            .where(FrameworkVersion.id == level.version_id)
            .options(joinedload(FrameworkVersion.tracks).joinedload(Track.levels))
        )
        .unique()
        .scalar_one()
    )
    track = next(track for track in version.tracks if track.id == level.track_id)
    above = [other for other in track.levels if other.position > level.position]
    return next_steps(version, level, above[0] if above else None)


# --- downloads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    filename: str
    mimetype: str
    text: str


def export_file(actor, slug: str, number: int, fmt: str) -> Download:
    """A version as a file to download, in a format people can import again."""
    if fmt not in DOWNLOADS:
        raise NotFoundError(f'Versions can be downloaded as YAML or CSV, not "{fmt[:20]}".')
    version = db.session.execute(
        select(FrameworkVersion)
        .join(Framework)
        .where(Framework.slug == slug, FrameworkVersion.number == number)
    ).scalar_one_or_none()
    if version is None:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "framework_version.view", version)
    safe_slug = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-") or "framework"
    return Download(
        filename=f"{safe_slug}-v{number}.{fmt}",
        mimetype=DOWNLOADS[fmt],
        text=files.export(version.id, fmt),
    )
