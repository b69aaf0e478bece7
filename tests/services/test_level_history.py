"""Level history: every change of level keeps the level left behind, with dates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import LevelPlacement, Role, User
from app.models.base import utcnow
from app.policy import SYSTEM
from app.services import people
from app.services.frameworks import files
from app.services.people import PersonInput, level_history
from tests import promotion_helpers as ph
from tests.framework_samples import framework_yaml


def placements(person_id: int) -> list[tuple[int, str, bool]]:
    rows = db.session.execute(
        select(LevelPlacement)
        .where(LevelPlacement.user_id == person_id)
        .order_by(LevelPlacement.id)
    ).scalars()
    return [(p.level_id, p.source, p.ended_at is None) for p in rows]


def test_a_move_closes_the_open_placement_and_opens_the_next(app, org, ctx):
    levels = ph.publish_sample(app)
    person = db.session.get(User, org.pm_a1.id)
    start = utcnow() - timedelta(days=400)
    level_history.move(person, levels["L1"], source="placed", at=start)
    level_history.move(person, levels["L2"], source="promotion")
    db.session.commit()
    assert person.level_id == levels["L2"]
    assert placements(person.id) == [
        (levels["L1"], "placed", False),
        (levels["L2"], "promotion", True),
    ]
    entries = level_history.history(person.id)
    assert [e.level_code for e in entries] == ["L2", "L1"]  # newest first
    assert entries[1].ended_at == entries[0].started_at
    assert entries[1].started_at.date() == start.date()
    assert entries[0].framework_name == "Sample" and entries[0].is_current


def test_an_unchanged_level_is_not_a_move(app, org, ctx):
    levels = ph.publish_sample(app)
    person = db.session.get(User, org.pm_a1.id)
    level_history.move(person, levels["L1"], source="placed")
    level_history.move(person, levels["L1"], source="placed")
    assert placements(person.id) == [(levels["L1"], "placed", True)]


def test_a_level_set_before_history_existed_is_kept_from_the_account_date(app, org, ctx):
    levels = ph.publish_sample(app)
    ph.place(app, [org.pm_a1], levels["L1"])
    person = db.session.get(User, org.pm_a1.id)
    level_history.move(person, levels["L2"], source="promotion")
    assert placements(person.id) == [
        (levels["L1"], "placed", False),
        (levels["L2"], "promotion", True),
    ]
    assert level_history.history(person.id)[1].started_at == person.created_at


def test_taking_someone_off_every_level_closes_their_placement(app, org, ctx):
    levels = ph.publish_sample(app)
    person = db.session.get(User, org.pm_a1.id)
    level_history.move(person, levels["L1"], source="placed")
    level_history.move(person, None, source="placed")
    assert person.level_id is None
    assert placements(person.id) == [(levels["L1"], "placed", False)]


def test_people_admin_records_levels_in_the_history(app, org, ctx):
    levels = ph.publish_sample(app)
    head = people.get_person(org.head.id)
    person = people.create_person(
        head,
        PersonInput(email="new@example.com", name="New Pm", role=Role.PM, level_id=levels["L1"]),
    )
    db.session.commit()
    people.update_person(
        head,
        people.get_person(person.id),
        PersonInput(email="new@example.com", name="New Pm", role=Role.PM, level_id=levels["L2"]),
        expected_version=person.version,
    )
    db.session.commit()
    assert placements(person.id) == [
        (levels["L1"], "placed", False),
        (levels["L2"], "placed", True),
    ]


def test_publishing_a_new_version_moves_people_along_with_history(app, org, ctx):
    levels = ph.publish_sample(app)
    person = db.session.get(User, org.pm_a1.id)
    level_history.move(person, levels["L1"], source="placed")
    db.session.commit()
    newer = framework_yaml().replace("at L1.", "at L1, well.")  # the same file adds no version
    files.import_text(SYSTEM, newer, "yaml", publish=True)
    db.session.commit()
    history = placements(person.id)
    assert [(source, is_open) for _, source, is_open in history] == [
        ("placed", False),
        ("framework", True),
    ]
    assert history[1][0] == db.session.get(User, person.id).level_id != levels["L1"]
