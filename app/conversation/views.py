"""The conversation on an evidence item: comments, kudos and corroboration requests."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app import access
from app.conversation.forms import AnswerForm, CommentForm, KudosForm, RequestForm
from app.forms import act, saved, submit
from app.request_input import page_number
from app.services.evidence import conversation

bp = Blueprint("conversation", __name__)


def _actor():
    return current_user._get_current_object()


def item_url(evidence_id: int, anchor: str | None = None) -> str:
    """The item page, at one of its panels: the conversation is shown there."""
    return url_for("evidence.show", evidence_id=evidence_id, _anchor=anchor)


def _back_to_item(message: str, evidence_id: int, anchor: str):
    flash(message, "success")
    return redirect(item_url(evidence_id, anchor))


# --- comments ---------------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>/comments", methods=["POST"])
@access.requires("evidence.comment")
def comment(evidence_id: int):
    """Comment on a shared item, or reply to a comment on it."""
    evidence = conversation.commentable(_actor(), evidence_id)
    form = CommentForm()

    def page(status: int, error=None):
        return render_template("conversation/comment_form.html", evidence=evidence, form=form), 400

    return submit(
        form,
        lambda: conversation.add_comment(
            _actor(), evidence, form.body.data, reply_to=form.reply_to.data
        ),
        page=page,
        done=lambda added: _back_to_item(
            "Your comment was added.", evidence_id, f"comment-{added.id}"
        ),
    )


@bp.route("/evidence/<int:evidence_id>/comments/<int:comment_id>/delete", methods=["POST"])
@access.requires("evidence.comment")
def delete_comment(evidence_id: int, comment_id: int):
    """Take back your own comment in its first minutes."""
    return act(
        lambda: conversation.delete_comment(_actor(), evidence_id, comment_id),
        back=item_url(evidence_id, "comments"),
        done=lambda _: _back_to_item("Your comment was deleted.", evidence_id, "comments"),
    )


# --- kudos ------------------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>/kudos", methods=["POST"])
@access.requires("evidence.kudos")
def kudos(evidence_id: int):
    """Give kudos for a shared item, or take yours back."""
    giving = KudosForm().give.data != "0"
    change = conversation.give_kudos if giving else conversation.take_back_kudos
    return act(
        lambda: change(_actor(), evidence_id),
        back=item_url(evidence_id, "kudos"),
        done=lambda _: _back_to_item(
            "Kudos given." if giving else "Kudos taken back.", evidence_id, "kudos"
        ),
    )


# --- corroboration ----------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>/corroborations", methods=["GET", "POST"])
@access.requires("evidence.edit")
def request_corroboration(evidence_id: int):
    """Ask a peer to confirm one of your items."""
    evidence = conversation.own_item(_actor(), evidence_id)
    form = RequestForm()
    refusal = conversation.why_not_ask(evidence)
    form.set_choices([] if refusal else conversation.peer_choices(evidence.owner_id, evidence.id))

    def page(status: int, error=None):
        return render_template(
            "conversation/request.html", evidence=evidence, form=form, refusal=refusal
        ), status

    return submit(
        form,
        # the name is read before the commit expires the request
        lambda: conversation.request_corroboration(_actor(), evidence, form.peer_id.data).peer.name,
        page=page,
        done=lambda name: _back_to_item(
            f"{name} was asked to corroborate this item.", evidence_id, "corroboration"
        ),
    )


@bp.route("/corroborations")
@access.requires("evidence.view")
def requests():
    """Requests to corroborate colleagues' items: pending first, then answered."""
    page = conversation.requests_page(_actor(), page_number())
    return render_template("conversation/requests.html", page=page)


@bp.route("/corroborations/<int:corroboration_id>", methods=["GET", "POST"])
@access.requires("evidence.view")
def answer(corroboration_id: int):
    """Confirm, with a short note, or decline a request to corroborate a colleague's item."""
    asked = conversation.get_request(_actor(), corroboration_id)
    form = AnswerForm()
    confirm = bool(form.confirm.data)
    message = f"You {'confirmed' if confirm else 'declined'} “{asked.evidence.title}”."

    def page(status: int, error=None):
        shown = conversation.get_request(_actor(), corroboration_id) if error else asked
        return render_template("conversation/answer.html", asked=shown, form=form), status

    if form.is_submitted() and not (confirm or form.decline.data):
        return page(400 if not form.validate() else 200)  # sent without either button
    return submit(
        form,
        lambda: conversation.answer_corroboration(
            _actor(), asked, confirm=confirm, note=form.note.data or ""
        ),
        page=page,
        done=lambda _: saved(message, "conversation.requests"),
    )
