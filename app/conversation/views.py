"""Comments, kudos and corroboration on evidence; notifications; the manager's team page."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup, escape

from app import access
from app.conversation.forms import AnswerForm, CommentForm, KudosForm, RequestForm
from app.extensions import db
from app.forms import apply_domain_error
from app.request_input import ID_MAX, page_number
from app.services import conversation, notifications, team
from app.services.errors import ValidationError

bp = Blueprint("conversation", __name__)


def _actor():
    return current_user._get_current_object()


def item_url(evidence_id: int, anchor: str = "") -> str:
    """The item page belongs to the evidence blueprint; its path is fixed by convention."""
    return f"/evidence/{evidence_id}" + (f"#{anchor}" if anchor else "")


# --- what other pages show: the item's panel, timeline badges, the unread count ---------------


@bp.app_template_global()
def conversation_for(evidence, viewer=None) -> conversation.Conversation:
    """Everything the item page's conversation panel shows, in a fixed number of queries."""
    return conversation.conversation(viewer or _actor(), evidence)


@bp.app_template_global()
def conversation_counts(evidence_ids=()) -> dict[int, conversation.Counts]:
    """Counts per item, read once for a whole list: call it with every id on the page first."""
    cache = g.setdefault("conversation_counts", {})
    missing = {int(i) for i in evidence_ids} - cache.keys()
    if missing:
        found = conversation.counts(missing)
        cache.update({i: found.get(i, conversation.Counts()) for i in missing})
    return cache


@bp.app_template_global()
def conversation_stylesheet() -> Markup:
    """The stylesheet for panels and badges on other blueprints' pages, once per page."""
    if g.get("conversation_stylesheet"):
        return Markup("")
    g.conversation_stylesheet = True
    href = url_for("static", filename="css/conversation.css")
    return Markup(f'<link rel="stylesheet" href="{escape(href)}">')  # noqa: S704 - escaped


@bp.app_template_global()
def conversation_item_url(evidence_id: int, anchor: str = "") -> str:
    return item_url(evidence_id, anchor)


@bp.app_context_processor
def unread_notifications() -> dict[str, int]:
    """The navigation's unread count: one query per request, and none for anonymous pages (or
    templates rendered outside a request, such as PDFs)."""
    if not has_request_context() or not current_user.is_authenticated:
        return {}
    if "unread_notifications" not in g:
        g.unread_notifications = notifications.unread_count(current_user.id)
    return {"unread_notifications": g.unread_notifications}


# --- comments ---------------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>/comments", methods=["POST"])
@access.requires("evidence.comment")
def comment(evidence_id: int):
    """Comment on a shared item, or reply to a comment on it."""
    evidence = conversation.commentable(_actor(), evidence_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            added = conversation.add_comment(
                _actor(), evidence, form.body.data, reply_to=form.reply_to.data
            )
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash("Your comment was added.", "success")
            return redirect(item_url(evidence_id, f"comment-{added.id}"))
    return render_template("conversation/comment_form.html", evidence=evidence, form=form), 400


@bp.route("/evidence/<int:evidence_id>/comments/<int:comment_id>/delete", methods=["POST"])
@access.requires("evidence.comment")
def delete_comment(evidence_id: int, comment_id: int):
    """Take back your own comment in its first minutes."""
    try:
        conversation.delete_comment(_actor(), evidence_id, comment_id)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("Your comment was deleted.", "success")
    return redirect(item_url(evidence_id, "comments"))


# --- kudos ------------------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>/kudos", methods=["POST"])
@access.requires("evidence.kudos")
def kudos(evidence_id: int):
    """Give kudos for a shared item, or take yours back."""
    giving = KudosForm().give.data != "0"
    try:
        if giving:
            conversation.give_kudos(_actor(), evidence_id)
        else:
            conversation.take_back_kudos(_actor(), evidence_id)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("Kudos given." if giving else "Kudos taken back.", "success")
    return redirect(item_url(evidence_id, "kudos"))


# --- corroboration ----------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>/corroborations", methods=["GET", "POST"])
@access.requires("evidence.edit")
def request_corroboration(evidence_id: int):
    """Ask a peer to confirm one of your items."""
    evidence = conversation.own_item(_actor(), evidence_id)
    form = RequestForm()
    refusal = conversation.why_not_ask(evidence)
    form.set_choices([] if refusal else conversation.peer_choices(evidence.owner_id, evidence.id))
    if form.validate_on_submit():
        try:
            asked = conversation.request_corroboration(_actor(), evidence, form.peer_id.data)
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            message = f"{asked.peer.name} was asked to corroborate this item."
            db.session.commit()
            flash(message, "success")
            return redirect(item_url(evidence_id, "corroboration"))
    status = 400 if form.errors or form.form_errors else 200
    page = render_template(
        "conversation/request.html",
        evidence=evidence,
        form=form,
        refusal=refusal,
    )
    return page, status


@bp.route("/corroborations")
@access.requires("evidence.view")
def requests():
    """Requests to corroborate colleagues' items: pending first, then answered."""
    page = db.paginate(
        conversation.requests_for(current_user.id),
        page=page_number(),
        per_page=conversation.CORROBORATIONS_PER_PAGE,
        error_out=False,
        count=True,
    )
    return render_template("conversation/requests.html", page=page)


@bp.route("/corroborations/<int:corroboration_id>", methods=["GET", "POST"])
@access.requires("evidence.view")
def answer(corroboration_id: int):
    """Confirm, with a short note, or decline a request to corroborate a colleague's item."""
    asked = conversation.get_request(_actor(), corroboration_id)
    form = AnswerForm()
    if form.validate_on_submit() and (form.confirm.data or form.decline.data):
        verb = "confirmed" if form.confirm.data else "declined"
        message = f"You {verb} “{asked.evidence.title}”."
        try:
            conversation.answer_corroboration(
                _actor(), asked, confirm=bool(form.confirm.data), note=form.note.data or ""
            )
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            asked = conversation.get_request(_actor(), corroboration_id)  # reloaded after rollback
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".requests"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("conversation/answer.html", asked=asked, form=form), status


# --- notifications ----------------------------------------------------------------------------


@bp.route("/notifications")
@access.requires("notifications.view")
def inbox():
    """Your notifications, newest first; new ones stay new until you mark them read."""
    page, entries = notifications.inbox(_actor(), page_number())
    return render_template("conversation/notifications.html", page=page, entries=entries)


@bp.route("/notifications/read", methods=["POST"])
@access.requires("notifications.view")
def mark_all_read():
    """Mark every notification as read, up to the newest the page showed."""
    through = request.form.get("through", type=int)
    if through is not None:
        through = min(through, ID_MAX)  # past every id means all; the database holds no more
    marked = notifications.mark_read(current_user.id, through_id=through)
    db.session.commit()
    flash(f"{marked} notification{'' if marked == 1 else 's'} marked as read.", "success")
    return redirect(url_for(".inbox"))


# --- the team page ----------------------------------------------------------------------------


@bp.route("/team")
@access.requires("team.view")
def team_page():
    """Everyone in your line: recent shared evidence, readiness and last activity."""
    return render_template(
        "team/index.html", groups=team.team(_actor()), recent_days=team.RECENT_DAYS
    )
