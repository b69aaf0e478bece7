"""Page help folded away after first use (app/services/help.py, read by the base layout): open the
first time a person is shown it and recorded, folded after, per person; only known keys stored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import delete, event, func, select

from app.core.errors import ValidationError
from app.extensions import db
from app.models import HelpSeen, User
from app.services import help as help_service
from app.services import layout as layout_service
from app.services import people as people_service
from app.services import personal_data


def person(p) -> User:
    return db.session.get(User, p.id)


def show(p, key: str) -> bool:
    """One page view as the layout and app/layout.py do it: is the help open? Recorded if so."""
    layout = layout_service.layout(person(p))
    is_open = layout.opens_help(key)
    help_service.record_seen(p.id, layout.help_shown)
    db.session.commit()
    return is_open


def stored(p) -> list[str]:
    return list(
        db.session.scalars(
            select(HelpSeen.key).where(HelpSeen.user_id == p.id).order_by(HelpSeen.key)
        )
    )


def test_help_is_open_and_recorded_the_first_time_then_folded(ctx, org):
    assert stored(org.pm_a1) == []
    assert show(org.pm_a1, "growth") is True
    assert stored(org.pm_a1) == ["growth"]
    assert show(org.pm_a1, "growth") is False
    assert show(org.pm_a1, "growth") is False
    # Another page's help is still new to them.
    assert show(org.pm_a1, "evidence") is True
    assert help_service.seen(person(org.pm_a1)) == {"growth", "evidence"}


def test_what_one_person_has_seen_folds_nothing_for_another(ctx, org):
    assert show(org.manager_a, "team") is True
    assert show(org.manager_b, "team") is True
    assert show(org.manager_a, "team") is False
    assert stored(org.pm_a1) == []


def test_a_folded_help_notes_nothing_to_record(ctx, org):
    show(org.pm_a1, "growth")
    layout = layout_service.layout(person(org.pm_a1))
    assert layout.opens_help("growth") is False
    assert layout.help_shown == set()
    assert layout.opens_help("team") is True and layout.help_shown == {"team"}


def test_the_signed_out_layout_shows_help_open_and_never_notes_it(ctx):
    signed_out = layout_service.SIGNED_OUT
    assert signed_out.opens_help("frameworks") is True
    assert signed_out.help_shown == set()  # shared by every anonymous request: never written to


def test_recording_again_keeps_the_first_time(ctx, org):
    show(org.pm_a1, "growth")
    first = db.session.scalars(select(HelpSeen.seen_at)).one()
    help_service.record_seen(org.pm_a1.id, ["growth", "growth"])
    db.session.commit()
    assert db.session.scalars(select(HelpSeen.seen_at)).all() == [first]


@pytest.mark.parametrize(
    "key", ["", "Growth", "growth ", "nope", "x" * 61, "x" * 10_000, "team\x00", None, 7]
)
def test_unknown_keys_are_refused_with_a_short_message_and_nothing_stored(ctx, org, key):
    with pytest.raises(ValidationError) as refused:
        help_service.record_seen(org.pm_a1.id, ["growth", key])
    assert len(refused.value.message) < 100
    with pytest.raises(ValidationError):
        layout_service.layout(person(org.pm_a1)).opens_help(key)
    db.session.rollback()
    assert stored(org.pm_a1) == []


def test_every_key_fits_the_column_and_the_separator():
    width = HelpSeen.__table__.c.key.type.length
    for key in help_service.KEYS:
        assert 0 < len(key) <= width and help_service.SEPARATOR not in key


def test_the_layout_reads_seen_help_in_its_one_query(app, ctx, org):
    for key in sorted(help_service.KEYS):
        help_service.record_seen(org.pm_a1.id, [key])
    db.session.commit()
    viewer = person(org.pm_a1)
    statements = []

    def note(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        layout = layout_service.layout(viewer)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(statements) <= 2  # the layout's SELECT (and SQLite's BEGIN)
    assert layout.help_seen == help_service.KEYS
    assert not any(layout.opens_help(key) for key in help_service.KEYS)


def test_the_personal_data_export_lists_seen_help(ctx, org):
    show(org.pm_a1, "team")
    show(org.pm_a1, "evidence")
    show(org.pm_b1, "growth")
    document = personal_data.export_document(person(org.pm_a1))
    assert [entry["key"] for entry in document["help_seen"]] == ["evidence", "team"]
    assert all(entry["seen_at"].endswith("Z") for entry in document["help_seen"])
    assert personal_data.export_document(person(org.pm_a2))["help_seen"] == []


def test_deactivating_or_deleting_a_person_is_not_held_up_by_their_seen_help(ctx, org):
    show(org.pm_a1, "growth")
    show(org.pm_b1, "growth")
    people_service.deactivate_person(person(org.head), person(org.pm_a1))
    db.session.commit()
    assert stored(org.pm_a1) == ["growth"]  # kept while the account exists
    # The rows go with the person (ON DELETE CASCADE), and only theirs.
    db.session.execute(delete(User).where(User.id == org.pm_a1.id))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(HelpSeen)) == 1
    assert stored(org.pm_b1) == ["growth"]


def test_every_help_in_the_templates_has_a_known_key_and_every_key_is_used():
    root = Path(__file__).resolve().parents[2] / "templates"
    used = {
        match
        for path in root.rglob("*.html")
        for match in re.findall(r"\{%\s*call help\('([^']*)'", path.read_text())
    }
    assert used == help_service.KEYS
