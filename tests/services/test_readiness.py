"""Readiness: statuses from crafted evidence, target levels, heatmap, thresholds, team status."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from sqlalchemy import event, select

from app.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    AuditEvent,
    Corroboration,
    CorroborationStatus,
    Level,
    Setting,
    User,
    Visibility,
)
from app.policy import SYSTEM
from app.services import evidence as evidence_service
from app.services.frameworks import files
from app.services.growth import expectations, heatmap, readiness
from app.services.growth import thresholds as readiness_thresholds
from app.services.growth.heatmap import Quarter
from app.services.growth.readiness import Status
from app.services.growth.thresholds import Thresholds
from app.services.people import level_history
from tests.clock import TODAY
from tests.evidence_helpers import publish_and_place, record
from tests.framework_samples import framework_data

pytestmark = pytest.mark.midday  # the app's today and TODAY must be the same day
PRIVATE, SHARED = Visibility.PRIVATE, Visibility.SHARED


@pytest.fixture
def placed(app, org):
    """The sample framework (L1 → L2 → L3; skill-0-0, skill-0-1, skill-1-0, skill-1-1)."""
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1], "L1")
    return org


def log(app, owner, key, *, days_ago=10, visibility=SHARED, confirmed=0, pending=0) -> int:
    """One item tagged `key`, `days_ago` days old, with corroborations by fresh peers."""
    item_id = record(
        app,
        owner,
        competency_keys=[key],
        occurred_on=TODAY - timedelta(days=days_ago),
        visibility=visibility,
    )
    with app.app_context():
        peers = db.session.execute(select(User.id).where(User.id != owner.id)).scalars().all()
        statuses = [CorroborationStatus.CONFIRMED] * confirmed + [
            CorroborationStatus.PENDING,
            CorroborationStatus.DECLINED,
        ][:pending]
        for peer_id, status in zip(peers, statuses, strict=False):
            db.session.add(Corroboration(evidence_id=item_id, peer_id=peer_id, status=status))
        db.session.commit()
    return item_id


def by_key(result: readiness.Readiness) -> dict[str, readiness.CompetencyReadiness]:
    return {c.key: c for c in result.competencies}


def set_rules(app, **values) -> None:
    with app.app_context():
        readiness_thresholds.save_thresholds(
            SYSTEM,
            Thresholds(**values),
            expected_token=readiness_thresholds.stored_thresholds().token,
        )
        db.session.commit()


# --- statuses --------------------------------------------------------------------------------


def test_none_thin_and_enough_from_the_defaults(app, placed):
    pm = placed.pm_a1
    for _ in range(3):  # three recent items, one corroborated twice → enough
        log(app, pm, "skill-0-0", confirmed=2 if _ == 0 else 0)
    for _ in range(3):  # three items, but only pending / declined corroborations → thin
        log(app, pm, "skill-0-1", pending=2)
    log(app, pm, "skill-1-0", confirmed=1)  # one item → thin
    with app.app_context():
        result = by_key(readiness.readiness(pm.id))
    assert {key: c.status for key, c in result.items()} == {
        "skill-0-0": Status.ENOUGH,
        "skill-0-1": Status.THIN,
        "skill-1-0": Status.THIN,
        "skill-1-1": Status.NONE,
    }
    enough = result["skill-0-0"]
    assert (enough.count, enough.corroborated, enough.latest) == (
        3,
        1,
        TODAY - timedelta(days=10),
    )
    assert enough.missing == []
    assert result["skill-0-1"].corroborated == 0
    assert result["skill-0-1"].missing == ["1 more item corroborated by a peer"]
    assert result["skill-1-0"].missing == ["2 more items"]
    assert result["skill-1-1"].missing == [
        "3 more items",
        "1 more item corroborated by a peer",
    ]


def test_old_items_are_thin_and_items_outside_the_window_do_not_count(app, placed):
    pm = placed.pm_a1
    for _ in range(3):  # inside the 24 months, but the newest is over a year old
        log(app, pm, "skill-0-0", days_ago=400, confirmed=1)
    for _ in range(4):  # older than 24 months: not counted at all
        log(app, pm, "skill-0-1", days_ago=800, confirmed=1)
    with app.app_context():
        result = by_key(readiness.readiness(pm.id))
    stale = result["skill-0-0"]
    assert stale.status is Status.THIN
    assert stale.missing == ["an item from the last 365 days"]
    ancient = result["skill-0-1"]
    assert (ancient.status, ancient.count, ancient.tally.older) == (Status.NONE, 0, 4)
    # One fresh item makes the stale competency enough.
    log(app, pm, "skill-0-0", days_ago=1)
    with app.app_context():
        assert by_key(readiness.readiness(pm.id))["skill-0-0"].status is Status.ENOUGH


def test_trashed_items_do_not_count_and_drafts_count_only_for_the_owner(app, placed):
    pm = placed.pm_a1
    trashed = [log(app, pm, "skill-0-0", confirmed=1) for _ in range(3)]
    for _ in range(3):
        log(app, pm, "skill-1-0", visibility=PRIVATE, confirmed=1)
    with app.app_context():
        assert by_key(readiness.readiness(pm.id))["skill-0-0"].status is Status.ENOUGH
        owner = db.session.get(User, pm.id)
        evidence_service.trash_evidence(owner, evidence_service.get_evidence(trashed[0]))
        db.session.commit()
        own = by_key(readiness.readiness(pm.id))
        shared = by_key(readiness.readiness(pm.id, shared_only=True))
    assert (own["skill-0-0"].count, own["skill-0-0"].status) == (2, Status.THIN)
    assert (own["skill-1-0"].count, own["skill-1-0"].status) == (3, Status.ENOUGH)
    assert (shared["skill-1-0"].count, shared["skill-1-0"].status) == (0, Status.NONE)
    assert shared["skill-0-0"].count == 2


def test_other_peoples_evidence_never_counts(app, placed):
    for _ in range(3):
        log(app, placed.pm_a2, "skill-0-0", confirmed=1)
    with app.app_context():
        assert by_key(readiness.readiness(placed.pm_a1.id))["skill-0-0"].count == 0
        assert by_key(readiness.readiness(placed.pm_a2.id))["skill-0-0"].count == 3


def test_thresholds_change_the_status(app, placed):
    log(app, placed.pm_a1, "skill-0-0")
    with app.app_context():
        assert by_key(readiness.readiness(placed.pm_a1.id))["skill-0-0"].status is Status.THIN
    set_rules(app, min_items=1, min_corroborated=0, recent_days=30, window_months=12)
    with app.app_context():
        result = readiness.readiness(placed.pm_a1.id)
        assert by_key(result)["skill-0-0"].status is Status.ENOUGH
        assert result.rules == Thresholds(1, 0, 30, 12)


def test_focus_lists_the_competencies_closest_to_enough_first(app, placed):
    """Defaults at L2: 3 items, 1 corroborated, the newest from the last 365 days."""
    pm = placed.pm_a1
    log(app, pm, "skill-0-0")  # thin: 2 more items, 1 more corroborated → 3 steps
    log(app, pm, "skill-1-0", confirmed=1)
    log(app, pm, "skill-1-0")  # thin: 1 more item → 1 step
    # skill-0-1 and skill-1-1: no evidence (3 items and 1 corroborated away).
    with app.app_context():
        result = readiness.readiness(pm.id)
        steps = {c.key: c.gap.steps for c in result.competencies}
        assert [c.key for c in result.focus] == ["skill-1-0", "skill-0-0", "skill-0-1"]
    assert steps == {"skill-0-0": 3, "skill-0-1": 4, "skill-1-0": 1, "skill-1-1": 4}
    # Three old, corroborated items: only a recent one is missing, one step like skill-1-0,
    # and the framework's order settles the tie.
    for _ in range(3):
        log(app, pm, "skill-0-1", days_ago=400, confirmed=1)
    with app.app_context():
        result = readiness.readiness(pm.id)
        assert by_key(result)["skill-0-1"].missing == ["an item from the last 365 days"]
        assert [c.key for c in result.focus] == ["skill-0-1", "skill-1-0", "skill-0-0"]


# --- which level, which competencies ---------------------------------------------------------


def level_id(code: str) -> int:
    return db.session.execute(select(Level.id).where(Level.code == code)).scalar_one()


def test_the_target_is_the_next_level_by_default_and_any_level_on_request(app, placed, ctx):
    default = readiness.readiness(placed.pm_a1.id)
    assert (default.current.code, default.target.code, default.is_next_level) == ("L1", "L2", True)
    assert [level.code for level in default.levels] == ["L1", "L2", "L3"]
    assert default.competencies[0].expectation == "Does skill 0.0 at L2."
    assert default.competencies[0].indicators == [("Examples", ["An example at L2."])]
    chosen = readiness.readiness(placed.pm_a1.id, level_id("L3"))
    assert (chosen.target.code, chosen.is_next_level) == ("L3", False)
    assert chosen.competencies[0].expectation == "Does skill 0.0 at L3."
    assert expectations.level_id_for(placed.pm_a1.id, "L3") == level_id("L3")
    with pytest.raises(NotFoundError):
        expectations.level_id_for(placed.pm_a1.id, "NOPE")


def test_a_levels_measure_is_listed_first_however_it_is_stored(app, org, ctx):
    data = framework_data(measures=True)
    for area in data["areas"]:
        for competency in area["competencies"]:
            for cell in competency["expectations"].values():
                cell["indicators"].reverse()  # the example first, the measure after it
    files.import_text(SYSTEM, yaml.safe_dump(data, sort_keys=False), "yaml", publish=True)
    db.session.get(User, org.pm_a1.id).level_id = level_id("L1")
    db.session.commit()
    expected = readiness.readiness(org.pm_a1.id).competencies[0]
    assert expected.indicators == [
        ("Measure", ["What shows Skill 0.0 at L2."]),
        ("Examples", ["An example at L2."]),
    ]


def test_the_top_level_compares_with_itself_and_the_unplaced_have_no_target(app, org):
    publish_and_place(app, [org.pm_a1], "L3")
    with app.app_context():
        top = readiness.readiness(org.pm_a1.id)
        assert (top.is_top, top.target.code, top.is_next_level) == (True, "L3", False)
        unplaced = readiness.readiness(org.pm_b1.id)
        assert not unplaced.is_placed and unplaced.competencies == []
        assert heatmap.heatmap(org.pm_b1.id).areas == []


def two_track_framework() -> str:
    """Two tracks; skill-0-1 is for track-1 only; skill-1-1 is not applicable at T0L2."""
    data = framework_data(slug="tracks", tracks=2)
    skills = {c["key"]: c for area in data["areas"] for c in area["competencies"]}
    skills["skill-0-1"]["tracks"] = ["track-1"]
    skills["skill-0-1"]["expectations"] = {
        code: cell for code, cell in skills["skill-0-1"]["expectations"].items() if "T1" in code
    }
    skills["skill-1-1"]["expectations"]["T0L2"] = {"status": "not_applicable"}
    skills["skill-1-0"]["expectations"]["T0L2"] = {"status": "empty"}
    return yaml.safe_dump(data, sort_keys=False)


def test_only_competencies_that_apply_at_the_target_level_are_listed(app, org):
    with app.app_context():
        files.import_text(SYSTEM, two_track_framework(), "yaml", publish=True)
        db.session.get(User, org.pm_a1.id).level_id = level_id("T0L1")
        db.session.commit()
    log(app, org.pm_a1, "skill-0-1")  # evidence for a competency of the other track
    with app.app_context():
        result = readiness.readiness(org.pm_a1.id)  # next: T0L2
        assert result.target.code == "T0L2"
        assert [c.key for c in result.competencies] == ["skill-0-0", "skill-1-0"]
        assert by_key(result)["skill-1-0"].expectation == ""  # empty cells still apply
        other_track = readiness.readiness(org.pm_a1.id, level_id("T1L2"))
        assert [c.key for c in other_track.competencies] == [
            "skill-0-0",
            "skill-0-1",
            "skill-1-0",
            "skill-1-1",
        ]
        assert by_key(other_track)["skill-0-1"].count == 1
        # The heatmap follows the person's own track.
        rows = [row.key for area in heatmap.heatmap(org.pm_a1.id).areas for row in area.rows]
        assert rows == ["skill-0-0", "skill-1-0", "skill-1-1"]


# --- the heatmap -----------------------------------------------------------------------------


def test_quarters_and_windows_cross_year_boundaries():
    assert [q.label for q in heatmap.quarters_ending(date(2026, 1, 15), 6)] == [
        "Q4 2024",
        "Q1 2025",
        "Q2 2025",
        "Q3 2025",
        "Q4 2025",
        "Q1 2026",
    ]
    assert heatmap.quarter_of(date(2025, 12, 31)) == Quarter(2025, 4)
    assert heatmap.quarter_of(date(2026, 1, 1)) == Quarter(2026, 1)
    assert Quarter(2025, 4).start == date(2025, 10, 1)
    assert readiness.window_start(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert readiness.window_start(date(2026, 3, 31), 24) == date(2024, 3, 31)
    assert readiness.window_start(date(2024, 2, 29), 12) == date(2023, 2, 28)
    assert readiness.window_start(date(2026, 1, 10), 1) == date(2025, 12, 10)


def test_heatmap_buckets_items_by_quarter_across_the_new_year(app, placed):
    pm = placed.pm_a1
    dated = [
        ("skill-0-0", date(2025, 6, 30), SHARED),  # before the window
        ("skill-0-0", date(2025, 9, 30), SHARED),  # Q3 2025
        ("skill-0-0", date(2025, 12, 31), SHARED),  # Q4 2025
        ("skill-0-0", date(2026, 1, 1), PRIVATE),  # Q1 2026
        ("skill-1-0", date(2025, 12, 1), SHARED),  # Q4 2025
        ("skill-1-0", date(2025, 11, 2), SHARED),  # Q4 2025
        ("skill-0-0", date(2026, 4, 1), SHARED),  # after "today": ignored
    ]
    for key, day, visibility in dated:
        record(app, pm, competency_keys=[key], occurred_on=day, visibility=visibility)
    trashed = record(app, pm, competency_keys=["skill-0-1"], occurred_on=date(2025, 10, 5))
    with app.app_context():
        evidence_service.trash_evidence(
            db.session.get(User, pm.id), evidence_service.get_evidence(trashed)
        )
        db.session.commit()
        heat = heatmap.heatmap(pm.id, quarters=3, today=date(2026, 2, 15))
        shared = heatmap.heatmap(pm.id, quarters=3, shared_only=True, today=date(2026, 2, 15))
    assert [q.label for q in heat.quarters] == ["Q3 2025", "Q4 2025", "Q1 2026"]
    counts = {row.key: row.counts for area in heat.areas for row in area.rows}
    assert counts == {
        "skill-0-0": [1, 1, 1],
        "skill-0-1": [0, 0, 0],  # the trashed item
        "skill-1-0": [0, 2, 0],
        "skill-1-1": [0, 0, 0],
    }
    assert [area.name for area in heat.areas] == ["Area 0", "Area 1"]
    assert heat.quarter_totals == [1, 3, 1]
    shared_counts = {row.key: row.counts for area in shared.areas for row in area.rows}
    assert shared_counts["skill-0-0"] == [1, 1, 0]  # the private draft left out
    assert shared.quarter_totals == [1, 3, 0]  # an empty quarter


# --- thresholds ------------------------------------------------------------------------------


def head(org) -> User:
    return db.session.get(User, org.head.id)


def test_defaults_until_the_head_saves_thresholds_and_every_change_is_audited(app, org, ctx):
    stored = readiness_thresholds.stored_thresholds()
    assert (stored.thresholds, stored.token, stored.is_default) == (
        Thresholds(3, 1, 365, 24),
        "",
        True,
    )
    readiness_thresholds.save_thresholds(head(org), Thresholds(4, 2, 180, 18), expected_token="")
    db.session.commit()
    stored = readiness_thresholds.stored_thresholds()
    assert stored.thresholds == Thresholds(4, 2, 180, 18) and not stored.is_default
    row = db.session.get(Setting, "readiness")
    assert row.value == {
        "min_items": 4,
        "min_corroborated": 2,
        "recent_days": 180,
        "window_months": 18,
        "levels": {},  # items needed at particular levels: none set
    }
    assert row.updated_by_id == org.head.id
    event_ = db.session.execute(select(AuditEvent)).scalar_one()
    assert (event_.action, event_.actor_id, event_.entity_type) == (
        "settings.readiness_changed",
        org.head.id,
        "settings",
    )
    assert event_.before == {"key": "readiness", **vars(Thresholds())}
    assert event_.after["min_items"] == 4 and event_.after["key"] == "readiness"


def test_a_stale_form_is_a_conflict_and_nothing_changes(app, org, ctx):
    readiness_thresholds.save_thresholds(head(org), Thresholds(4, 2, 180, 18), expected_token="")
    db.session.commit()
    with pytest.raises(ConflictError) as error:
        readiness_thresholds.save_thresholds(head(org), Thresholds(5, 1, 90, 12), expected_token="")
    assert error.value.current["min_items"] == 4
    db.session.rollback()
    assert readiness_thresholds.thresholds() == Thresholds(4, 2, 180, 18)


def test_only_the_head_of_product_sets_thresholds(app, org, ctx):
    manager = db.session.get(User, org.manager_a.id)
    with pytest.raises(ForbiddenError):
        readiness_thresholds.save_thresholds(manager, Thresholds(), expected_token="")


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"min_items": 0}, "min_items", "between 1 and 100"),
        ({"min_items": 101}, "min_items", "between 1 and 100"),
        ({"min_items": None}, "min_items", "Enter a whole number."),
        ({"min_items": 2.5}, "min_items", "Enter a whole number."),
        ({"min_items": True}, "min_items", "Enter a whole number."),
        ({"min_corroborated": -1}, "min_corroborated", "between 0 and 100"),
        ({"min_items": 2, "min_corroborated": 3}, "min_corroborated", "At most 2"),
        ({"recent_days": 0}, "recent_days", "between 1 and 3660"),
        ({"recent_days": 400, "window_months": 12}, "recent_days", "At most 372 days"),
        ({"window_months": 0}, "window_months", "between 1 and 120"),
        ({"window_months": 121}, "window_months", "between 1 and 120"),
    ],
)
def test_bad_thresholds_are_refused_with_the_field(app, org, ctx, values, field, message):
    with pytest.raises(ValidationError, match=message) as error:
        readiness_thresholds.save_thresholds(head(org), Thresholds(**values), expected_token="")
    assert error.value.field == field
    assert db.session.get(Setting, "readiness") is None
    assert db.session.execute(select(AuditEvent)).first() is None


@pytest.mark.parametrize(
    "value",
    [
        {"min_items": 2, "min_corroborated": 5},  # damaged outside Rungs: inconsistent
        "not a dict",
        {"min_items": "3"},  # a string: fall back field by field
    ],
)
def test_damaged_stored_thresholds_fall_back_to_defaults(app, org, ctx, value):
    db.session.add(Setting(key="readiness", value=value))
    db.session.flush()
    assert readiness_thresholds.thresholds() == readiness_thresholds.DEFAULTS


# --- a team at a glance ----------------------------------------------------------------------


def count_statements(app, action) -> int:
    statements = []
    with app.app_context():
        engine = db.engine

        def count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            action()
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_team_status_per_person_from_shared_evidence_only(app, placed, make):
    org = placed
    for key in ("skill-0-0", "skill-0-1", "skill-1-0", "skill-1-1"):  # pm_a1: everything enough
        for _ in range(3):
            log(app, org.pm_a1, key, confirmed=1)
    log(app, org.pm_a2, "skill-0-0")  # pm_a2: some evidence → thin
    for _ in range(3):  # pm_b1: only private drafts, which a manager never sees → none
        log(app, org.pm_b1, "skill-0-0", visibility=PRIVATE, confirmed=1)
    with app.app_context():
        statuses = readiness.team_status([org.pm_a1.id, org.pm_a2.id, org.pm_b1.id, org.pm_d1.id])
        assert readiness.team_status([]) == {}
    assert statuses == {
        org.pm_a1.id: Status.ENOUGH,
        org.pm_a2.id: Status.THIN,
        org.pm_b1.id: Status.NONE,
        org.pm_d1.id: Status.NOT_PLACED,
    }
    assert statuses[org.pm_d1.id] == "not placed"  # plain strings for the team page


def test_team_readiness_counts_competencies_with_enough_shared_evidence(app, placed):
    """The team page's figure: "2 of 4", from shared items only."""
    org = placed
    for key in ("skill-0-0", "skill-1-0"):
        for _ in range(3):
            log(app, org.pm_a1, key, confirmed=1)
    for _ in range(3):  # a draft counts nowhere, however well corroborated
        log(app, org.pm_a1, "skill-1-1", visibility=PRIVATE, confirmed=1)
    with app.app_context():
        ready = readiness.team_readiness([org.pm_a1.id, org.pm_a2.id, org.pm_d1.id])
    assert ready[org.pm_a1.id] == readiness.TeamReadiness(Status.THIN, 2, 4)
    assert ready[org.pm_a2.id] == readiness.TeamReadiness(Status.NONE, 0, 4)
    assert ready[org.pm_d1.id] == readiness.TeamReadiness(Status.NOT_PLACED, 0, 0)


def test_team_status_uses_a_fixed_number_of_queries(app, placed, make):
    org = placed
    few = [org.pm_a1, org.pm_a2]
    log(app, org.pm_a1, "skill-0-0")
    with app.app_context():
        few_count = count_statements(app, lambda: readiness.team_status([p.id for p in few]))
    many = [make.person(name=f"Many {n}", manager=org.manager_a) for n in range(12)]
    with app.app_context():
        level = db.session.get(User, org.pm_a1.id).level_id
        for person in many[:8]:
            db.session.get(User, person.id).level_id = level
        db.session.commit()
    for person in many[:8]:
        log(app, person, "skill-0-1")
    ids = [p.id for p in [*few, *many]]
    with app.app_context():
        many_count = count_statements(app, lambda: readiness.team_status(ids))
        statuses = readiness.team_status(ids)
    assert many_count == few_count
    assert statuses[many[0].id] is Status.THIN and statuses[many[-1].id] is Status.NOT_PLACED


def test_readiness_uses_a_fixed_number_of_queries(app, placed):
    pm = placed.pm_a1
    log(app, pm, "skill-0-0", confirmed=1)
    with app.app_context():
        few = count_statements(app, lambda: readiness.readiness(pm.id))
        few_heat = count_statements(app, lambda: heatmap.heatmap(pm.id))
    for n in range(30):
        log(app, pm, f"skill-{n % 2}-{n // 2 % 2}", days_ago=n * 20, confirmed=n % 2)
    with app.app_context():
        assert count_statements(app, lambda: readiness.readiness(pm.id)) == few
        assert count_statements(app, lambda: heatmap.heatmap(pm.id)) == few_heat


# --- since the current level, the top of a track, thresholds per level ------------------------


def promote(app, person, code: str, *, days_ago: int) -> None:
    """Move `person` to `code` through the level history, `days_ago` days ago."""
    with app.app_context():
        user = db.session.get(User, person.id)
        when = datetime.combine(TODAY - timedelta(days=days_ago), time(12), tzinfo=UTC)
        level_history.move(user, level_id(code), source="promotion", at=when)
        db.session.commit()


def test_evidence_before_the_current_level_does_not_count(app, placed):
    for days_ago in (40, 41, 42):
        log(app, placed.pm_a1, "skill-0-0", days_ago=days_ago, confirmed=1)
    promote(app, placed.pm_a1, "L2", days_ago=20)
    log(app, placed.pm_a1, "skill-0-1", days_ago=5)
    with app.app_context():
        result = readiness.readiness(placed.pm_a1.id)
        assert (result.current.code, result.target.code) == ("L2", "L3")
        assert result.level_since == TODAY - timedelta(days=20)
        assert result.counted_from == TODAY - timedelta(days=20)
        old = by_key(result)["skill-0-0"]
        assert (old.count, old.tally.older, old.status) == (0, 3, Status.NONE)
        assert by_key(result)["skill-0-1"].count == 1
        team = readiness.team_readiness([placed.pm_a1.id])[placed.pm_a1.id]
        assert team.enough == 0 and team.status is Status.THIN


def test_without_level_history_all_evidence_in_the_window_counts(app, placed):
    log(app, placed.pm_a1, "skill-0-0", days_ago=400)
    with app.app_context():
        result = readiness.readiness(placed.pm_a1.id)
        assert result.level_since is None
        assert by_key(result)["skill-0-0"].count == 1


def test_the_top_of_a_track_has_no_figure(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2], "L2")
    with app.app_context():
        assert not readiness.readiness(org.pm_a1.id).at_top
    promote(app, org.pm_a1, "L3", days_ago=1)
    with app.app_context():
        top = readiness.readiness(org.pm_a1.id)
        assert top.at_top and top.target.code == "L3"
        assert not readiness.readiness(org.pm_a1.id, level_id("L2")).at_top


def test_thresholds_per_level_change_the_status(app, placed):
    for _ in range(3):
        log(app, placed.pm_a1, "skill-0-0", confirmed=1)
    with app.app_context():
        assert by_key(readiness.readiness(placed.pm_a1.id))["skill-0-0"].status is Status.ENOUGH
    set_rules(app, min_items=3, levels={"L2": 4})
    with app.app_context():
        result = readiness.readiness(placed.pm_a1.id)
        assert result.rules.min_items == 4
        assert by_key(result)["skill-0-0"].status is Status.THIN
        assert by_key(result)["skill-0-0"].missing == ["1 more item"]
        # L3 keeps its default by rank: one more than the general number.
        at_l3 = readiness.readiness(placed.pm_a1.id, level_id("L3"))
        assert at_l3.rules.min_items == 4
        team = readiness.team_readiness([placed.pm_a1.id])[placed.pm_a1.id]
        assert team.enough == 0


def test_bad_thresholds_per_level_are_refused(app, org, ctx):
    with pytest.raises(ValidationError, match="at L2 must be between 1 and 100") as caught:
        readiness_thresholds.save_thresholds(
            head(org), Thresholds(levels={"L2": 0}), expected_token=""
        )
    assert caught.value.field == "level_L2"
    assert db.session.get(Setting, "readiness") is None


def test_higher_levels_need_more_items_by_default(app, placed):
    for _ in range(3):
        log(app, placed.pm_a1, "skill-0-0", confirmed=1)
    with app.app_context():
        at_l2 = readiness.readiness(placed.pm_a1.id)
        at_l3 = readiness.readiness(placed.pm_a1.id, level_id("L3"))
        assert (at_l2.rules.min_items, at_l3.rules.min_items) == (3, 4)
        assert by_key(at_l2)["skill-0-0"].status is Status.ENOUGH
        assert by_key(at_l3)["skill-0-0"].status is Status.THIN
        pairs = [(placed.pm_a1.id, level_id("L2")), (placed.pm_a1.id, level_id("L3"))]
        key = (placed.pm_a1.id, "skill-0-0")
        assert readiness.sufficiency(pairs[:1], since={})[key] is Status.ENOUGH
        assert readiness.sufficiency(pairs[1:], since={})[key] is Status.THIN
    set_rules(app, levels={"L3": 3})
    with app.app_context():
        at_l3 = readiness.readiness(placed.pm_a1.id, level_id("L3"))
        assert by_key(at_l3)["skill-0-0"].status is Status.ENOUGH
