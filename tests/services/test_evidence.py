"""Evidence core: recording, editing with conflicts, trash, history, visibility and tags."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import policy
from app.core.errors import ConflictError, ValidationError
from app.extensions import db
from app.models import Evidence, EvidenceRevision, Notification, User, Visibility
from app.models.base import utcnow
from app.policy import SYSTEM
from app.services import evidence as service
from app.services.frameworks import files
from tests.evidence_helpers import evidence_input, publish_and_place, record
from tests.framework_samples import framework_yaml


@pytest.fixture
def placed(app, org):
    publish_and_place(app, [org.pm_a1, org.pm_a2, org.pm_b1, org.pm_d1, org.manager_a])
    return org


def person(p) -> User:
    return db.session.get(User, p.id)


def test_record_keeps_everything_and_notifies_manager_and_mentors(app, placed, ctx):
    bea = person(placed.pm_b1)  # mentored by pm_a2, managed by manager_b
    item = service.record_evidence(bea, evidence_input())
    assert [t.competency_key for t in item.competencies] == ["skill-0-0", "skill-1-0"]
    assert [(link.url, link.label) for link in item.links] == [
        ("https://example.com/launch", "Launch notes")
    ]
    assert item.shared_at is not None
    recipients = db.session.execute(select(Notification.recipient_id)).scalars().all()
    assert sorted(recipients) == sorted([placed.manager_b.id, placed.pm_a2.id])
    assert [r.action for r in service.revisions(item)] == ["created"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the item a title."),
        ({"competency_keys": []}, "competency_keys", "Choose at least one competency."),
        ({"competency_keys": ["nope"]}, "competency_keys", "Not a competency of your framework"),
        ({"links": [("javascript:alert(1)", "x")]}, "links", "is not an http or https link"),
        ({"links": [("ftp://files.example.com/x", "")]}, "links", "is not an http or https"),
        ({"metric_after": ""}, "metric", "An outcome needs the metric"),
        ({"occurred_on": date.today() + timedelta(days=5)}, "occurred_on", "in the future"),
    ],
)
def test_bad_input_is_refused_with_the_field(placed, ctx, change, field, message):
    with pytest.raises(ValidationError, match=message) as error:
        service.record_evidence(person(placed.pm_a1), evidence_input(**change))
    assert error.value.field == field


def test_someone_not_placed_on_a_level_is_told_why(org, ctx):
    with pytest.raises(ValidationError, match="not placed on a level"):
        service.record_evidence(person(org.pm_a1), evidence_input())


def test_edit_with_a_stale_revision_is_a_conflict(app, placed, ctx):
    item_id = record(app, placed.pm_a1, visibility=Visibility.PRIVATE)
    item = service.get_evidence(item_id)
    read = item.revision
    service.update_evidence(
        person(placed.pm_a1), item, evidence_input(title="First"), expected_revision=read
    )
    with pytest.raises(ConflictError) as error:
        service.update_evidence(
            person(placed.pm_a1), item, evidence_input(title="Second"), expected_revision=read
        )
    assert error.value.current["title"] == "First"
    actions = [r.action for r in service.revisions(item)]
    assert actions == ["shared", "created"]  # private → shared on the edit


def test_trash_restore_and_purge_after_thirty_days(app, placed, ctx):
    item = service.get_evidence(record(app, placed.pm_a1))
    owner = person(placed.pm_a1)
    service.trash_evidence(owner, item)
    assert item.in_trash
    with pytest.raises(ValidationError, match="restore it to edit"):
        service.update_evidence(owner, item, evidence_input(), expected_revision=item.revision)
    service.restore_evidence(owner, item)
    service.trash_evidence(owner, item)
    assert service.purge_trash() == 0
    assert service.purge_trash(now=utcnow() + timedelta(days=31)) == 1
    assert db.session.execute(select(func.count()).select_from(Evidence)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(EvidenceRevision)).scalar_one() == 0


# who looks, whose item, shared?, may see
MATRIX = [
    ("pm_a1", "pm_a1", False, True),  # owner, private
    ("pm_a2", "pm_a1", True, False),  # peer
    ("manager_a", "pm_a1", True, True),  # own manager, shared
    ("manager_a", "pm_a1", False, False),  # own manager, private draft
    ("head", "pm_a1", True, True),  # skip-level (the head is above everyone here)
    ("manager_a", "pm_d1", True, True),  # skip-level manager
    ("director", "pm_a1", True, False),  # another manager
    ("manager_b", "pm_a1", True, False),  # another manager
    ("pm_a2", "pm_b1", True, True),  # mentor, shared
    ("pm_a2", "pm_b1", False, False),  # mentor, private
    ("pm_b1", "pm_a2", True, False),  # mentee looking at mentor's items
]


@pytest.mark.parametrize(("viewer", "owner", "shared", "allowed"), MATRIX)
def test_who_sees_an_item(app, placed, viewer, owner, shared, allowed):
    visibility = Visibility.SHARED if shared else Visibility.PRIVATE
    item_id = record(app, getattr(placed, owner), visibility=visibility)
    with app.app_context():
        item = service.get_evidence(item_id)
        actor = person(getattr(placed, viewer))
        assert policy.can(actor, "evidence.view", item) is allowed
        readable = policy.evidence_readable_by(actor)
        listed = db.session.execute(select(Evidence.id).where(readable)).scalars().all()
        assert (item_id in listed) is allowed


def test_trash_is_for_the_owner_only(app, placed, ctx):
    item = service.get_evidence(record(app, placed.pm_a1))
    service.trash_evidence(person(placed.pm_a1), item)
    assert policy.can(person(placed.pm_a1), "evidence.view", item)
    assert not policy.can(person(placed.manager_a), "evidence.view", item)


def test_tags_follow_a_renamed_competency(app, placed, ctx):
    item = service.get_evidence(record(app, placed.pm_a1))
    framework_id = item.competencies[0].framework_id
    assert service.competency_names({framework_id})[(framework_id, "skill-0-0")] == "Skill 0.0"
    renamed = framework_yaml().replace("name: Skill 0.0", "name: Customer research")
    files.import_text(SYSTEM, renamed, "yaml", publish=True)
    names = service.competency_names({framework_id})
    assert names[(framework_id, "skill-0-0")] == "Customer research"
    assert [t.competency_key for t in service.get_evidence(item.id).competencies] == [
        "skill-0-0",
        "skill-1-0",
    ]
