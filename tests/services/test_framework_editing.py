"""Editing a draft through the service verbs, without HTTP: each verb, refusals, conflicts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    AuditEvent,
    CellStatus,
    DaciRole,
    Expectation,
    Framework,
    FrameworkVersion,
    IndicatorKind,
    VersionStatus,
)
from app.policy import SYSTEM
from app.services import people
from app.services.frameworks import editing, files, store, versions
from app.services.frameworks.document import IndicatorDoc
from app.services.frameworks.editing import (
    AreaInput,
    CellInput,
    CompetencyInput,
    DecisionInput,
    LevelInput,
    NewFramework,
    TrackInput,
)
from tests.framework_samples import framework_yaml


def draft(**kwargs) -> FrameworkVersion:
    version, _report = files.import_text(SYSTEM, framework_yaml(**kwargs), "yaml")
    db.session.commit()
    return store.load_version(version.id)


def fresh(version: FrameworkVersion) -> FrameworkVersion:
    """The version as stored: everything read again from the database."""
    db.session.commit()
    db.session.expire_all()
    return store.load_version(version.id)


def rejected(version: FrameworkVersion) -> FrameworkVersion:
    """After a refused edit the caller rolls back; the draft must be exactly as before."""
    db.session.rollback()
    return store.load_version(version.id)


def track(version, key):
    return next(t for t in version.tracks if t.key == key)


def level(version, code):
    return next(lv for t in version.tracks for lv in t.levels if lv.code == code)


def area(version, key):
    return next(a for a in version.areas if a.key == key)


def competency(version, key):
    return next(c for a in version.areas for c in a.competencies if c.key == key)


def cell(version, competency_key, code) -> Expectation:
    lv = level(version, code)
    return next(e for e in competency(version, competency_key).expectations if e.level_id == lv.id)


def cell_codes(version, competency_key) -> list[str]:
    codes = {lv.id: lv.code for t in version.tracks for lv in t.levels}
    return sorted(codes[e.level_id] for e in competency(version, competency_key).expectations)


def is_valid(version) -> bool:
    return not editing.check(fresh(version)).errors


def last_event(action: str) -> AuditEvent:
    return (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
        )
        .scalars()
        .first()
    )


def level_input(code="L9", title="Level nine", rank=9, **kwargs) -> LevelInput:
    return LevelInput(code=code, title=title, rank=rank, **kwargs)


def competency_input(version, key="", name="Facilitation", tracks=None, **kwargs):
    return CompetencyInput(
        key=key,
        name=name,
        description=kwargs.pop("description", ""),
        area_id=kwargs.pop("area_id", version.areas[0].id),
        track_ids=[t.id for t in (tracks if tracks is not None else version.tracks)],
        **kwargs,
    )


# --- a new framework ----------------------------------------------------------------------------


def new_framework(**overrides) -> NewFramework:
    data = {
        "slug": "design",
        "name": "Design",
        "description": "How designers grow.",
        "track_key": "",
        "track_name": "Individual contributor",
        "level_code": "D1",
        "level_title": "Designer",
        "area_name": "Craft & quality",
        "competency_name": "Interaction design",
    }
    return NewFramework(**{**data, **overrides})


def test_a_new_framework_is_a_complete_draft_version_1(ctx):
    version = fresh(editing.create_framework(SYSTEM, new_framework()))
    assert (version.number, version.status) == (1, VersionStatus.DRAFT)
    assert [(t.key, [lv.code for lv in t.levels]) for t in version.tracks] == [
        ("individual-contributor", ["D1"])
    ]
    assert [(a.key, [c.key for c in a.competencies]) for a in version.areas] == [
        ("craft-quality", ["interaction-design"])
    ]
    assert cell(version, "interaction-design", "D1").status is CellStatus.EMPTY
    report = editing.check(version)
    assert report.errors == [] and len(report.warnings) == 1
    assert last_event("framework.version_created").entity_id == version.id


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"slug": "Not A Slug"}, "slug", "lower-case"),
        ({"slug": "product"}, "slug", "is the slug of Product already"),
        ({"level_code": "P M"}, "level_code", "is not a level code"),
        ({"track_key": "IC!"}, "track_key", "is not a key"),
        ({"name": "  "}, "name", "Enter a name"),
    ],
)
def test_a_new_framework_with_bad_input_is_refused_at_its_field(ctx, overrides, field, message):
    draft(slug="product")
    with pytest.raises(ValidationError) as error:
        editing.create_framework(SYSTEM, new_framework(**overrides))
    assert error.value.field == field and message in error.value.message
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(Framework)).scalar_one() == 1


def test_only_the_head_of_product_may_edit(org, ctx):
    version = draft()
    manager = people.get_person(org.manager_a.id)
    with pytest.raises(ForbiddenError):
        editing.update(
            manager,
            version,
            "tracks",
            version.tracks[0].id,
            TrackInput("x", "X"),
            expected_revision=1,
        )
    with pytest.raises(ForbiddenError):
        editing.create_framework(manager, new_framework())


# --- refusing everything but drafts -------------------------------------------------------------


def _every_verb(version):
    """Each verb once, with input that would be fine on a draft."""
    t, lv, a = version.tracks[0], version.tracks[0].levels[0], version.areas[0]
    c = a.competencies[0]
    rev = version.revision
    return {
        "add_track": lambda: editing.add(
            SYSTEM,
            version,
            "tracks",
            TrackInput("m", "M", first=level_input()),
            expected_revision=rev,
        ),
        "update_track": lambda: editing.update(
            SYSTEM, version, "tracks", t.id, TrackInput("ic", "IC"), expected_revision=rev
        ),
        "add_level": lambda: editing.add(
            SYSTEM, version, "levels", level_input(), under=t.id, expected_revision=rev
        ),
        "update_level": lambda: editing.update(
            SYSTEM,
            version,
            "levels",
            lv.id,
            level_input(code=lv.code, rank=lv.rank),
            expected_revision=rev,
        ),
        "add_decision": lambda: editing.add(
            SYSTEM,
            version,
            "decisions",
            DecisionInput("x", DaciRole.DRIVER, 3),
            under=lv.id,
            expected_revision=rev,
        ),
        "add_area": lambda: editing.add(
            SYSTEM,
            version,
            "areas",
            AreaInput("", "New", first=competency_input(version)),
            expected_revision=rev,
        ),
        "update_area": lambda: editing.update(
            SYSTEM, version, "areas", a.id, AreaInput("", "Renamed"), expected_revision=rev
        ),
        "add_competency": lambda: editing.add(
            SYSTEM, version, "competencies", competency_input(version), expected_revision=rev
        ),
        "update_competency": lambda: editing.update(
            SYSTEM,
            version,
            "competencies",
            c.id,
            competency_input(version, name="X"),
            expected_revision=rev,
        ),
        "move": lambda: editing.move(SYSTEM, version, "areas", a.id, "down", expected_revision=rev),
        "remove": lambda: editing.remove(SYSTEM, version, "levels", lv.id, expected_revision=rev),
        "update_cell": lambda: editing.update(
            SYSTEM,
            version,
            "cells",
            c.expectations[0].id,
            CellInput(CellStatus.EMPTY),
            expected_revision=c.expectations[0].revision,
        ),
    }


VERBS = [
    "add_track",
    "update_track",
    "add_level",
    "update_level",
    "add_decision",
    "add_area",
    "update_area",
    "add_competency",
    "update_competency",
    "move",
    "remove",
    "update_cell",
]


def test_every_verb_is_in_the_refusal_test(ctx):
    assert sorted(_every_verb(draft())) == sorted(VERBS)


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("status", ["published", "archived"])
def test_a_published_or_archived_version_is_never_edited(ctx, verb, status):
    version = draft()
    versions.publish(SYSTEM, version, changelog="First")
    if status == "archived":
        versions.archive(SYSTEM, version)
    db.session.commit()
    before = files.export(version.id, "yaml")
    with pytest.raises(ValidationError) as error:
        _every_verb(version)[verb]()
    assert error.value.message == f"Version 1 is {status}; start a new draft to change it."
    db.session.rollback()
    assert files.export(version.id, "yaml") == before


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_works_on_a_draft_and_keeps_it_valid(ctx, verb):
    version = draft(levels=3, areas=2, per_area=2)
    _every_verb(version)[verb]()
    assert is_valid(version)


# --- tracks -------------------------------------------------------------------------------------


def test_add_a_track_with_its_first_level(ctx):
    version = draft(levels=2, per_area=2)
    only_ic = competency(version, "skill-0-1")
    editing.update(
        SYSTEM, version, "competencies", only_ic.id, competency_input(version, name=only_ic.name),
        expected_revision=version.revision,
    )  # fmt: skip
    new = editing.add(
        SYSTEM,
        version,
        "tracks",
        TrackInput("", "Management", first=level_input(code="M1", title="Manager", rank=3)),
        expected_revision=version.revision,
    )
    version = fresh(version)
    assert [t.key for t in version.tracks] == ["track-0", "management"]
    assert [lv.code for lv in track(version, "management").levels] == ["M1"]
    # Competencies that applied to every track apply to the new one, with an empty cell.
    assert cell(version, "skill-0-0", "M1").status is CellStatus.EMPTY
    assert [t.key for t in competency(version, "skill-1-1").tracks] == ["track-0", "management"]
    assert new.id == track(version, "management").id
    assert last_event("framework.track_added").after == {
        "key": "management",
        "name": "Management",
        "level": "M1",
    }


def test_track_keys_are_unique_and_names_required(ctx):
    version = draft(tracks=2)
    second = version.tracks[1]
    with pytest.raises(ValidationError) as error:
        editing.update(
            SYSTEM, version, "tracks", second.id, TrackInput("track-0", "X"), expected_revision=1
        )
    assert error.value.field == "key" and "Track 0 uses the key" in error.value.message
    version = rejected(version)
    with pytest.raises(ValidationError) as error:
        editing.update(
            SYSTEM, version, "tracks", second.id, TrackInput("x", " "), expected_revision=1
        )
    assert error.value.field == "name"
    version = rejected(version)
    assert [t.key for t in version.tracks] == ["track-0", "track-1"]


def test_rename_a_track(ctx):
    version = draft()
    editing.update(
        SYSTEM,
        version,
        "tracks",
        version.tracks[0].id,
        TrackInput("ic", "Individual"),
        expected_revision=1,
    )
    version = fresh(version)
    assert (version.tracks[0].key, version.tracks[0].name) == ("ic", "Individual")
    event = last_event("framework.track_updated")
    assert event.before == {"key": "track-0", "name": "Track 0"}
    assert event.after == {"key": "ic", "name": "Individual"}
    assert (event.entity_type, event.entity_id) == ("framework_versions", version.id)


def test_remove_a_track_takes_its_levels_and_cells(ctx):
    version = draft(tracks=2, levels=2)
    editing.remove(SYSTEM, version, "tracks", version.tracks[0].id, expected_revision=1)
    version = fresh(version)
    assert [t.key for t in version.tracks] == ["track-1"]
    assert [t.position for t in version.tracks] == [0]
    assert cell_codes(version, "skill-0-0") == ["T1L1", "T1L2"]
    assert [t.key for t in competency(version, "skill-0-0").tracks] == ["track-1"]
    assert last_event("framework.track_removed").before["levels"] == ["T0L1", "T0L2"]


def test_the_last_track_stays(ctx):
    version = draft()
    with pytest.raises(ValidationError, match="at least one track"):
        editing.remove(SYSTEM, version, "tracks", version.tracks[0].id, expected_revision=1)


def test_move_tracks(ctx):
    version = draft(tracks=3)
    first = version.tracks[0].id
    editing.move(SYSTEM, version, "tracks", first, "down", expected_revision=1)
    assert [t.key for t in fresh(version).tracks] == ["track-1", "track-0", "track-2"]
    with pytest.raises(ValidationError, match="cannot move up"):
        editing.move(SYSTEM, version, "tracks", version.tracks[0].id, "up", expected_revision=2)


# --- levels -------------------------------------------------------------------------------------


def test_add_a_level_takes_its_place_by_rank_with_empty_cells(ctx):
    version = draft(levels=3)  # ranks 1, 2, 3
    editing.update(
        SYSTEM, version, "levels", level(version, "L3").id,
        level_input(code="L3", title="Level 3", rank=5), expected_revision=1,
    )  # fmt: skip
    editing.add(
        SYSTEM,
        version,
        "levels",
        level_input(code="L3a", title="Between", rank=4, scope="A product line."),
        under=version.tracks[0].id,
        expected_revision=2,
    )
    version = fresh(version)
    assert [(lv.code, lv.rank, lv.position) for lv in version.tracks[0].levels] == [
        ("L1", 1, 0),
        ("L2", 2, 1),
        ("L3a", 4, 2),
        ("L3", 5, 3),
    ]
    assert level(version, "L3a").scope == "A product line."
    for _a, _c, _area, c in store.to_document(version).competencies():
        assert cell(version, c.key, "L3a").status is CellStatus.EMPTY
    assert last_event("framework.level_added").after["code"] == "L3a"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "L1"}, "code", 'Level 1 uses the code "L1" already'),
        ({"code": "L 9"}, "code", "is not a level code"),
        ({"rank": 2}, "rank", "L2 has rank 2 in this track already"),
        ({"title": ""}, "title", "Enter a title"),
        ({"rank": None}, "rank", "Enter a whole number"),
    ],
)
def test_a_bad_new_level_is_refused_and_changes_nothing(ctx, data, field, message):
    version = draft(levels=3)
    before = files.export(version.id, "yaml")
    with pytest.raises(ValidationError) as error:
        editing.add(
            SYSTEM,
            version,
            "levels",
            level_input(**data),
            under=version.tracks[0].id,
            expected_revision=1,
        )
    assert error.value.field == field and message in error.value.message
    rejected(version)
    assert files.export(version.id, "yaml") == before


def test_level_codes_are_unique_across_tracks(ctx):
    version = draft(tracks=2, levels=2)
    with pytest.raises(ValidationError, match='uses the code "T0L1"'):
        editing.update(
            SYSTEM,
            version,
            "levels",
            level(version, "T1L1").id,
            level_input(code="T0L1", rank=3),
            expected_revision=1,
        )


def test_editing_a_rank_must_keep_ranks_rising(ctx):
    version = draft(levels=3)
    with pytest.raises(ValidationError) as error:
        editing.update(
            SYSTEM,
            version,
            "levels",
            level(version, "L2").id,
            level_input(code="L2", title="Level 2", rank=3),
            expected_revision=1,
        )
    assert error.value.field == "rank"
    assert "above 1 (L1, the level below) and below 3 (L3, the level above)" in error.value.message


def test_edit_a_level(ctx):
    version = draft(levels=2)
    editing.update(
        SYSTEM,
        version,
        "levels",
        level(version, "L2").id,
        level_input(
            code="PM", title="Product Manager", rank=7, summary=" Owns outcomes. ",
            scope="One team.", typical_experience="2 to 5 years",
        ),
        expected_revision=1,
    )  # fmt: skip
    pm = level(fresh(version), "PM")
    assert (pm.title, pm.rank, pm.summary, pm.scope, pm.typical_experience) == (
        "Product Manager",
        7,
        "Owns outcomes.",
        "One team.",
        "2 to 5 years",
    )
    event = last_event("framework.level_updated")
    assert event.before["code"] == "L2" and event.after["code"] == "PM"
    assert "summary" in event.after and "decision_rights" not in event.after


def test_move_a_level_swaps_order_and_rank(ctx):
    version = draft(levels=3)
    editing.move(SYSTEM, version, "levels", level(version, "L3").id, "up", expected_revision=1)
    version = fresh(version)
    assert [(lv.code, lv.rank) for lv in version.tracks[0].levels] == [
        ("L1", 1),
        ("L3", 2),
        ("L2", 3),
    ]


def test_remove_a_level_and_its_cells(ctx):
    version = draft(levels=3)
    editing.remove(SYSTEM, version, "levels", level(version, "L2").id, expected_revision=1)
    version = fresh(version)
    assert [lv.code for lv in version.tracks[0].levels] == ["L1", "L3"]
    assert [lv.position for lv in version.tracks[0].levels] == [0, 1]
    assert cell_codes(version, "skill-0-0") == ["L1", "L3"]


def test_the_last_level_of_a_track_stays(ctx):
    version = draft(levels=1)
    with pytest.raises(ValidationError, match="Remove the track instead"):
        editing.remove(SYSTEM, version, "levels", level(version, "L1").id, expected_revision=1)


# --- decision rights ----------------------------------------------------------------------------


def test_decision_rights_add_edit_remove(ctx):
    version = draft(levels=2)
    l2 = level(version, "L2")
    editing.add(
        SYSTEM,
        version,
        "decisions",
        DecisionInput("Pricing changes", DaciRole.CONTRIBUTOR, 3),
        under=l2.id,
        expected_revision=1,
    )
    version = fresh(version)
    rights = level(version, "L2").decision_rights
    assert [(r.decision, r.role, r.delegation, r.position) for r in rights] == [
        ("What to build next", DaciRole.DRIVER, 2, 0),
        ("Pricing changes", DaciRole.CONTRIBUTOR, 3, 1),
    ]
    editing.update(
        SYSTEM,
        version,
        "decisions",
        rights[1].id,
        DecisionInput("Pricing and packaging", DaciRole.APPROVER, 6),
        expected_revision=2,
    )
    assert last_event("framework.decision_right_updated").after == {
        "level": "L2",
        "decision": "Pricing and packaging",
        "role": "approver",
        "delegation": 6,
    }
    editing.remove(SYSTEM, version, "decisions", rights[0].id, expected_revision=3)
    rights = level(fresh(version), "L2").decision_rights
    assert [(r.decision, r.position) for r in rights] == [("Pricing and packaging", 0)]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (DecisionInput("", DaciRole.DRIVER, 3), "decision"),
        (DecisionInput("Hiring", DaciRole.DRIVER, 8), "delegation"),
        (DecisionInput("Hiring", DaciRole.DRIVER, 0), "delegation"),
    ],
)
def test_bad_decision_rights_are_refused(ctx, data, field):
    version = draft()
    with pytest.raises(ValidationError) as error:
        editing.add(
            SYSTEM, version, "decisions", data, under=level(version, "L1").id, expected_revision=1
        )
    assert error.value.field == field


# --- areas --------------------------------------------------------------------------------------


def test_add_an_area_with_its_first_competency(ctx):
    version = draft(tracks=2, levels=2)
    editing.add(
        SYSTEM,
        version,
        "areas",
        AreaInput(
            "",
            "Leadership & influence",
            "Bringing people along.",
            first=CompetencyInput("", "Stakeholder management", "", 0, []),
        ),
        expected_revision=1,
    )
    version = fresh(version)
    new = area(version, "leadership-influence")
    assert (new.position, new.description) == (2, "Bringing people along.")
    assert [c.key for c in new.competencies] == ["stakeholder-management"]
    assert cell_codes(version, "stakeholder-management") == ["T0L1", "T0L2", "T1L1", "T1L2"]


def test_area_keys_are_unique(ctx):
    version = draft(areas=2)
    with pytest.raises(ValidationError) as error:
        editing.update(
            SYSTEM,
            version,
            "areas",
            version.areas[1].id,
            AreaInput("area-0", "X"),
            expected_revision=1,
        )
    assert error.value.field == "key"


def test_an_area_goes_with_its_competencies_only_when_confirmed(ctx):
    version = draft(areas=2, per_area=2)
    doomed = version.areas[0].id
    with pytest.raises(ValidationError) as error:
        editing.remove(SYSTEM, version, "areas", doomed, expected_revision=1)
    assert error.value.field == "confirm" and "Skill 0.0, Skill 0.1" in error.value.message
    version = rejected(version)
    editing.remove(SYSTEM, version, "areas", doomed, expected_revision=1, confirmed=True)
    version = fresh(version)
    assert [a.key for a in version.areas] == ["area-1"]
    assert db.session.execute(select(func.count()).select_from(Expectation)).scalar_one() == 2 * 3
    assert last_event("framework.area_removed").before["competencies"] == [
        "skill-0-0",
        "skill-0-1",
    ]


def test_the_last_area_stays(ctx):
    version = draft(areas=1)
    with pytest.raises(ValidationError, match="at least one area"):
        editing.remove(
            SYSTEM, version, "areas", version.areas[0].id, expected_revision=1, confirmed=True
        )


def test_move_and_rename_areas(ctx):
    version = draft(areas=3)
    editing.move(SYSTEM, version, "areas", version.areas[2].id, "up", expected_revision=1)
    editing.update(
        SYSTEM,
        version,
        "areas",
        area(version, "area-0").id,
        AreaInput("discovery", "Discovery", "Finding problems."),
        expected_revision=2,
    )
    version = fresh(version)
    assert [(a.key, a.position) for a in version.areas] == [
        ("discovery", 0),
        ("area-2", 1),
        ("area-1", 2),
    ]


# --- competencies -------------------------------------------------------------------------------


def test_add_a_competency_with_a_cell_per_level_of_its_tracks(ctx):
    version = draft(tracks=2, levels=2)
    editing.add(
        SYSTEM,
        version,
        "competencies",
        competency_input(version, name="Coaching", tracks=[version.tracks[1]]),
        expected_revision=1,
    )
    version = fresh(version)
    assert [c.key for c in version.areas[0].competencies][-1] == "coaching"
    assert cell_codes(version, "coaching") == ["T1L1", "T1L2"]
    assert {cell(version, "coaching", c).status for c in ("T1L1", "T1L2")} == {CellStatus.EMPTY}
    assert store.to_document(version).areas[0].competencies[-1].tracks == ["track-1"]


@pytest.mark.parametrize(
    ("key", "tracks", "field"),
    [("skill-1-0", None, "key"), ("Bad Key", None, "key"), ("fine", [], "track_ids")],
)
def test_a_bad_new_competency_is_refused(ctx, key, tracks, field):
    version = draft()
    with pytest.raises(ValidationError) as error:
        editing.add(
            SYSTEM,
            version,
            "competencies",
            competency_input(version, key=key, tracks=tracks),
            expected_revision=1,
        )
    assert error.value.field == field


def test_changing_tracks_adds_and_removes_cells(ctx):
    version = draft(tracks=2, levels=2)
    skill = competency(version, "skill-0-0")
    to_track_1 = competency_input(version, name=skill.name, tracks=[version.tracks[1]])
    with pytest.raises(ValidationError) as error:  # its cells at T0L1, T0L2 are written
        editing.update(SYSTEM, version, "competencies", skill.id, to_track_1, expected_revision=1)
    assert error.value.field == "drop_written_cells" and "T0L1, T0L2" in error.value.message
    version = rejected(version)
    assert cell_codes(version, "skill-0-0") == ["T0L1", "T0L2", "T1L1", "T1L2"]
    to_track_1.drop_written_cells = True
    editing.update(SYSTEM, version, "competencies", skill.id, to_track_1, expected_revision=1)
    version = fresh(version)
    assert cell_codes(version, "skill-0-0") == ["T1L1", "T1L2"]
    editing.update(
        SYSTEM,
        version,
        "competencies",
        skill.id,
        competency_input(version, name=skill.name),
        expected_revision=2,
    )
    version = fresh(version)
    assert cell_codes(version, "skill-0-0") == ["T0L1", "T0L2", "T1L1", "T1L2"]
    assert cell(version, "skill-0-0", "T0L1").status is CellStatus.EMPTY
    assert cell(version, "skill-0-0", "T1L1").status is CellStatus.DEFINED  # kept
    event = last_event("framework.competency_updated")
    assert event.after["track_ids"] == [t.id for t in version.tracks]


def test_move_a_competency_to_another_area(ctx):
    version = draft(areas=2, per_area=2)
    skill = competency(version, "skill-0-0")
    editing.update(
        SYSTEM,
        version,
        "competencies",
        skill.id,
        competency_input(version, name="Renamed", area_id=version.areas[1].id),
        expected_revision=1,
    )
    version = fresh(version)
    assert [(c.key, c.position) for c in version.areas[0].competencies] == [("skill-0-1", 0)]
    assert [c.key for c in version.areas[1].competencies] == ["skill-1-0", "skill-1-1", "skill-0-0"]
    assert competency(version, "skill-0-0").name == "Renamed"
    assert cell(version, "skill-0-0", "L1").text == "Does skill 0.0 at L1."  # cells travel along


def test_an_area_keeps_its_last_competency(ctx):
    version = draft(areas=2, per_area=1)
    only = competency(version, "skill-0-0")
    with pytest.raises(ValidationError) as error:
        editing.update(
            SYSTEM,
            version,
            "competencies",
            only.id,
            competency_input(version, name=only.name, area_id=version.areas[1].id),
            expected_revision=1,
        )
    assert error.value.field == "area_id"
    version = rejected(version)
    with pytest.raises(ValidationError, match="Remove the area instead"):
        editing.remove(SYSTEM, version, "competencies", only.id, expected_revision=1)


def test_move_and_remove_competencies(ctx):
    version = draft(per_area=3)
    editing.move(
        SYSTEM, version, "competencies", competency(version, "skill-0-0").id, "down",
        expected_revision=1,
    )  # fmt: skip
    assert [c.key for c in fresh(version).areas[0].competencies] == [
        "skill-0-1",
        "skill-0-0",
        "skill-0-2",
    ]
    editing.remove(
        SYSTEM, version, "competencies", competency(version, "skill-0-1").id, expected_revision=2
    )
    version = fresh(version)
    assert [(c.key, c.position) for c in version.areas[0].competencies] == [
        ("skill-0-0", 0),
        ("skill-0-2", 1),
    ]
    assert last_event("framework.competency_removed").before["key"] == "skill-0-1"


# --- cells --------------------------------------------------------------------------------------


def test_write_a_cell(ctx):
    version = draft()
    target = cell(version, "skill-0-0", "L2")
    editing.update(
        SYSTEM,
        version,
        "cells",
        target.id,
        CellInput(
            CellStatus.DEFINED,
            "Runs discovery\r\nfor a whole area.",
            [
                IndicatorDoc(IndicatorKind.SIGNAL, "Peers ask for their research."),
                IndicatorDoc(IndicatorKind.CRITERION, "Six interviews a quarter."),
                IndicatorDoc(IndicatorKind.CRITERION, "   "),
            ],
        ),
        expected_revision=target.revision,
    )
    saved = cell(fresh(version), "skill-0-0", "L2")
    assert saved.text == "Runs discovery\nfor a whole area."
    assert [(i.kind, i.text, i.position) for i in saved.indicators] == [
        (IndicatorKind.CRITERION, "Six interviews a quarter.", 0),
        (IndicatorKind.SIGNAL, "Peers ask for their research.", 1),
    ]
    event = last_event("framework.cell_updated")
    assert event.after["competency"] == "skill-0-0" and event.after["level"] == "L2"
    assert event.before["examples"] == "An example at L2." and event.after["examples"] == ""


def test_saving_a_cell_unchanged_keeps_its_indicators_in_their_order(ctx):
    version = draft()
    target = cell(version, "skill-0-0", "L1")
    ids = [i.id for i in target.indicators]
    snapshot = editing.cell_snapshot(target)
    editing.update(
        SYSTEM,
        version,
        "cells",
        target.id,
        CellInput(
            CellStatus.DEFINED,
            snapshot["text"],
            [IndicatorDoc(IndicatorKind.EXAMPLE, snapshot["examples"])],
        ),
        expected_revision=target.revision,
    )
    assert [i.id for i in cell(fresh(version), "skill-0-0", "L1").indicators] == ids


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (CellInput(CellStatus.DEFINED, "  "), "text"),
        (CellInput(CellStatus.EMPTY, "Some text"), "status"),
        (
            CellInput(
                CellStatus.NOT_APPLICABLE, "", [IndicatorDoc(IndicatorKind.EXAMPLE, "An example")]
            ),
            "status",
        ),
    ],
)
def test_a_bad_cell_is_refused_and_changes_nothing(ctx, data, field):
    version = draft()
    target = cell(version, "skill-0-0", "L1")
    with pytest.raises(ValidationError) as error:
        editing.update(SYSTEM, version, "cells", target.id, data, expected_revision=target.revision)
    assert error.value.field == field
    kept = cell(rejected(version), "skill-0-0", "L1")
    assert (kept.status, kept.text) == (CellStatus.DEFINED, "Does skill 0.0 at L1.")


def test_mark_a_cell_not_applicable(ctx):
    version = draft()
    target = cell(version, "skill-0-0", "L1")
    editing.update(
        SYSTEM,
        version,
        "cells",
        target.id,
        CellInput(CellStatus.NOT_APPLICABLE),
        expected_revision=target.revision,
    )
    saved = cell(fresh(version), "skill-0-0", "L1")
    assert (saved.status, saved.text, saved.indicators) == (CellStatus.NOT_APPLICABLE, "", [])


# --- conflicts ----------------------------------------------------------------------------------


def test_a_second_save_of_the_same_cell_is_a_conflict_with_the_stored_values(ctx):
    version = draft()
    target = cell(version, "skill-0-0", "L1")
    seen = target.revision  # both editors opened the cell at this revision
    editing.update(
        SYSTEM,
        version,
        "cells",
        target.id,
        CellInput(CellStatus.DEFINED, "Theirs"),
        expected_revision=seen,
    )
    version = fresh(version)
    with pytest.raises(ConflictError) as error:
        editing.update(
            SYSTEM,
            version,
            "cells",
            target.id,
            CellInput(CellStatus.DEFINED, "Mine"),
            expected_revision=seen,
        )
    assert error.value.current == {
        "status": "defined",
        "text": "Theirs",
        "measures": "",
        "criteria": "",
        "examples": "",
        "signals": "",
    }
    assert cell(rejected(version), "skill-0-0", "L1").text == "Theirs"


def test_changing_only_indicators_still_bumps_the_cell_revision(ctx):
    version = draft()
    target = cell(version, "skill-0-0", "L1")
    seen = target.revision
    editing.update(
        SYSTEM,
        version,
        "cells",
        target.id,
        CellInput(CellStatus.DEFINED, target.text, [IndicatorDoc(IndicatorKind.SIGNAL, "New")]),
        expected_revision=seen,
    )
    assert cell(fresh(version), "skill-0-0", "L1").revision == seen + 1


def test_cells_do_not_conflict_with_each_other_or_with_structure(ctx):
    version = draft()
    a, b = cell(version, "skill-0-0", "L1"), cell(version, "skill-0-1", "L1")
    revision = version.revision
    editing.update(
        SYSTEM,
        version,
        "cells",
        a.id,
        CellInput(CellStatus.DEFINED, "A"),
        expected_revision=a.revision,
    )
    editing.update(
        SYSTEM,
        version,
        "cells",
        b.id,
        CellInput(CellStatus.DEFINED, "B"),
        expected_revision=b.revision,
    )
    assert fresh(version).revision == revision


def test_every_structural_edit_bumps_the_version_revision(ctx):
    version = draft()
    editing.update(
        SYSTEM, version, "tracks", version.tracks[0].id, TrackInput("track-0", "Track 0"),
        expected_revision=1,
    )  # fmt: skip
    assert fresh(version).revision == 2


def test_a_stale_structural_edit_is_a_conflict_with_the_stored_values(ctx):
    version = draft(levels=2)
    l2 = level(version, "L2")
    editing.update(
        SYSTEM,
        version,
        "levels",
        l2.id,
        level_input(code="PM", title="Theirs", rank=2),
        expected_revision=1,
    )
    version = fresh(version)
    with pytest.raises(ConflictError) as error:
        editing.update(
            SYSTEM,
            version,
            "levels",
            l2.id,
            level_input(code="L2", title="Mine", rank=2),
            expected_revision=1,
        )
    assert error.value.current["code"] == "PM" and error.value.current["title"] == "Theirs"
    assert level(rejected(version), "PM").title == "Theirs"


def test_a_stale_edit_of_something_removed_meanwhile_says_so(ctx):
    version = draft(levels=2)
    l2 = level(version, "L2").id
    editing.remove(SYSTEM, version, "levels", l2, expected_revision=1)
    version = fresh(version)
    with pytest.raises(ConflictError, match="removed this"):
        editing.update(SYSTEM, version, "levels", l2, level_input(), expected_revision=1)
    version = rejected(version)
    with pytest.raises(NotFoundError):  # with the current revision, it is simply not there
        editing.update(SYSTEM, version, "levels", l2, level_input(), expected_revision=2)


def test_ids_from_another_version_are_not_found(ctx):
    mine_id, other = draft(slug="mine").id, draft(slug="other")
    mine = store.load_version(mine_id)
    with pytest.raises(NotFoundError):
        editing.update(
            SYSTEM, mine, "tracks", other.tracks[0].id, TrackInput("x", "X"), expected_revision=1
        )
    with pytest.raises(NotFoundError):
        editing.find(mine, "cells", other.areas[0].competencies[0].expectations[0].id)


# --- the whole story ----------------------------------------------------------------------------


def test_an_edited_draft_exports_and_imports_to_the_same_text(ctx):
    version = draft(tracks=2, levels=2)
    editing.add(
        SYSTEM,
        version,
        "levels",
        level_input(code="M9", rank=9),
        under=version.tracks[1].id,
        expected_revision=1,
    )
    editing.add(
        SYSTEM,
        version,
        "competencies",
        competency_input(version, name="Coaching", tracks=[version.tracks[1]]),
        expected_revision=2,
    )
    target = cell(version, "coaching", "M9")
    editing.update(
        SYSTEM,
        version,
        "cells",
        target.id,
        CellInput(CellStatus.DEFINED, "Grows managers."),
        expected_revision=target.revision,
    )
    exported = files.export(fresh(version).id, "yaml")
    again, _report = files.import_text(
        SYSTEM, exported.replace("slug: sample", "slug: copy"), "yaml"
    )
    assert files.export(again.id, "yaml") == exported.replace("slug: sample", "slug: copy")
    assert "Grows managers." in exported
    versions.publish(SYSTEM, fresh(version), changelog="Edited in the app")
    assert fresh(version).status is VersionStatus.PUBLISHED
