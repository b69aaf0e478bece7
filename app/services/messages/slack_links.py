"""Linking people to their Slack user by email address (`users.lookupByEmail`): a person links
themself, the head of product links everyone at once (a job), and a person can unlink.

Once linked, `messages.deliver` queues Slack messages for the person as they prefer; unlinking
cancels their Slack messages still waiting, so nothing goes to a Slack user no longer theirs.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import Channel, MessageStatus, OutboundMessage, User
from app.services import jobs
from app.services.messages import slack

LINK_EVERYONE = "slack_link_everyone"
# users.lookupByEmail is Slack's tier 3 (about 50 a minute): the job waits as Slack says when
# it is rate limited, but gives up on a person after this many waits.
MAX_WAITS = 5


def lookup(web, email: str) -> str | None:
    """The Slack user id with this email address, or None when the workspace has none (or only
    a deactivated account or a bot). SlackError for anything else."""
    try:
        answer = slack.call(lambda: web.users_lookupByEmail(email=email))
    except slack.SlackError as error:
        if error.code == "users_not_found":
            return None
        raise
    user = answer.get("user") or {}
    if user.get("deleted") or user.get("is_bot") or not user.get("id"):
        return None
    return str(user["id"])[:32]


@dataclass(frozen=True)
class Question:
    """What asking Slack for one person needs, read from the database beforehand, so that the
    caller can end its transaction (and SQLite's write lock) while Slack answers."""

    person_id: int
    email: str
    token: str

    def ask(self) -> str | None:
        """users.lookupByEmail: the Slack user id, or None; a ValidationError saying why Slack
        cannot be asked or did not answer. Touches no database."""
        if not self.token:
            raise ValidationError(
                "Slack is not connected to Rungs: the head of product sets a bot token first."
            )
        try:
            return lookup(slack.client(self.token), self.email)
        except slack.SlackError as error:
            raise ValidationError(f"Slack did not answer as it should. {error.message}") from error


def question_for(actor: User) -> Question:
    """What linking the actor's own Slack will ask (no call to Slack yet)."""
    policy.authorize(actor, "account.manage")
    return Question(actor.id, actor.email, slack.stored().token)


def link_self(actor: User, question: Question | None = None) -> str:
    """Find the person's Slack user by their Rungs email address and link it; a
    ValidationError that says why when Slack has no such person or is not set up. With a
    `question` read earlier, Slack is asked before anything is read or written here (the
    caller ended its transaction after reading the question)."""
    slack_id = question.ask() if question is not None else None
    policy.authorize(actor, "account.manage")
    if question is None:
        question = question_for(actor)
        slack_id = question.ask()
    elif question.person_id != actor.id:
        raise ValidationError("That question was about someone else.")
    if slack_id is None:
        raise ValidationError(
            f"This Slack workspace has no one with the address {question.email}. Ask the head "
            "of product to check the address, or change it in Slack."
        )
    actor.slack_user_id = slack_id
    db.session.flush()
    return slack_id


def unlink(actor: User, person_id: int) -> User:
    """Forget a person's Slack user (the person themself, or the head of product for anyone)
    and cancel their Slack messages not sent yet."""
    if person_id == actor.id:
        policy.authorize(actor, "account.manage")
    else:
        policy.authorize(actor, "settings.manage")
    person = db.session.get(User, person_id)
    if person is None:
        raise NotFoundError("Not found.")
    person.slack_user_id = None
    db.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.recipient_id == person.id,
            OutboundMessage.channel == Channel.SLACK,
            OutboundMessage.address != slack.WEBHOOK_ADDRESS,  # the channel's, not theirs
            OutboundMessage.status.in_([MessageStatus.QUEUED, MessageStatus.HELD]),
        )
        .values(status=MessageStatus.CANCELLED, last_error="Slack was unlinked.")
    )
    db.session.flush()
    return person


@dataclass(frozen=True)
class LinkCounts:
    linked: int
    active: int

    @property
    def unlinked(self) -> int:
        return self.active - self.linked


def link_counts() -> LinkCounts:
    """How many active people are linked to Slack, in one query."""
    linked, active = db.session.execute(
        select(func.count(User.slack_user_id), func.count(User.id)).where(
            User.deactivated_at.is_(None)
        )
    ).one()
    return LinkCounts(linked, active)


def start_link_everyone(actor: User):
    """Submit the job that links every active person not linked yet (one that is still running
    is reused). The caller commits; the job starts after the commit."""
    policy.authorize(actor, "settings.manage")
    if not slack.stored().has_token:
        raise ValidationError("Set a bot token first: linking asks Slack with it.")
    return jobs.unfinished_for(actor, LINK_EVERYONE) or jobs.submit(
        actor, LINK_EVERYONE, {"actor_id": actor.id}
    )


@jobs.register(LINK_EVERYONE, label="Link everyone's Slack")
def link_everyone(params: dict[str, Any], progress: jobs.Progress) -> jobs.Result:
    """Look up every active person without a Slack user by email address and link those Slack
    knows; the result is a CSV of everyone looked up and what Slack answered.

    No transaction stays open while Slack answers (up to its timeout) or while the job waits out
    a rate limit: on SQLite an open transaction holds the write lock, and every web request that
    saves meanwhile would fail with "database is locked". So the people are read and that
    transaction ended first; each link found is then written in a short transaction of its own."""
    actor_id = params.get("actor_id")
    actor = db.session.get(User, actor_id) if isinstance(actor_id, int) else None
    if actor is None or not actor.is_active:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "settings.manage")
    try:
        web = slack.bot_client()
    except slack.SlackError as error:
        raise ValidationError(error.message) from error
    people = db.session.execute(
        select(User.id, User.name, User.email)
        .where(User.deactivated_at.is_(None), User.slack_user_id.is_(None))
        .order_by(User.name, User.id)
    ).all()
    db.session.commit()  # end the read transaction (and SQLite's write lock) before asking Slack
    rows = []
    for number, (person_id, name, email) in enumerate(people, start=1):
        said, slack_id = _ask_about(web, email)  # no transaction open: Slack may take its time
        if slack_id is not None and not _link(person_id, email, slack_id):
            said = "Not linked: their address or Slack link changed while Slack answered"
        rows.append((name, email, said))
        if number % 20 == 0 or number == len(people):
            progress(int(100 * number / len(people)), f"Looked up {number} of {len(people)}")
    path, relative = jobs.output_file(".csv")
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Email", "Slack"])
        writer.writerows(rows)
    return jobs.Result(relative, "Slack links.csv")


def _ask_about(web, email: str) -> tuple[str, str | None]:
    """What Slack says about one address, in words for the CSV, and the Slack user id to link
    (None: nothing to link). Waits as Slack says when rate limited. Touches no database, so it
    is called with no transaction open. A token Slack refuses stops the job (every other lookup
    would fail the same way)."""
    for _wait in range(MAX_WAITS):
        try:
            slack_id = lookup(web, email)
        except slack.SlackError as error:
            if error.code == "ratelimited":
                time.sleep(min(error.retry_after or 1, 60))
                continue
            if not error.retryable:
                raise ValidationError(f"Slack refused the bot token. {error.message}") from error
            return f"Not linked: {error.message}", None
        if slack_id is None:
            return "Not found in Slack", None
        return f"Linked ({slack_id})", slack_id
    return "Not linked: Slack kept rate limiting", None


def _link(person_id: int, email: str, slack_id: str) -> bool:
    """Write one link in its own short transaction, committed at once. Only while the person is
    still unlinked at the address Slack was asked about: one who linked themself, or whose
    address changed, while Slack answered keeps what they have (False)."""
    linked = db.session.execute(
        update(User)
        .where(User.id == person_id, User.email == email, User.slack_user_id.is_(None))
        .values(slack_user_id=slack_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return linked.rowcount == 1


@dataclass(frozen=True)
class AdminPanel:
    """What the head of product's Slack section shows: hints of the settings, never them."""

    token_hint: str
    webhook_hint: str
    updated_at: str
    counts: LinkCounts

    @property
    def has_token(self) -> bool:
        return bool(self.token_hint)

    @property
    def has_webhook(self) -> bool:
        return bool(self.webhook_hint)


def admin_panel(actor: User) -> AdminPanel:
    """The head of product's Slack section, in two queries."""
    settings = slack.settings_for(actor)
    return AdminPanel(
        settings.token_hint, settings.webhook_hint, settings.updated_at, link_counts()
    )


@dataclass(frozen=True)
class LinkPanel:
    """What a person's "Link my Slack" section shows."""

    email: str
    slack_user_id: str
    is_available: bool  # a bot token is set, so Rungs can find people and message them

    @property
    def is_linked(self) -> bool:
        return bool(self.slack_user_id)


def link_panel(actor: User) -> LinkPanel:
    policy.authorize(actor, "account.manage")
    return LinkPanel(actor.email, actor.slack_user_id or "", slack.stored().has_token)
