"""The "Link everyone" job holds no transaction while Slack answers or while it waits out a rate
limit: on SQLite an open transaction holds the write lock (BEGIN IMMEDIATE, app/database.py), so
every web request that saves would fail with "database is locked" after the 5 s busy timeout
while the job asked Slack about everyone (10 s timeouts, Retry-After waits of up to 60 s)."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import User
from app.services import jobs
from app.services.messages import slack, slack_links
from tests.slack_helpers import BOT_TOKEN, FakeSlack


@pytest.fixture
def fake(app, monkeypatch):
    with FakeSlack() as server:
        monkeypatch.setitem(app.config, "SLACK_API_URL", server.api_url)
        yield server


def _someone_else_saves(person_id: int) -> str | None:
    """A write from another connection, as a web request would make; on SQLite it gives up after
    0.2 s instead of 5 s. The error, or None when it went through."""
    with db.engine.connect() as other:
        if db.engine.dialect.name == "sqlite":  # before its BEGIN IMMEDIATE
            other.connection.driver_connection.execute("PRAGMA busy_timeout=200")
        try:
            other.exec_driver_sql(
                "UPDATE users SET name = name WHERE id = ?"
                if db.engine.dialect.name == "sqlite"
                else "UPDATE users SET name = name WHERE id = %(id)s",
                (person_id,) if db.engine.dialect.name == "sqlite" else {"id": person_id},
            )
            other.commit()
            return None
        except OperationalError as error:
            other.rollback()
            return str(error.orig)
        finally:
            if db.engine.dialect.name == "sqlite":
                other.connection.driver_connection.execute("PRAGMA busy_timeout=5000")


def test_link_everyone_asks_slack_and_waits_with_no_transaction_open(ctx, org, fake, monkeypatch):
    head = db.session.get(User, org.head.id)
    slack.save_settings(head, token=BOT_TOKEN)
    db.session.get(User, org.pm_a2.id).slack_user_id = "U0ARUN"  # linked already: not asked
    db.session.commit()
    fake.users |= {
        "alice@example.com": "U0ALICE",
        "bea@example.com": "U0BEA",
        "dora@example.com": "U0DORA",
    }
    fake.deleted.add("dora@example.com")
    # The first person asked (Ada, by name) meets a 429, then Slack's own trouble.
    fake.rate_limit("users.lookupByEmail", retry_after=3)
    fake.fail("users.lookupByEmail", "internal_error")

    during: list[tuple[str, bool]] = []  # (what, a transaction was open)
    blocked: list[str] = []  # writes of others that failed meanwhile
    real_lookup = slack_links.lookup

    def watched_lookup(web, email):
        during.append((f"lookup {email}", db.session().in_transaction()))
        if (error := _someone_else_saves(org.head.id)) is not None:
            blocked.append(error)
        return real_lookup(web, email)

    def watched_sleep(seconds):
        during.append((f"sleep {seconds}", db.session().in_transaction()))
        if (error := _someone_else_saves(org.head.id)) is not None:
            blocked.append(error)

    monkeypatch.setattr(slack_links, "lookup", watched_lookup)
    monkeypatch.setattr(slack_links.time, "sleep", watched_sleep)
    progress = []
    result = slack_links.link_everyone(
        {"actor_id": org.head.id}, lambda *shown: progress.append(shown)
    )

    # The job's CSV says what it said before: everyone asked, in name order.
    with jobs.result_file(result.path).open(encoding="utf-8", newline="") as written:
        assert list(csv.reader(written)) == [
            ["Name", "Email", "Slack"],
            ["Ada Manager", "ada@example.com", "Not linked: Slack failed: internal_error."],
            ["Alice Pm", "alice@example.com", "Linked (U0ALICE)"],
            ["Bea Pm", "bea@example.com", "Linked (U0BEA)"],
            ["Ben Manager", "ben@example.com", "Not found in Slack"],
            ["Dev Pm", "dev@example.com", "Not found in Slack"],
            ["Dora Director", "dora@example.com", "Not found in Slack"],
            ["Hana Head", "head@example.com", "Not found in Slack"],
        ]
    assert progress == [(100, "Looked up 7 of 7")]
    # Slack was asked, and the job waited, with no transaction (no write lock) open …
    assert during == [
        ("lookup ada@example.com", False),
        ("sleep 3", False),
        ("lookup ada@example.com", False),
        ("lookup alice@example.com", False),
        ("lookup bea@example.com", False),
        ("lookup ben@example.com", False),
        ("lookup dev@example.com", False),
        ("lookup dora@example.com", False),
        ("lookup head@example.com", False),
    ]
    assert blocked == []  # … so others could save meanwhile
    assert not db.session().in_transaction()  # and every link is committed
    db.session.expire_all()
    linked = dict(db.session.execute(db.select(User.email, User.slack_user_id)).all())
    assert linked == {
        "head@example.com": None,
        "ada@example.com": None,
        "ben@example.com": None,
        "alice@example.com": "U0ALICE",
        "arun@example.com": "U0ARUN",
        "bea@example.com": "U0BEA",
        "dora@example.com": None,
        "dev@example.com": None,
    }


def test_link_everyone_keeps_a_link_made_while_slack_answered(ctx, org, fake, monkeypatch):
    """The job writes a link only for a person still unlinked at the address it asked about:
    a person who linked themself (or changed their address) meanwhile keeps what they have."""
    slack.save_settings(db.session.get(User, org.head.id), token=BOT_TOKEN)
    db.session.commit()
    fake.users |= {"alice@example.com": "U0ALICE", "bea@example.com": "U0BEA"}
    real_lookup = slack_links.lookup

    def meanwhile(web, email):
        if email == "alice@example.com":  # Alice links herself while Slack answers the job
            with db.engine.begin() as other:
                other.execute(
                    db.update(User).where(User.id == org.pm_a1.id).values(slack_user_id="U0SELF")
                )
        if email == "bea@example.com":  # Bea's address changes while Slack answers the job
            with db.engine.begin() as other:
                other.execute(
                    db.update(User).where(User.id == org.pm_b1.id).values(email="bea@new.example")
                )
        return real_lookup(web, email)

    monkeypatch.setattr(slack_links, "lookup", meanwhile)
    result = slack_links.link_everyone({"actor_id": org.head.id}, lambda *_: None)
    db.session.expire_all()
    assert db.session.get(User, org.pm_a1.id).slack_user_id == "U0SELF"
    assert db.session.get(User, org.pm_b1.id).slack_user_id is None
    with jobs.result_file(result.path).open(encoding="utf-8", newline="") as written:
        rows = {row["Email"]: row["Slack"] for row in csv.DictReader(written)}
    assert rows["alice@example.com"].startswith("Not linked: ")
    assert rows["bea@example.com"].startswith("Not linked: ")
