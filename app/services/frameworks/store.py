"""Frameworks in the database: store a document as a new version, read a version back whole."""

from __future__ import annotations

import copy
from collections import defaultdict

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import policy
from app.core.errors import NotFoundError
from app.extensions import db
from app.models import (
    CellStatus,
    Competency,
    CompetencyArea,
    DecisionRight,
    Expectation,
    Framework,
    FrameworkVersion,
    Indicator,
    Level,
    Track,
    User,
    VersionStatus,
    competency_tracks,
)
from app.services import audit
from app.services.frameworks.document import (
    AreaDoc,
    CellDoc,
    CompetencyDoc,
    DecisionRightDoc,
    FrameworkDoc,
    IndicatorDoc,
    LevelDoc,
    Report,
    TrackDoc,
)


def get_framework(slug: str) -> Framework:
    framework = db.session.execute(
        select(Framework).where(Framework.slug == slug)
    ).scalar_one_or_none()
    if framework is None:
        raise NotFoundError(f'There is no framework "{slug}".')
    return framework


def list_frameworks() -> list[tuple[Framework, list[FrameworkVersion]]]:
    frameworks = db.session.execute(
        select(Framework).options(selectinload(Framework.versions)).order_by(Framework.name)
    ).scalars()
    return [(framework, list(framework.versions)) for framework in frameworks]


def load_version(version_id: int) -> FrameworkVersion:
    """The version with everything it holds loaded: its framework, tracks with their levels and
    decision rights, areas with their competencies, each competency's tracks and expectations,
    each expectation's indicators, in their order. One query per table, whatever the size.

    Each table is read with a plain query and the collections are set as loaded, rather than
    by chained selectin loaders: the same rows took 40% longer that way (20 ms against 14
    for a 6-level framework, on PostgreSQL), and the framework matrix spent a third of its
    time there. A collection already loaded in this session is left as it is, as a loader
    would leave it."""
    version = db.session.execute(
        select(FrameworkVersion)
        .where(FrameworkVersion.id == version_id)
        .options(joinedload(FrameworkVersion.framework))
    ).scalar_one_or_none()
    if version is None:
        raise NotFoundError("Not found.")
    in_version = Competency.version_id == version_id
    tracks = _all(select(Track).where(Track.version_id == version_id).order_by(Track.position))
    levels = _all(select(Level).where(Level.version_id == version_id).order_by(Level.position))
    rights = _all(
        select(DecisionRight)
        .join(Level, DecisionRight.level_id == Level.id)
        .where(Level.version_id == version_id)
        .order_by(DecisionRight.position)
    )
    areas = _all(
        select(CompetencyArea)
        .where(CompetencyArea.version_id == version_id)
        .order_by(CompetencyArea.position)
    )
    competencies = _all(select(Competency).where(in_version).order_by(Competency.position))
    expectations = _all(
        select(Expectation)
        .join(Competency, Expectation.competency_id == Competency.id)
        .where(in_version)
        .order_by(Expectation.id)
    )
    indicators = _all(
        select(Indicator)
        .join(Expectation, Indicator.expectation_id == Expectation.id)
        .join(Competency, Expectation.competency_id == Competency.id)
        .where(in_version)
        .order_by(Indicator.position)
    )
    on_tracks = db.session.execute(
        select(competency_tracks.c.competency_id, competency_tracks.c.track_id)
        .join(Competency, competency_tracks.c.competency_id == Competency.id)
        .where(in_version)
    ).all()
    track_by_id = {track.id: track for track in tracks}
    tracks_of = _grouped((track_by_id[t] for _, t in on_tracks), (c for c, _ in on_tracks))
    _set_loaded([version], "tracks", _grouped(tracks, (t.version_id for t in tracks)))
    _set_loaded(tracks, "levels", _grouped(levels, (lv.track_id for lv in levels)))
    _set_loaded(levels, "decision_rights", _grouped(rights, (r.level_id for r in rights)))
    _set_loaded([version], "areas", _grouped(areas, (a.version_id for a in areas)))
    _set_loaded(areas, "competencies", _grouped(competencies, (c.area_id for c in competencies)))
    _set_loaded(
        competencies,
        "tracks",
        {key: sorted(found, key=lambda t: t.position) for key, found in tracks_of.items()},
    )
    _set_loaded(
        competencies,
        "expectations",
        _grouped(expectations, (e.competency_id for e in expectations)),
    )
    _set_loaded(
        expectations, "indicators", _grouped(indicators, (i.expectation_id for i in indicators))
    )
    return version


def _all(query) -> list:
    return list(db.session.execute(query).scalars())


def _grouped(items, keys) -> dict[int, list]:
    """The items by their parent's id (`keys`, one per item), in the items' order."""
    groups: dict[int, list] = defaultdict(list)
    for item, key in zip(items, keys, strict=True):
        groups[key].append(item)
    return groups


def _set_loaded(parents, attribute: str, children: dict[int, list]) -> None:
    for parent in parents:
        if attribute not in inspect(parent).dict:
            set_committed_value(parent, attribute, children.get(parent.id, []))


def find_version(slug: str, number: int | None = None) -> FrameworkVersion:
    """A version by number, or else the published one, or else the newest."""
    framework = get_framework(slug)
    query = select(FrameworkVersion.id).where(FrameworkVersion.framework_id == framework.id)
    if number is not None:
        query = query.where(FrameworkVersion.number == number)
    else:
        published = FrameworkVersion.status == VersionStatus.PUBLISHED
        query = query.order_by(published.desc(), FrameworkVersion.number.desc()).limit(1)
    version_id = db.session.execute(query).scalar_one_or_none()
    if version_id is None:
        raise NotFoundError(
            f'"{slug}" has no version {number}.' if number else f'"{slug}" has no versions.'
        )
    return load_version(version_id)


def version_for(actor, slug: str, number: int) -> FrameworkVersion:
    """The whole version if the actor may see it; NotFoundError otherwise (drafts stay hidden)."""
    framework = get_framework(slug)
    version_id = db.session.execute(
        select(FrameworkVersion.id).where(
            FrameworkVersion.framework_id == framework.id, FrameworkVersion.number == number
        )
    ).scalar_one_or_none()
    if version_id is None:
        raise NotFoundError("Not found.")
    version = load_version(version_id)
    policy.authorize(actor, "framework_version.view", version)
    return version


def create_version(actor: User, doc: FrameworkDoc, *, based_on: FrameworkVersion | None = None):
    """Store a checked document as the next draft of its framework (created when new)."""
    policy.authorize(actor, "frameworks.manage")
    framework = db.session.execute(
        select(Framework).where(Framework.slug == doc.slug)
    ).scalar_one_or_none()
    if framework is None:
        framework = Framework(slug=doc.slug, name=doc.name, description=doc.description)
        db.session.add(framework)
        db.session.flush()
    number = (
        db.session.execute(
            select(func.coalesce(func.max(FrameworkVersion.number), 0)).where(
                FrameworkVersion.framework_id == framework.id
            )
        ).scalar_one()
        + 1
    )
    version = FrameworkVersion(
        framework_id=framework.id,
        number=number,
        name=doc.name,
        description=doc.description,
        created_by_id=getattr(actor, "id", None),
        based_on_id=based_on.id if based_on else None,
    )
    db.session.add(version)
    db.session.flush()
    _add_content(version, doc)
    audit.record(
        actor,
        "framework.version_created",
        version,
        after={
            "framework": doc.slug,
            "number": number,
            "based_on": based_on.number if based_on else None,
        },
    )
    return version


def _add_content(version: FrameworkVersion, doc: FrameworkDoc) -> None:
    levels: dict[str, Level] = {}
    tracks: dict[str, Track] = {}
    for t, track_doc in enumerate(doc.tracks):
        track = Track(version=version, key=track_doc.key, name=track_doc.name, position=t)
        tracks[track.key] = track
        for position, level_doc in enumerate(track_doc.levels):
            level = Level(
                version_id=version.id,
                track=track,
                code=level_doc.code,
                title=level_doc.title,
                rank=level_doc.rank,
                position=position,
                summary=level_doc.summary,
                scope=level_doc.scope,
                typical_experience=level_doc.typical_experience,
                decision_rights=[
                    DecisionRight(
                        position=i, decision=r.decision, role=r.role, delegation=r.delegation
                    )
                    for i, r in enumerate(level_doc.decision_rights)
                ],
            )
            levels[level.code] = level
    db.session.add_all(tracks.values())
    db.session.flush()
    for a, area_doc in enumerate(doc.areas):
        area = CompetencyArea(
            version=version,
            key=area_doc.key,
            name=area_doc.name,
            description=area_doc.description,
            position=a,
        )
        for c, competency_doc in enumerate(area_doc.competencies):
            competency = Competency(
                version_id=version.id,
                area=area,
                key=competency_doc.key,
                name=competency_doc.name,
                short_name=competency_doc.short_name,
                description=competency_doc.description,
                position=c,
                tracks=[tracks[key] for key in doc.track_keys_of(competency_doc)],
            )
            for level_doc in doc.cell_levels(competency_doc):
                cell = competency_doc.expectations.get(level_doc.code) or CellDoc(CellStatus.EMPTY)
                competency.expectations.append(
                    Expectation(
                        level=levels[level_doc.code],
                        status=cell.status,
                        text=cell.text,
                        indicators=[
                            Indicator(position=i, kind=ind.kind, text=ind.text)
                            for i, ind in enumerate(cell.indicators)
                        ],
                    )
                )
        db.session.add(area)
    db.session.flush()


def to_document(version: FrameworkVersion) -> FrameworkDoc:
    """The version as a document (for export, diffs and checks); needs load_version's loading."""
    all_track_keys = [track.key for track in version.tracks]
    codes = {level.id: level.code for track in version.tracks for level in track.levels}
    return FrameworkDoc(
        slug=version.framework.slug,
        name=version.name,
        description=version.description,
        tracks=[
            TrackDoc(
                track.key,
                track.name,
                [
                    LevelDoc(
                        code=level.code,
                        title=level.title,
                        rank=level.rank,
                        summary=level.summary,
                        scope=level.scope,
                        typical_experience=level.typical_experience,
                        decision_rights=[
                            DecisionRightDoc(r.decision, r.role, r.delegation)
                            for r in level.decision_rights
                        ],
                    )
                    for level in track.levels
                ],
            )
            for track in version.tracks
        ],
        areas=[
            AreaDoc(
                area.key,
                area.name,
                area.description,
                [
                    CompetencyDoc(
                        key=c.key,
                        name=c.name,
                        short_name=c.short_name,
                        description=c.description,
                        tracks=None
                        if [t.key for t in c.tracks] == all_track_keys
                        else [t.key for t in c.tracks],
                        expectations={
                            codes[e.level_id]: CellDoc(
                                e.status,
                                e.text,
                                [IndicatorDoc(i.kind, i.text) for i in e.indicators],
                            )
                            for e in c.expectations
                        },
                    )
                    for c in area.competencies
                ],
            )
            for area in version.areas
        ],
    )


# --- imports: the same file twice, and files that name things without keys ---------------------


def import_document(actor: User, doc: FrameworkDoc) -> tuple[FrameworkVersion, bool]:
    """Store an imported document as the next draft, unless the published version or a draft
    holds exactly this document already: then that version, and False for "nothing new"."""
    policy.authorize(actor, "frameworks.manage")
    same = identical_version(doc)
    if same is not None:
        return same, False
    return create_version(actor, doc), True


def identical_version(doc: FrameworkDoc) -> FrameworkVersion | None:
    """The published version or a draft of the document's framework that already holds exactly
    this document (newest first), so importing the same file again adds no draft."""
    candidates = db.session.execute(
        select(FrameworkVersion.id)
        .join(Framework)
        .where(
            Framework.slug == doc.slug,
            FrameworkVersion.status.in_((VersionStatus.PUBLISHED, VersionStatus.DRAFT)),
        )
        .order_by(FrameworkVersion.number.desc())
    ).scalars()
    wanted = _canonical(doc)
    for version_id in list(candidates):
        version = load_version(version_id)
        if _canonical(to_document(version)) == wanted:
            return version
    return None


def _canonical(doc: FrameworkDoc) -> FrameworkDoc:
    """The document as storing it would give it back: every cell present (empty when the file
    left it out) and a competency on every track written as None, as to_document does."""
    doc = copy.deepcopy(doc)
    all_keys = [track.key for track in doc.tracks]
    for *_, competency in doc.competencies():
        if competency.tracks is not None and sorted(competency.tracks) == sorted(all_keys):
            competency.tracks = None
        for level in doc.cell_levels(competency):
            competency.expectations.setdefault(level.code, CellDoc(CellStatus.EMPTY))
    return doc


def adopt_keys_by_name(doc: FrameworkDoc, report: Report) -> None:
    """Tracks, areas and competencies that came without keys (a CSV with names only) take the
    key of the one of the same name in the framework's current version, so evidence tagged with
    that key keeps its competency; the report says which matched and which got new keys."""
    if not doc.named_only:
        return
    framework = db.session.execute(
        select(Framework.id).where(Framework.slug == doc.slug)
    ).scalar_one_or_none()
    if framework is None:
        return  # a new framework: the keys made from names are its first keys
    current = find_version(doc.slug)
    known = _keys_by_name(to_document(current))
    taken = {kind: {item.key for item in items} for kind, items in _items_by_kind(doc).items()}
    paths = _paths(doc)
    matched: dict[str, list[str]] = {kind: [] for kind in _KINDS.values()}
    where = f"version {current.number}"
    for item in list(doc.named_only):
        kind = _KINDS[type(item)]
        key = known[kind].get(_name_key(item.name))
        if key is not None and (key == item.key or key not in taken[kind]):
            matched[kind].append(f'{item.name} ("{key}")')
            _rename(doc, item, key)
            taken[kind].add(key)
            continue
        why = (
            f"no {kind} of that name is in {where}"
            if key is None
            else f'it matches "{key}" of {where} by name, but the file uses that key elsewhere'
        )
        report.warn(
            paths[id(item)],
            f'{kind} "{item.name}" has no key in the file and {why}; it gets the new key '
            f'"{item.key}" (evidence tagged before cannot follow it)',
        )
    for kind, names in matched.items():
        if names:
            report.warn(
                "",
                f"{len(names)} {_PLURAL[kind] if len(names) != 1 else kind} without a key in "
                f"the file matched {where} by name and keep its keys: {', '.join(names)}",
            )


_KINDS = {TrackDoc: "track", AreaDoc: "area", CompetencyDoc: "competency"}
_PLURAL = {"track": "tracks", "area": "areas", "competency": "competencies"}


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _items_by_kind(doc: FrameworkDoc) -> dict[str, list]:
    return {
        "track": list(doc.tracks),
        "area": list(doc.areas),
        "competency": [competency for *_, competency in doc.competencies()],
    }


def _keys_by_name(doc: FrameworkDoc) -> dict[str, dict[str, str]]:
    return {
        kind: {_name_key(item.name): item.key for item in items}
        for kind, items in _items_by_kind(doc).items()
    }


def _paths(doc: FrameworkDoc) -> dict[int, str]:
    """Where each track, area and competency is, for the report's line numbers."""
    paths = {id(track): f"tracks[{t}]" for t, track in enumerate(doc.tracks)}
    paths.update({id(area): f"areas[{a}]" for a, area in enumerate(doc.areas)})
    paths.update({id(c): f"areas[{a}].competencies[{i}]" for a, i, _, c in doc.competencies()})
    return paths


def _rename(doc: FrameworkDoc, item, key: str) -> None:
    if isinstance(item, TrackDoc):
        for *_, competency in doc.competencies():
            if competency.tracks is not None:
                competency.tracks = [key if k == item.key else k for k in competency.tracks]
    item.key = key
