"""The conversation around an evidence item: comments (one level of replies), kudos, corroboration.

Each verb checks the policy on the item, writes its notifications in the same transaction and
flushes; the caller commits. Readers load what a page needs in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from markupsafe import Markup
from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import policy
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.models import (
    Comment,
    Corroboration,
    CorroborationStatus,
    Evidence,
    Kudos,
    Notification,
    NotificationKind,
    User,
)
from app.models.base import utcnow
from app.services import notifications

COMMENT_MAX = 5_000
NOTE_MAX = 500
# An author may take a comment back for this long; after that others may have acted on it.
DELETE_WINDOW = timedelta(minutes=15)
CORROBORATIONS_PER_PAGE = 30
# A peer asked to corroborate reads the item, so only a shared item can be asked about: a
# private draft stays the owner's alone, as its page promises.
IN_TRASH = "This item is in the Trash; restore it first."
SHARE_FIRST = (
    "This is a private draft: only you can see it. Share it first; then the colleagues you "
    "ask to corroborate it can read it."
)


# --- comments ---------------------------------------------------------------------------------


def commentable(actor: User, evidence_id: int) -> Evidence:
    """The item if the actor may comment on it; else 404, so a draft's existence stays hidden."""
    evidence = _evidence(evidence_id)
    policy.authorize(actor, "evidence.comment", evidence)
    return evidence


def add_comment(
    actor: User, evidence: Evidence, body: str, *, reply_to: int | None = None
) -> Comment:
    """Comment on a shared item, or reply to a comment on it (replies stay one level deep)."""
    policy.authorize(actor, "evidence.comment", evidence)
    text = _comment_text(body)
    parent, replied_to = _thread_top(evidence.id, reply_to)
    comment = Comment(
        evidence_id=evidence.id,
        author_id=actor.id,
        parent_id=parent.id if parent else None,
        body=text,
    )
    db.session.add(comment)
    db.session.flush()
    authors = {c.author_id for c in (parent, replied_to) if c is not None}
    notifications.notify(
        {evidence.owner_id, *authors},
        NotificationKind.COMMENT,
        actor_id=actor.id,
        evidence_id=evidence.id,
    )
    return comment


def delete_comment(
    actor: User, evidence_id: int, comment_id: int, *, now: datetime | None = None
) -> Comment:
    """The author takes a comment back within DELETE_WINDOW.

    A comment that others already answered keeps its place with its text removed (shown as
    "deleted"), so that their replies never disappear with it; otherwise the row goes.
    """
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.evidence_id != evidence_id or not comment.body:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "evidence.comment", _evidence(evidence_id))
    if comment.author_id != actor.id:
        raise NotFoundError("Not found.")
    if (now or utcnow()) - comment.created_at > DELETE_WINDOW:
        minutes = int(DELETE_WINDOW.total_seconds() // 60)
        raise ValidationError(f"A comment can only be deleted in its first {minutes} minutes.")
    has_replies = db.session.execute(
        select(exists().where(Comment.parent_id == comment.id))
    ).scalar_one()
    if has_replies:
        comment.body = ""
    else:
        db.session.delete(comment)
    db.session.flush()
    return comment


def may_delete(comment: Comment, viewer_id: int, now: datetime | None = None) -> bool:
    return (
        comment.author_id == viewer_id
        and bool(comment.body)
        and (now or utcnow()) - comment.created_at <= DELETE_WINDOW
    )


def _comment_text(body: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationError("Write something before sending.", field="body")
    if len(text) > COMMENT_MAX:
        raise ValidationError(f"Use at most {COMMENT_MAX:,} characters.", field="body")
    return text


def _thread_top(evidence_id: int, reply_to: int | None) -> tuple[Comment | None, Comment | None]:
    """(the top comment a reply attaches to, the comment actually replied to)."""
    if reply_to is None:
        return None, None
    replied_to = db.session.get(Comment, reply_to)
    if replied_to is None or replied_to.evidence_id != evidence_id:
        raise ValidationError("That comment is no longer there.", field="body")
    if replied_to.parent_id is None:
        return replied_to, replied_to
    return db.session.get(Comment, replied_to.parent_id), replied_to


# --- kudos ------------------------------------------------------------------------------------


def give_kudos(actor: User, evidence_id: int) -> Kudos:
    """Once per person; everyone who sees a shared item may, except its owner."""
    evidence = _evidence(evidence_id)
    policy.authorize(actor, "evidence.kudos", evidence)
    kudos = Kudos(evidence_id=evidence.id, giver_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(kudos)
    except IntegrityError:
        raise ValidationError("You already gave kudos for this.") from None
    notifications.notify(
        [evidence.owner_id], NotificationKind.KUDOS, actor_id=actor.id, evidence_id=evidence.id
    )
    return kudos


def take_back_kudos(actor: User, evidence_id: int) -> None:
    """Withdraw one's kudos, and the owner's notice of it if they have not read it yet."""
    evidence = _evidence(evidence_id)
    policy.authorize(actor, "evidence.kudos", evidence)
    removed = db.session.execute(
        delete(Kudos).where(Kudos.evidence_id == evidence.id, Kudos.giver_id == actor.id)
    ).rowcount
    if not removed:
        raise ValidationError("You have not given kudos for this.")
    db.session.execute(
        delete(Notification).where(
            Notification.kind == NotificationKind.KUDOS,
            Notification.evidence_id == evidence.id,
            Notification.actor_id == actor.id,
            Notification.read_at.is_(None),
        )
    )


# --- corroboration ----------------------------------------------------------------------------


def own_item(actor: User, evidence_id: int) -> Evidence:
    """One of the actor's own items; 404 for anyone else's."""
    evidence = _evidence(evidence_id)
    policy.authorize(actor, "evidence.edit", evidence)
    return evidence


def request_corroboration(actor: User, evidence: Evidence, peer_id: int | None) -> Corroboration:
    """The owner asks another active person to confirm a shared item (they may then read it);
    each peer once per item."""
    policy.authorize(actor, "evidence.edit", evidence)
    refusal = why_not_ask(evidence)
    if refusal:
        raise ValidationError(refusal)
    peer = db.session.get(User, peer_id) if peer_id is not None else None
    if peer is None or not peer.is_active:
        raise ValidationError("Choose a person to ask.", field="peer_id")
    if peer.id == evidence.owner_id:
        raise ValidationError("Ask someone other than yourself.", field="peer_id")
    request = Corroboration(evidence=evidence, peer=peer)
    try:
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError:
        raise ValidationError(
            f"You already asked {peer.name} about this item.", field="peer_id"
        ) from None
    notifications.notify(
        [peer.id],
        NotificationKind.CORROBORATION_REQUESTED,
        actor_id=actor.id,
        evidence_id=evidence.id,
    )
    return request


def why_not_ask(evidence: Evidence) -> str:
    """Why nobody can be asked about the item yet, or "" when they can (it is shared)."""
    if evidence.in_trash:
        return IN_TRASH
    return "" if evidence.is_visible_to_others else SHARE_FIRST


def get_request(actor: User, corroboration_id: int) -> Corroboration:
    """A request addressed to the actor, with its item and owner, while the item is shared and
    out of the Trash (the evidence.view rule); anyone else gets 404."""
    request = db.session.execute(
        select(Corroboration)
        .where(Corroboration.id == corroboration_id)
        .options(joinedload(Corroboration.evidence).joinedload(Evidence.owner))
    ).scalar_one_or_none()
    if request is None or request.peer_id != actor.id:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "evidence.view", request.evidence)
    return request


def answer_corroboration(
    actor: User, request: Corroboration, *, confirm: bool, note: str = ""
) -> Corroboration:
    """The asked peer confirms (with an optional short note) or declines, once."""
    if request.peer_id != actor.id:
        raise NotFoundError("Not found.")
    policy.authorize(actor, "evidence.view", request.evidence)
    if request.status is not CorroborationStatus.PENDING:
        raise ValidationError("You already answered this request.")
    text = " ".join((note or "").split())
    if len(text) > NOTE_MAX:
        raise ValidationError(f"Keep the note to {NOTE_MAX} characters.", field="note")
    request.status = CorroborationStatus.CONFIRMED if confirm else CorroborationStatus.DECLINED
    request.note = text
    request.answered_at = utcnow()
    db.session.flush()
    notifications.notify(
        [request.evidence.owner_id],
        NotificationKind.CORROBORATION_ANSWERED,
        actor_id=actor.id,
        evidence_id=request.evidence_id,
    )
    return request


def requests_for(peer_id: int):
    """The peer's requests about items they may read (shared, out of the Trash): pending first,
    then the newest."""
    return (
        select(Corroboration)
        .join(Evidence, Evidence.id == Corroboration.evidence_id)
        .where(Corroboration.peer_id == peer_id, Evidence.is_visible_to_others)
        .options(joinedload(Corroboration.evidence).joinedload(Evidence.owner))
        .order_by(
            (Corroboration.status != CorroborationStatus.PENDING),
            Corroboration.requested_at.desc(),
            Corroboration.id.desc(),
        )
    )


def requests_page(actor: User, page: int) -> Pagination:
    """The corroboration requests page: a page of the actor's requests, as `requests_for`."""
    return db.paginate(
        requests_for(actor.id),
        page=page,
        per_page=CORROBORATIONS_PER_PAGE,
        error_out=False,
        count=True,
    )


def peer_choices(owner_id: int, evidence_id: int) -> list[tuple[int, str]]:
    """Active people the owner may still ask about the item: (id, name), by name."""
    asked = select(Corroboration.peer_id).where(Corroboration.evidence_id == evidence_id)
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.id != owner_id, User.deactivated_at.is_(None), User.id.not_in(asked))
        .order_by(User.name, User.id)
    ).all()
    return [(person_id, name) for person_id, name in rows]


# --- reading: the panel on the item page and the badges on timeline rows -----------------------


@dataclass
class Thread:
    top: Comment
    replies: list[Comment] = field(default_factory=list)


@dataclass
class Conversation:
    """Everything the conversation panel of one item shows to one viewer."""

    evidence: Evidence
    viewer_id: int
    threads: list[Thread]
    kudos: list[Kudos]
    corroborations: list[Corroboration]
    may_read_comments: bool
    may_comment: bool
    may_give_kudos: bool
    peer_choices: list[tuple[int, str]]

    @property
    def is_owner(self) -> bool:
        return self.evidence.owner_id == self.viewer_id

    @property
    def has_given_kudos(self) -> bool:
        return any(k.giver_id == self.viewer_id for k in self.kudos)

    @property
    def confirmed(self) -> list[Corroboration]:
        return [c for c in self.corroborations if c.status is CorroborationStatus.CONFIRMED]

    @property
    def my_request(self) -> Corroboration | None:
        """The viewer's own request to corroborate this item, if they were asked."""
        return next((c for c in self.corroborations if c.peer_id == self.viewer_id), None)

    @property
    def share_first(self) -> str:
        """Why the owner cannot ask for corroboration yet (a private draft), or ""."""
        is_draft = not self.evidence.in_trash and not self.evidence.is_shared
        return why_not_ask(self.evidence) if self.is_owner and is_draft else ""

    @property
    def comment_count(self) -> int:
        return sum(1 + len(t.replies) for t in self.threads)

    def may_delete(self, comment: Comment) -> bool:
        return may_delete(comment, self.viewer_id)

    @staticmethod
    def html(comment: Comment) -> Markup:
        """The comment's markdown as safe HTML."""
        return comment.html("body")


def conversation(viewer: User, evidence: Evidence) -> Conversation:
    """The panel's data in a fixed number of queries, whatever the number of comments.

    Comments are coaching between the owner, their managers and mentors: a peer who was only
    asked to corroborate the item sees the item, kudos and confirmations, not the comments.
    """
    is_owner = evidence.owner_id == viewer.id
    may_comment = policy.can(viewer, "evidence.comment", evidence)
    # Whoever may comment may also see the item; only others cost the full check (and kudos).
    if not (is_owner or may_comment):
        policy.authorize(viewer, "evidence.view", evidence)
    may_give_kudos = not is_owner and (
        may_comment or policy.can(viewer, "evidence.kudos", evidence)
    )
    comments = (
        db.session.execute(
            select(Comment)
            .where(Comment.evidence_id == evidence.id)
            .options(joinedload(Comment.author))
            .order_by(Comment.created_at, Comment.id)
        ).scalars()
        if is_owner or may_comment
        else []
    )
    kudos = db.session.execute(
        select(Kudos)
        .where(Kudos.evidence_id == evidence.id)
        .options(joinedload(Kudos.giver))
        .order_by(Kudos.created_at, Kudos.id)
    ).scalars()
    corroborations = db.session.execute(
        select(Corroboration)
        .where(Corroboration.evidence_id == evidence.id)
        .options(joinedload(Corroboration.peer))
        .order_by(Corroboration.requested_at, Corroboration.id)
    ).scalars()
    return Conversation(
        evidence=evidence,
        viewer_id=viewer.id,
        threads=_threads(comments),
        kudos=list(kudos),
        corroborations=list(corroborations),
        may_read_comments=is_owner or may_comment,
        may_comment=may_comment,
        may_give_kudos=may_give_kudos,
        peer_choices=peer_choices(viewer.id, evidence.id)
        if is_owner and evidence.is_visible_to_others
        else [],
    )


def _threads(comments: Iterable[Comment]) -> list[Thread]:
    threads: dict[int, Thread] = {}
    for comment in comments:
        if comment.parent_id is None:
            threads[comment.id] = Thread(comment)
        elif comment.parent_id in threads:
            threads[comment.parent_id].replies.append(comment)
    # A top comment taken back with nobody answering it leaves nothing to show.
    return [t for t in threads.values() if t.top.body or t.replies]


@dataclass(frozen=True)
class Counts:
    comments: int = 0
    kudos: int = 0
    confirmations: int = 0


def counts(evidence_ids: Iterable[int]) -> dict[int, Counts]:
    """Comment, kudos and confirmation counts for many items in one query."""
    ids = sorted(set(evidence_ids))
    if not ids:
        return {}

    def per_item(model, *conditions):
        return (
            select(func.count())
            .select_from(model)
            .where(model.evidence_id == Evidence.id, *conditions)
            .scalar_subquery()
        )

    rows = db.session.execute(
        select(
            Evidence.id,
            per_item(Comment, Comment.body != ""),
            per_item(Kudos),
            per_item(Corroboration, Corroboration.status == CorroborationStatus.CONFIRMED),
        ).where(Evidence.id.in_(ids))
    ).all()
    return {row[0]: Counts(*row[1:]) for row in rows}


def _evidence(evidence_id: int) -> Evidence:
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFoundError("Not found.")
    return evidence
