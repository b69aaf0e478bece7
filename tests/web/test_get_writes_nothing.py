"""A GET changes no data: every GET route, twice, as each role, leaves every table as it was (row
count and a hash of every row). Argument-free routes for every role; routes with arguments,
filled from the demo data, for the signed-in roles (downloads aside: they are audited).

A GET that writes is wrong twice over: a link, a prefetch or a crawler changes data, and on
SQLite a GET runs in a deferred read transaction that fails when it later writes after another
writer committed (docs in /work/shared/FACTS.md). The routes come from the URL map, so a new page
is covered the day it is added. The demo organisation gives every page something to show, plus
what a lazy writer would act on: an item long past the Trash's 30 days and unread notifications.

One table is written on purpose: `help_seen`. A page's help is open the first time a person is
shown it and folded after (app/services/help.py); once the page is rendered, app/layout.py
records it in a transaction of its own. Here that table may only gain rows of the person signed
in; tests/web/test_help.py holds the rest of that behaviour.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from app import demo
from app.extensions import db
from app.models import Base, Evidence, HelpSeen, NotificationKind, User
from app.models.base import utcnow
from app.services import notifications
from tests.demo_copy import load_demo
from tests.factories import Person, sign_in

# Someone of each kind in the demo organisation (app/demo/__init__.py), or nobody.
ROLES = {
    "anonymous": None,
    "pm": "Kwame Mensah",
    "manager": "Daniel Brandt",  # Kwame's manager
    "mentor": "Lena Fischer",  # mentors Kwame, Ravi and Samuel
    "head": "Maya Okafor",
}


def argument_free_get_routes(app) -> list[str]:
    """Every GET route without a variable part, from the URL map (static files need one)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    )


# A value for each route argument, read from the demo data; a route with a new argument fails
# the test until it gets one here, so it is covered too.
ARGUMENTS = {
    "evidence_id": "SELECT MIN(e.id) FROM evidence e JOIN users u ON u.id = e.owner_id "
    "WHERE u.name = 'Kwame Mensah' AND e.visibility = 'shared'",
    "person_id": "SELECT id FROM users WHERE name = 'Kwame Mensah'",
    "slug": "SELECT MIN(slug) FROM frameworks",
    "number": "SELECT MIN(number) FROM framework_versions",
    "code": "SELECT MIN(code) FROM levels",
    "key": "SELECT MIN(key) FROM competencies",
    "fmt": "SELECT 'yaml'",
    "kind": "SELECT 'levels'",
    "item_id": "SELECT MIN(id) FROM levels",
    "track_id": "SELECT MIN(id) FROM tracks",
    "level_id": "SELECT MIN(id) FROM levels",
    "area_id": "SELECT MIN(id) FROM competency_areas",
    "competency_id": "SELECT MIN(id) FROM competencies",
    "decision_id": "SELECT MIN(id) FROM decision_rights",
    "expectation_id": "SELECT MIN(id) FROM expectations",
    "corroboration_id": "SELECT MIN(id) FROM corroborations",
    "attachment_id": "SELECT COALESCE(MIN(id), 1) FROM attachments",
    "cycle_id": "SELECT MAX(id) FROM promotion_cycles",
    "case_id": "SELECT MAX(id) FROM promotion_cases",
    "session_id": "SELECT MAX(id) FROM calibration_sessions",
    "job_id": "SELECT COALESCE(MAX(id), 1) FROM jobs",
    "token": "SELECT 'not-a-token'",
    "name": "SELECT 'rungs-yaml'",  # a format document (/frameworks/formats/<name>.md)
    "pair_id": "SELECT COALESCE(MIN(id), 1) FROM one_on_ones",
    "meeting_id": "SELECT COALESCE(MIN(id), 1) FROM meetings",
    "goal_id": "SELECT COALESCE(MIN(id), 1) FROM goals",
    "request_id": "SELECT COALESCE(MIN(id), 1) FROM feedback_requests",
    "ask_id": "SELECT COALESCE(MIN(id), 1) FROM feedback_asks",
    "phase": "SELECT 'self_assessment'",
    "framework_id": "SELECT MIN(id) FROM frameworks",
    "version_id": "SELECT MIN(id) FROM framework_versions",
    "token_id": "SELECT COALESCE(MIN(id), 1) FROM api_tokens",
}
# The page help a person has now seen: recorded by page views on purpose (see above).
WRITTEN_ON_PURPOSE = {HelpSeen.__tablename__}
# Downloads record who took which file (an audit entry, on purpose), and the framework PDF is
# rendered to a file on first request: not pages, and not argument-free.
NOT_PAGES = {"static"}


def routes_with_arguments(app) -> list[str]:
    """Every GET route with variable parts, filled in from ARGUMENTS (downloads left out)."""
    with app.app_context():
        values = {name: db.session.execute(text(sql)).scalar() for name, sql in ARGUMENTS.items()}
        db.session.rollback()
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.arguments or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint.endswith(".download"):
            continue
        missing = rule.arguments - values.keys()
        assert not missing, f"{rule.rule}: add a value for {missing} to ARGUMENTS"
        with app.test_request_context():
            paths.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return sorted(paths)


def snapshot() -> dict[str, tuple[int, str]]:
    """table → (rows, a hash of every row in primary-key order)."""
    tables = {}
    for table in Base.metadata.sorted_tables:
        if table.name in WRITTEN_ON_PURPOSE:
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(select(table).order_by(*order)).all()
        digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
        tables[table.name] = (len(rows), digest[:16])
    db.session.rollback()  # end the read transaction: the requests must not wait on it
    return tables


def changed(before: dict, after: dict) -> list[str]:
    return [
        f"{name}: {before[name][0]} → {after[name][0]} rows"
        if before[name][0] != after[name][0]
        else f"{name}: rows changed"
        for name in before
        if before[name] != after[name]
    ]


@pytest.fixture
def demo_org(app):
    """The demo organisation, with an expired Trash item and unread notifications for all."""
    load_demo(app)
    with app.app_context():
        people = {u.name: u for u in db.session.scalars(select(User))}
        expired = db.session.scalars(
            select(Evidence).where(Evidence.owner_id == people["Ravi Patel"].id).limit(1)
        ).one()
        expired.deleted_at = utcnow() - timedelta(days=45)
        for name in ROLES.values():
            if name:
                notifications.notify(
                    [people[name].id], NotificationKind.KUDOS, actor_id=people["Mei Lin"].id
                )
        db.session.commit()
        return {
            name: Person(u.id, u.email, u.name, u.role, demo.DEMO_PASSWORD)
            for name, u in people.items()
        }


def help_seen_by(app) -> set[int]:
    """Whose seen page help is stored."""
    with app.app_context():
        found = set(db.session.scalars(select(HelpSeen.user_id).distinct()))
        db.session.rollback()
    return found


# Statements that cannot change a table's rows; any other, but a write to a table written on
# purpose, may have. (SELECT … FOR UPDATE locks rows, and setval moves a sequence: neither is a
# row.)
READS = re.compile(r"\s*(SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|SET|SHOW)\b", re.I)
WRITE_TO = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)


class WriteWatch:
    """Whether any engine of this process sent a statement that may have changed a table's rows
    since the last look: a snapshot costs a read of every table, so it is taken only then."""

    def __init__(self):
        self.wrote = False

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_exc):
        event.remove(Engine, "before_cursor_execute", self._statement)

    def _statement(self, _conn, _cursor, statement, *_args):
        if READS.match(statement):
            return
        target = WRITE_TO.match(statement)
        if target is None or target.group(1) not in WRITTEN_ON_PURPOSE:
            self.wrote = True

    def look(self) -> bool:
        wrote, self.wrote = self.wrote, False
        return wrote


def writers(app, client, paths: list[str]) -> dict[str, list[str]]:
    """path → the tables that changed while it was requested twice. The tables are read again
    after a path whose requests sent a statement that may write, and once more at the end, which
    would catch a write the watch missed."""
    with app.app_context():
        first = before = snapshot()
    found = {}
    with WriteWatch() as watch:
        for path in paths:
            statuses = [client.get(path).status_code for _ in range(2)]
            assert all(status < 500 for status in statuses), (path, statuses)
            if not watch.look():
                continue
            with app.app_context():
                after = snapshot()
            watch.look()  # the snapshot's own statements
            if after != before:
                found[path] = changed(before, after)
                before = after
    with app.app_context():
        last = snapshot()
    if last != before:
        found["(a write no statement showed)"] = changed(first, last)
    return found


@pytest.mark.parametrize("role", list(ROLES))
def test_no_get_route_changes_any_table(app, client, demo_org, role):
    routes = argument_free_get_routes(app)
    assert "/evidence/trash" in routes and "/notifications" in routes  # the map was read
    if ROLES[role]:
        sign_in(client, demo_org[ROLES[role]])
    found = writers(app, client, routes)
    assert found == {}, f"GET routes that wrote, as {role}: {found}"
    assert help_seen_by(app) == ({demo_org[ROLES[role]].id} if ROLES[role] else set())


@pytest.mark.parametrize("role", [role for role, name in ROLES.items() if name])
def test_no_get_route_with_arguments_changes_any_table(app, client, demo_org, role):
    routes = routes_with_arguments(app)
    assert any(path.startswith("/evidence/") for path in routes)  # the map was read
    sign_in(client, demo_org[ROLES[role]])
    found = writers(app, client, routes)
    assert found == {}, f"GET routes that wrote, as {role}: {found}"
    assert help_seen_by(app) <= {demo_org[ROLES[role]].id}
