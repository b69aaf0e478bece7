"""Delegation-board test data: a framework whose first level has three decision rights, people
placed on it, and a round played to any point through the services."""

from __future__ import annotations

import yaml
from sqlalchemy import select

from app.extensions import db
from app.models import DelegationRow, Level, User
from app.policy import SYSTEM
from app.services import delegation
from app.services.frameworks import files
from tests.framework_samples import framework_data

RIGHTS = [
    {"decision": "What to build next", "role": "driver", "delegation": 4},
    {"decision": "Which experiments to run", "role": "driver", "delegation": 5},
    {"decision": "Hiring for the team", "role": "contributor", "delegation": 2},
]


def publish_with_rights(app, people, code: str = "L1") -> None:
    """Publish a sample framework whose levels hold RIGHTS and place `people` on `code`."""
    data = framework_data()
    for track in data["tracks"]:
        for level in track["levels"]:
            level["decision_rights"] = [dict(right) for right in RIGHTS]
    with app.app_context():
        files.import_text(SYSTEM, yaml.safe_dump(data, sort_keys=False), "yaml", publish=True)
        level_id = db.session.execute(select(Level.id).where(Level.code == code)).scalar_one()
        for person in people:
            db.session.get(User, person.id).level_id = level_id
        db.session.commit()


def user(person) -> User:
    return db.session.get(User, person.id)


def row_ids(person) -> list[int]:
    board = delegation.find_board(person.id)
    return [row.id for row in delegation.active_rows(board.id)]


def play(app, manager, report, *, person_levels, manager_levels, agree=None, close=False):
    """Open (if needed) the report's board, start a round and pick; optionally agree every row
    at `agree` (a list of levels) and close. Returns the round's id."""
    with app.app_context():
        if delegation.find_board(report.id) is None:
            delegation.open_board(user(manager), report.id)
        started = delegation.start_round(user(manager), report.id)
        db.session.flush()
        rows = row_ids(report)
        delegation.save_picks(
            user(report), report.id, started.id, dict(zip(rows, person_levels, strict=True))
        )
        delegation.save_picks(
            user(manager), report.id, started.id, dict(zip(rows, manager_levels, strict=True))
        )
        if agree is not None:
            for row_id, level in zip(rows, agree, strict=False):
                delegation.agree(
                    user(manager),
                    report.id,
                    started.id,
                    row_id,
                    level,
                    "Agreed.",
                    expected_revision=0,
                )
        if close:
            delegation.close_round(user(manager), report.id, started.id)
        db.session.commit()
        return started.id


def rows_of(board_id: int) -> list[DelegationRow]:
    return list(db.session.scalars(select(DelegationRow).where(DelegationRow.board_id == board_id)))
