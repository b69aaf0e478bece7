"""People service: reporting lines, guards, conflicts and the audit trail, without HTTP."""

import pytest
from sqlalchemy import select

from app.core.errors import ConflictError, ForbiddenError, ValidationError
from app.extensions import db
from app.models import AuditEvent, Role, User
from app.policy import SYSTEM
from app.services import people
from app.services.people import PersonInput


def load(person) -> User:
    return people.get_person(person.id)


def edit_input(user: User, **changes) -> PersonInput:
    values = {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "manager_id": user.manager_id,
        "mentor_ids": [m.id for m in user.mentors],
    }
    values.update(changes)
    return PersonInput(**values)


def test_create_person_records_audit_in_same_transaction(org, ctx):
    head = load(org.head)
    person = people.create_person(
        head,
        PersonInput(
            email=" New.Person@Example.COM ",
            name="  New   Person ",
            role=Role.PM,
            manager_id=org.manager_a.id,
            mentor_ids=[org.pm_a2.id],
        ),
    )
    assert person.email == "new.person@example.com"
    assert person.name == "New Person"
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.entity_id == person.id)
    ).scalar_one()
    assert event.action == "person.created"
    assert event.actor_id == head.id
    assert event.after["manager_id"] == org.manager_a.id
    assert event.after["mentor_ids"] == [org.pm_a2.id]
    db.session.rollback()
    # Rolled back together: neither the person nor the event remains.
    assert people.find_by_email("new.person@example.com") is None
    assert db.session.execute(select(AuditEvent)).first() is None


def test_only_head_of_product_may_create(org, ctx):
    with pytest.raises(ForbiddenError):
        people.create_person(
            load(org.manager_a), PersonInput(email="x@example.com", name="X", role=Role.PM)
        )


def test_duplicate_email_is_refused_with_owner_named(org, ctx):
    with pytest.raises(ValidationError) as error:
        people.create_person(
            load(org.head), PersonInput(email="ALICE@example.com", name="Other", role=Role.PM)
        )
    assert error.value.field == "email"
    assert "Alice Pm already uses alice@example.com" in error.value.message


def test_invalid_email_is_refused(org, ctx):
    with pytest.raises(ValidationError) as error:
        people.create_person(
            load(org.head), PersonInput(email="not-an-email", name="X", role=Role.PM)
        )
    assert error.value.field == "email"


def test_reporting_cycle_names_who_would_manage_themselves(org, ctx):
    # Ada manages Dora (director). Making Dora Ada's manager would close a loop.
    ada = load(org.manager_a)
    with pytest.raises(ValidationError) as error:
        people.update_person(
            load(org.head),
            ada,
            edit_input(ada, manager_id=org.director.id),
            expected_version=ada.version,
        )
    assert error.value.field == "manager_id"
    assert error.value.message == (
        "Ada Manager would become their own manager: Ada Manager → Dora Director → Ada Manager."
    )


def test_longer_cycle_lists_the_whole_loop(org, ctx):
    head = load(org.head)
    with pytest.raises(ValidationError) as error:
        people.update_person(
            head, head, edit_input(head, manager_id=org.director.id), expected_version=head.version
        )
    assert "Hana Head → Dora Director → Ada Manager → Hana Head" in error.value.message


def test_a_pm_cannot_be_a_manager(org, ctx):
    bea = load(org.pm_b1)
    with pytest.raises(ValidationError, match="Alice Pm is a product manager"):
        people.update_person(
            load(org.head),
            bea,
            edit_input(bea, manager_id=org.pm_a1.id),
            expected_version=bea.version,
        )


def test_stale_version_is_a_conflict_showing_current_values(org, ctx):
    head = load(org.head)
    alice = load(org.pm_a1)
    read_version = alice.version
    people.update_person(
        head, alice, edit_input(alice, name="Alice Renamed"), expected_version=read_version
    )
    db.session.commit()
    with pytest.raises(ConflictError) as error:
        people.update_person(
            head, alice, edit_input(alice, name="Alice Other"), expected_version=read_version
        )
    assert error.value.current["name"] == "Alice Renamed"


def test_every_save_bumps_the_version_even_when_only_mentors_change(org, ctx):
    alice = load(org.pm_a1)
    before = alice.version
    people.update_person(
        load(org.head), alice, edit_input(alice, mentor_ids=[org.pm_b1.id]), expected_version=before
    )
    db.session.commit()
    assert load(org.pm_a1).version == before + 1


def test_update_audits_only_what_changed(org, ctx):
    alice = load(org.pm_a1)
    people.update_person(
        load(org.head), alice, edit_input(alice, name="Alicia Pm"), expected_version=alice.version
    )
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "person.updated")
    ).scalar_one()
    assert event.before == {"name": "Alice Pm"}
    assert event.after == {"name": "Alicia Pm"}


def test_manager_with_reports_cannot_be_deactivated_or_demoted(org, ctx):
    head = load(org.head)
    director = load(org.director)
    with pytest.raises(ValidationError, match=r"1 people report to them \(Dev Pm\)"):
        people.deactivate_person(head, director)
    with pytest.raises(ValidationError, match="cannot become a product manager"):
        people.update_person(
            head, director, edit_input(director, role=Role.PM), expected_version=director.version
        )


def test_the_last_head_of_product_stays(org, ctx):
    head = load(org.head)
    head_alone = edit_input(head, role=Role.MANAGER)
    with pytest.raises(ValidationError, match="only active head of product"):
        people.update_person(head, head, head_alone, expected_version=head.version)


def test_deactivation_ends_sessions_and_keeps_history(org, ctx):
    alice = load(org.pm_a1)
    token = alice.session_token
    people.deactivate_person(load(org.head), alice)
    db.session.commit()
    alice = load(org.pm_a1)
    assert not alice.is_active
    assert alice.session_token != token
    with pytest.raises(ValidationError, match="already deactivated"):
        people.deactivate_person(load(org.head), alice)
    people.reactivate_person(load(org.head), alice)
    assert alice.is_active
    actions = (
        db.session.execute(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == alice.id)
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["person.deactivated", "person.reactivated"]


def test_reactivated_person_loses_a_departed_manager(org, make, ctx):
    solo_manager = make.person(name="Solo Manager", role=Role.MANAGER, manager=org.head)
    report = make.person(name="Solo Report", manager=solo_manager)
    head = load(org.head)
    people.deactivate_person(head, load(report))
    people.deactivate_person(head, load(solo_manager))
    people.reactivate_person(head, load(report))
    assert load(report).manager_id is None


def test_mentors_must_be_active_and_not_oneself(org, make, ctx):
    gone = make.person(name="Gone Mentor", active=False)
    alice = load(org.pm_a1)
    with pytest.raises(ValidationError, match="cannot mentor themselves"):
        people.update_person(
            load(org.head),
            alice,
            edit_input(alice, mentor_ids=[alice.id]),
            expected_version=alice.version,
        )
    with pytest.raises(ValidationError, match="active people as mentors"):
        people.update_person(
            load(org.head),
            alice,
            edit_input(alice, mentor_ids=[gone.id]),
            expected_version=alice.version,
        )


def test_the_command_line_operator_may_manage_people(org, ctx):
    person = people.create_person(
        SYSTEM, PersonInput(email="cli@example.com", name="Cli", role=Role.PM)
    )
    event = db.session.execute(select(AuditEvent)).scalar_one()
    assert person.id == event.entity_id
    assert event.actor_id is None


def test_audit_log_is_append_only(org, ctx):
    people.create_person(load(org.head), PersonInput(email="a@example.com", name="A", role=Role.PM))
    db.session.commit()
    event = db.session.execute(select(AuditEvent)).scalar_one()
    event.action = "rewritten"
    with pytest.raises(Exception, match="cannot be changed or deleted"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.execute(select(AuditEvent)).scalar_one())
    with pytest.raises(Exception, match="cannot be changed or deleted"):
        db.session.flush()


def test_organisation_summary_counts(org, make, ctx):
    make.person(name="Former", active=False)
    make.person(name="No Password", password=None)
    summary = people.organisation_summary()
    assert summary.by_role[Role.HEAD] == 1
    assert summary.by_role[Role.MANAGER] == 3
    assert summary.by_role[Role.PM] == 5
    assert summary.deactivated == 1
    assert summary.without_manager == 1  # No Password; the head is not counted
    assert summary.without_password == 1


def test_people_are_placed_only_on_published_levels(org, ctx):
    from app.models import Level
    from app.services.frameworks import files
    from tests.framework_samples import framework_yaml

    draft = files.import_text(SYSTEM, framework_yaml(), "yaml")[0]
    draft_level = db.session.execute(select(Level.id).where(Level.version_id == draft.id)).scalar()
    alice = load(org.pm_a1)
    with pytest.raises(ValidationError, match="published career framework") as error:
        people.update_person(
            load(org.head),
            alice,
            edit_input(alice, level_id=draft_level),
            expected_version=alice.version,
        )
    assert error.value.field == "level_id"
