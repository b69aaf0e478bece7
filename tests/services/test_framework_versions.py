"""Storing, exporting, publishing and drafting framework versions, without HTTP."""

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.core.errors import ForbiddenError, ValidationError
from app.extensions import db
from app.models import (
    AuditEvent,
    Competency,
    CompetencyArea,
    Expectation,
    Framework,
    FrameworkVersion,
    Level,
    Track,
    User,
    VersionStatus,
)
from app.policy import SYSTEM
from app.services import people
from app.services.frameworks import files, store, versions
from app.services.frameworks.document import InvalidFrameworkError
from tests.framework_samples import framework_yaml


def import_sample(publish=False, **kwargs) -> FrameworkVersion:
    version, _report = files.import_text(SYSTEM, framework_yaml(**kwargs), "yaml", publish=publish)
    return version


def place(person, code: str, version: FrameworkVersion) -> None:
    level = db.session.execute(
        select(Level).where(Level.version_id == version.id, Level.code == code)
    ).scalar_one()
    db.session.get(User, person.id).level_id = level.id
    db.session.flush()


def test_import_stores_a_draft_and_export_gives_the_same_text(ctx):
    version = import_sample(tracks=2)
    assert version.status is VersionStatus.DRAFT and version.number == 1
    exported = files.export(version.id, "yaml")
    copied = exported.replace("slug: sample", "slug: copy")
    again = files.import_text(SYSTEM, copied, "yaml")[0]
    assert again.number == 1 and again.id != version.id
    assert files.export(again.id, "yaml") == copied


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
@pytest.mark.parametrize("publish", [False, True])
def test_importing_the_same_file_again_adds_no_draft(ctx, fmt, publish):
    version = import_sample(publish=publish, tracks=2)
    exported = files.export(version.id, fmt)
    again = files.import_text(SYSTEM, exported, fmt, filename=f"whatever.{fmt}")
    assert again.is_new is False and again.version is version
    assert db.session.scalar(select(func.count()).select_from(FrameworkVersion)) == 1
    changed = files.import_text(SYSTEM, exported.replace("Does skill 0.0 at", "Does 0.0 at"), fmt)
    assert changed.is_new is True and changed.version.number == 2


def test_the_same_file_as_a_draft_asked_to_be_published_publishes_that_draft(ctx):
    draft = import_sample()
    again = files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True, changelog="Go")
    assert again.is_new is False and again.version is draft
    assert draft.status is VersionStatus.PUBLISHED and draft.changelog == "Go"
    # Now the file is the published version, and importing it once more changes nothing.
    assert files.import_text(SYSTEM, framework_yaml(), "yaml", publish=True).version is draft


def test_a_file_the_same_as_an_archived_version_is_a_new_draft(ctx):
    first = import_sample(publish=True)
    versions.publish(SYSTEM, import_sample(levels=2), changelog="Smaller")
    assert first.status is VersionStatus.ARCHIVED
    again = import_sample()
    assert again.number == 3 and again.is_draft


def test_a_file_with_errors_stores_nothing(ctx):
    with pytest.raises(InvalidFrameworkError):
        files.import_text(SYSTEM, framework_yaml().replace("rank: 2", "rank: 1"), "yaml")
    assert db.session.execute(select(func.count()).select_from(Framework)).scalar_one() == 0


def test_only_the_head_of_product_may_import(org, ctx):
    manager = people.get_person(org.manager_a.id)
    with pytest.raises(ForbiddenError):
        files.import_text(manager, framework_yaml(), "yaml")


def test_publishing_archives_the_previous_version_and_moves_people_by_code(org, ctx):
    first = import_sample(publish=True, levels=3)
    place(org.pm_a1, "L2", first)
    second = versions.new_draft(SYSTEM, first)
    versions.publish(SYSTEM, second, changelog="Sharper wording")
    assert first.status is VersionStatus.ARCHIVED and first.archived_at is not None
    assert second.status is VersionStatus.PUBLISHED and second.changelog == "Sharper wording"
    level = db.session.get(Level, db.session.get(User, org.pm_a1.id).level_id)
    assert (level.version_id, level.code) == (second.id, "L2")
    event_ = (
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == "framework.version_published")
            .order_by(AuditEvent.id.desc())
        )
        .scalars()
        .first()
    )
    assert event_.after["people_moved"] == 1 and event_.after["archived"] == 1


def test_publishing_stops_when_people_would_lose_their_level(org, ctx):
    first = import_sample(publish=True, levels=3)
    place(org.pm_a1, "L3", first)
    place(org.pm_b1, "L1", first)
    smaller = import_sample(levels=2)
    with pytest.raises(versions.LevelMappingRequiredError) as error:
        versions.publish(SYSTEM, smaller, changelog="Fewer levels")
    assert [s.name for s in error.value.stranded] == ["Alice Pm"]
    assert "Alice Pm (L3)" in error.value.message
    assert smaller.status is VersionStatus.DRAFT and first.status is VersionStatus.PUBLISHED
    target = db.session.execute(
        select(Level.id).where(Level.version_id == smaller.id, Level.code == "L2")
    ).scalar_one()
    versions.publish(SYSTEM, smaller, changelog="Fewer levels", mapping={org.pm_a1.id: target})
    assert db.session.get(User, org.pm_a1.id).level_id == target


def test_only_drafts_can_be_published(ctx):
    version = import_sample(publish=True)
    with pytest.raises(ValidationError, match="only a draft can be published"):
        versions.publish(SYSTEM, version, changelog="again")


def test_the_database_allows_one_published_version_per_framework(ctx):
    first = import_sample(publish=True)
    second = versions.new_draft(SYSTEM, first)
    second.status = VersionStatus.PUBLISHED
    with pytest.raises(Exception, match=r"(?i)unique"):
        db.session.flush()
    db.session.rollback()
    assert first.id


def test_new_draft_copies_the_published_version(ctx):
    published = import_sample(publish=True, tracks=2)
    draft = versions.new_draft(SYSTEM, published)
    assert draft.number == 2 and draft.based_on_id == published.id
    assert files.export(draft.id, "yaml") == files.export(published.id, "yaml")
    with pytest.raises(ValidationError, match="already a draft"):
        versions.new_draft(SYSTEM, published)


def test_archiving(org, ctx):
    published = import_sample(publish=True)
    place(org.pm_a1, "L1", published)
    with pytest.raises(ValidationError, match="People are placed"):
        versions.archive(SYSTEM, published)
    draft = versions.new_draft(SYSTEM, published)
    versions.archive(SYSTEM, draft)
    assert draft.status is VersionStatus.ARCHIVED
    with pytest.raises(ValidationError, match="already archived"):
        versions.archive(SYSTEM, draft)


def test_find_version_prefers_the_published_one(ctx):
    versions.new_draft(SYSTEM, import_sample(publish=True))
    assert store.find_version("sample").number == 1
    assert store.find_version("sample", 2).number == 2
    with pytest.raises(Exception, match="has no version 7"):
        store.find_version("sample", 7)


def count_queries(function) -> int:
    statements = []
    engine = db.engine

    def record(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", record)
    try:
        function()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_loading_a_version_takes_the_same_queries_whatever_its_size(ctx):
    small = import_sample(levels=2, areas=1, per_area=1)
    large = import_sample(slug="large", levels=8, areas=5, per_area=4, tracks=2)
    db.session.expire_all()

    def export(version_id):
        return lambda: files.export(version_id, "yaml")

    assert count_queries(export(small.id)) == count_queries(export(large.id))


def shape(version: FrameworkVersion):
    """Every row load_version is to load, by id, in the order the pages read them (a
    competency's expectations have no order: sorted)."""
    return (
        version.framework.slug,
        [
            (track.id, [(lv.id, [r.id for r in lv.decision_rights]) for lv in track.levels])
            for track in version.tracks
        ],
        [
            (
                area.id,
                [
                    (
                        competency.id,
                        [track.id for track in competency.tracks],
                        sorted(
                            (e.id, [i.id for i in e.indicators]) for e in competency.expectations
                        ),
                    )
                    for competency in area.competencies
                ],
            )
            for area in version.areas
        ],
    )


def test_load_version_reads_what_the_orms_own_loaders_read(ctx):
    version = import_sample(tracks=2, levels=3, areas=2, per_area=3, measures=True)
    import_sample(slug="other")  # rows of another version stay out
    db.session.expunge_all()
    loaded = shape(store.load_version(version.id))
    db.session.expunge_all()
    by_the_orm = (
        db.session.execute(
            select(FrameworkVersion)
            .where(FrameworkVersion.id == version.id)
            .options(
                joinedload(FrameworkVersion.framework),
                selectinload(FrameworkVersion.tracks)
                .selectinload(Track.levels)
                .selectinload(Level.decision_rights),
                selectinload(FrameworkVersion.areas)
                .selectinload(CompetencyArea.competencies)
                .options(
                    selectinload(Competency.tracks),
                    selectinload(Competency.expectations).selectinload(Expectation.indicators),
                ),
            )
        )
        .unique()
        .scalar_one()
    )
    assert loaded == shape(by_the_orm)
    assert len(loaded[1]) == 2 and all(len(c[1]) == 2 for area in loaded[2] for c in area[1])


def test_load_version_leaves_collections_already_loaded_as_they_are(ctx):
    """An editor holding a version's lists keeps holding the session's own lists."""
    version = store.load_version(import_sample().id)
    tracks, competencies = version.tracks, version.areas[0].competencies
    assert store.load_version(version.id) is version
    assert version.tracks is tracks and version.areas[0].competencies is competencies
