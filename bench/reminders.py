"""Issue 15: reminders for 2,000 people, queued and sent through a real SMTP server. Not a test.

    .venv/bin/python bench/reminders.py [--people 2000] [--database URL]

It builds, in a scratch RUNGS_DATA_DIR with its own SQLite database made by the real migrations
(or on an empty PostgreSQL database given by --database, whose tables it drops and rebuilds),
an organisation of N people: managers of 10 people each, every PM a candidate in a cycle in its
self-assessment phase due in 20 hours, and every PM asked for feedback due today by a colleague.
So each PM has two tasks due within a day. It then runs what `flask reminders send` runs for
reminders:

1. `todo.reminders.queue_reminders(now)`: derives everyone's tasks and queues a reminder per
   task through `messages.deliver` (one outbox row per task, by email);
2. `messages.sending.send_due()`: sends the outbox through Flask-Mail to an aiosmtpd server on a
   free loopback port (a real SMTP conversation per message, batches on one connection),

and prints, for each step and for both, messages per second and database statements per message
(counted with SQLAlchemy's `before_cursor_execute`), and checks that the SMTP server received
every message once. A second `queue_reminders` run is timed too: it queues nothing (the dedupe
keys exist), which is the cost of running the cron line every few minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.promotion_helpers publishes the sample framework

from flask_migrate import upgrade  # noqa: E402 - after the path is set
from sqlalchemy import event, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    CyclePhase,
    FeedbackAsk,
    FeedbackRequest,
    PhaseDeadline,
    PromotionCase,
    PromotionCycle,
    Role,
    User,
)
from app.models.base import utcnow  # noqa: E402
from app.services.todo import reminders  # noqa: E402
from tests.mail_helpers import SmtpServer  # noqa: E402
from tests.promotion_helpers import publish_sample  # noqa: E402

TEAM = 10


class Statements:
    """Counts the SQL statements sent while it is open."""

    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _record(self, *_args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def build(app, people: int) -> int:
    """The organisation, the cycle and the asks, inserted in bulk; returns the cycle id."""
    levels = publish_sample(app)
    now = utcnow()
    with app.app_context():
        head = User(email="head@bench.example", name="Head", role=Role.HEAD, level_id=None)
        db.session.add(head)
        db.session.flush()
        managers = max(1, people // (TEAM + 1))
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"manager{n}@bench.example",
                    "name": f"Manager {n}",
                    "role": Role.MANAGER,
                    "manager_id": head.id,
                }
                for n in range(managers)
            ],
        )
        manager_ids = list(db.session.scalars(select(User.id).where(User.role == Role.MANAGER)))
        pms = people - 1 - managers
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"pm{n}@bench.example",
                    "name": f"Product Manager {n}",
                    "role": Role.PM,
                    "manager_id": manager_ids[n % len(manager_ids)],
                    "level_id": levels["L1"],
                    "time_zone": ("Europe/London", "America/New_York", "Asia/Tokyo")[n % 3],
                }
                for n in range(pms)
            ],
        )
        cycle = PromotionCycle(name="Bench cycle", phase=CyclePhase.SELF_ASSESSMENT)
        db.session.add(cycle)
        db.session.flush()
        db.session.add(
            PhaseDeadline(
                cycle_id=cycle.id,
                phase=CyclePhase.SELF_ASSESSMENT,
                due_at=now + timedelta(hours=20),
            )
        )
        candidates = db.session.execute(
            select(User.id, User.manager_id).where(User.role == Role.PM).order_by(User.id)
        ).all()
        db.session.execute(
            insert(PromotionCase),
            [
                {
                    "cycle_id": cycle.id,
                    "candidate_id": person_id,
                    "manager_id": manager_id,
                    "nominated_by_id": manager_id,
                    "current_level_id": levels["L1"],
                    "proposed_level_id": levels["L2"],
                }
                for person_id, manager_id in candidates
            ],
        )
        ids = [person_id for person_id, _ in candidates]
        requests = db.session.scalars(
            insert(FeedbackRequest).returning(FeedbackRequest.id),
            [{"requester_id": person_id, "due_on": now.date()} for person_id in ids],
        ).all()
        db.session.execute(
            insert(FeedbackAsk),
            [
                {"request_id": request_id, "giver_id": ids[(n + 1) % len(ids)]}
                for n, request_id in enumerate(requests)
            ],
        )
        db.session.commit()
        return cycle.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--database", help="an empty database URL (default: scratch SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        uri = args.database or f"sqlite:///{scratch}/bench.db"
        smtp = SmtpServer()
        smtp.start()
        try:
            app = create_app(
                {
                    "ENV": "testing",
                    "SQLALCHEMY_DATABASE_URI": uri,
                    "RUNGS_DATA_DIR": scratch,
                    **smtp.settings,
                    "MAIL_DEFAULT_SENDER": "rungs@bench.example",
                    "RUNGS_BASE_URL": "https://rungs.example.com",
                },
                environ={},
            )
            with app.app_context():
                if args.database:
                    db.drop_all()
                upgrade()
            build(app, args.people)
            run(app, smtp)
        finally:
            smtp.stop()


def run(app, smtp: SmtpServer) -> None:
    from app.services.messages import sending, wake

    with app.app_context():
        engine = db.engine
        now = utcnow()
        started = time.perf_counter()
        with Statements(engine) as queued_sql:
            queued = reminders.queue_reminders(now)
            db.session.commit()
        queue_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with Statements(engine) as again_sql:
            again = reminders.queue_reminders(now)
            db.session.commit()
        again_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with Statements(engine) as send_sql, wake.sent_here():
            outcome = sending.send_due()
        send_seconds = time.perf_counter() - started

    received = len(smtp.messages)
    print(f"database: {engine.dialect.name}; people: {db_people(app)}")
    print(f"queued {queued} reminders in {queue_seconds:.2f} s: {rate(queued, queue_seconds)}")
    print(f"  {queued_sql.count} statements, {per(queued_sql.count, queued)} per message")
    print(
        f"second run queued {again} in {again_seconds:.2f} s ({again_sql.count} statements): "
        "every reminder was already in the outbox"
    )
    print(f"sent: {outcome} in {send_seconds:.2f} s: {rate(outcome.sent, send_seconds)}")
    print(f"  {send_sql.count} statements, {per(send_sql.count, outcome.sent)} per message")
    total_seconds = queue_seconds + send_seconds
    total_sql = queued_sql.count + send_sql.count
    print(
        f"queue + send: {rate(outcome.sent, total_seconds)}, "
        f"{per(total_sql, outcome.sent)} statements per message"
    )
    print(f"the SMTP server received {received} messages")
    keys = {(mail["To"], mail["Subject"]) for mail in smtp.messages}
    assert received == queued == outcome.sent == len(keys), (received, queued, outcome.sent)


def db_people(app) -> int:
    with app.app_context():
        return db.session.execute(select(db.func.count()).select_from(User)).scalar_one()


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.0f} messages/s" if seconds else "-"


def per(statements: int, messages: int) -> str:
    return f"{statements / messages:.2f}" if messages else "-"


if __name__ == "__main__":
    main()
