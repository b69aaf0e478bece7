"""Feedback pages: ask colleagues for feedback, answer their requests, share an answer with your
manager; thank a colleague in public; offer a lesson from a failure to your team."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from app import access
from app.core.errors import ConflictError
from app.feedback.forms import AnswerForm, RequestForm, ThankForm
from app.forms import act, optional_id, saved, submit
from app.request_input import page_number
from app.services.feedback import asks, lessons, pages, thanks

bp = Blueprint("feedback", __name__, url_prefix="/feedback")


def _actor():
    return current_user._get_current_object()


@bp.route("/")
@access.requires("feedback.request")
def index():
    """Requests you sent and their answers; requests waiting for your answer; team lessons."""
    page = pages.index_page(_actor(), page_number(), page_number("asked"))
    return render_template("feedback/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@access.requires("feedback.request")
def new():
    """Ask named colleagues for feedback on competencies of your framework."""
    choices = pages.new_request_page(_actor())
    if not choices.competencies:
        return render_template("feedback/not_placed.html")
    form = RequestForm()
    form.set_choices(choices)
    return submit(
        form,
        lambda: asks.ask_for_feedback(_actor(), _request_input(form)).id,
        page=lambda status, error=None: (
            render_template("feedback/new.html", form=form, page=choices),
            status,
        ),
        done=lambda request_id: saved(
            "Request sent: each colleague you asked was notified.",
            "feedback.request",
            request_id=request_id,
        ),
    )


@bp.route("/requests/<int:request_id>", endpoint="request")
@access.requires("feedback_request.view")
def show_request(request_id: int):
    """One of your requests: who answered, their answers, and which you shared."""
    page = pages.request_page(_actor(), request_id)
    return render_template("feedback/request.html", page=page)


@bp.route("/requests/<int:request_id>/answers/<int:ask_id>/share", methods=["POST"])
@access.requires("feedback_request.view")
def share(request_id: int, ask_id: int):
    """Show one answer to your manager, on your page."""
    return _on_answer(
        asks.share_with_manager,
        request_id,
        ask_id,
        "Shared with your manager. You can stop sharing it at any time.",
    )


@bp.route("/requests/<int:request_id>/answers/<int:ask_id>/unshare", methods=["POST"])
@access.requires("feedback_request.view")
def unshare(request_id: int, ask_id: int):
    """Stop showing an answer to your manager."""
    return _on_answer(
        asks.stop_sharing, request_id, ask_id, "Your manager no longer sees this answer."
    )


def _on_answer(change, request_id: int, ask_id: int, message: str):
    """A button on one answer of a request: back to that answer, with what happened."""
    anchor = f"answer-{ask_id}"
    return act(
        lambda: change(_actor(), request_id, ask_id),
        back=url_for("feedback.request", request_id=request_id, _anchor=anchor),
        done=lambda _: saved(message, "feedback.request", request_id=request_id, _anchor=anchor),
    )


@bp.route("/asks/<int:ask_id>", methods=["GET", "POST"])
@access.requires("feedback_ask.answer")
def answer(ask_id: int):
    """Answer a colleague's request in situation-behaviour-impact form, or change your answer."""
    page = pages.answer_page(_actor(), ask_id)
    ask = page.ask
    first = ask.status.value == "pending"
    form = AnswerForm() if request.method == "POST" else AnswerForm(obj=ask)

    def show(status: int, error=None):
        shown = pages.answer_page(_actor(), ask_id) if error else page
        conflict = error if isinstance(error, ConflictError) else None
        if conflict:
            form.revision.data = shown.ask.revision  # saving again now replaces it, knowingly
        return render_template(
            "feedback/answer.html", page=shown, form=form, conflict=conflict
        ), status

    return submit(
        form,
        lambda: asks.answer(
            _actor(),
            ask,
            asks.AnswerInput(
                situation=form.situation.data or "",
                behaviour=form.behaviour.data or "",
                impact=form.impact.data or "",
            ),
            expected_revision=_int(form.revision.data),
        ),
        page=show,
        done=lambda _: saved(
            "Your feedback was sent." if first else "Your answer was updated.", "feedback.index"
        ),
    )


@bp.route("/asks/<int:ask_id>/decline", methods=["POST"])
@access.requires("feedback_ask.answer")
def decline(ask_id: int):
    """Decline a request for feedback."""
    return act(
        lambda: asks.decline(_actor(), ask_id),
        back=url_for("feedback.answer", ask_id=ask_id),
        done=lambda _: saved("You declined the request.", "feedback.index"),
    )


@bp.route("/thanks", endpoint="thanks")
@access.requires("thanks.view")
def thanks_list():
    """Recent public thanks across the organisation."""
    page = pages.thanks_page(_actor(), page_number())
    return render_template("feedback/thanks.html", page=page)


@bp.route("/thanks/new", methods=["GET", "POST"])
@access.requires("thanks.give")
def thank():
    """Thank a colleague in public for an outcome, or for one of their items."""
    form = ThankForm()
    wanted = form.evidence_id.data if form.is_submitted() else request.args.get("evidence_id")
    page = pages.thank_page(_actor(), optional_id(wanted))
    form.set_choices(page.recipients)
    item = page.item
    if item is not None:
        form.evidence_id.data = item.id
    return submit(
        form,
        lambda: (
            thanks.give_thanks(
                _actor(),
                form.recipient_id.data,
                form.message.data or "",
                evidence_id=item.id if item else None,
            ).recipient_id
        ),
        page=lambda status, error=None: (
            render_template("feedback/thank.html", form=form, page=page),
            status,
        ),
        done=lambda _: _thanked(item.id if item else None),
    )


def _thanked(evidence_id: int | None):
    message = "Thanks sent: everyone in the organisation can read it."
    if evidence_id is None:
        return saved(message, "feedback.thanks")
    return saved(message, "evidence.show", evidence_id=evidence_id)


@bp.route("/lessons/<int:evidence_id>/share", methods=["POST"])
@access.requires("evidence.share_lesson")
def share_lesson(evidence_id: int):
    """Offer a shared lesson from a failure to your team."""
    return act(
        lambda: lessons.share_lesson(_actor(), evidence_id),
        back=url_for("evidence.show", evidence_id=evidence_id),
        done=lambda _: saved(
            "Shared with your team as a lesson.", "evidence.show", evidence_id=evidence_id
        ),
    )


@bp.route("/lessons/<int:evidence_id>/stop", methods=["POST"])
@access.requires("evidence.share_lesson")
def stop_lesson(evidence_id: int):
    """Stop offering an item to your team as a lesson."""
    return act(
        lambda: lessons.stop_sharing_lesson(_actor(), evidence_id),
        back=url_for("evidence.show", evidence_id=evidence_id),
        done=lambda _: saved(
            "Your team no longer sees this as a lesson.", "evidence.show", evidence_id=evidence_id
        ),
    )


def _request_input(form: RequestForm) -> asks.RequestInput:
    return asks.RequestInput(
        colleague_ids=list(form.colleague_ids.data or []),
        competency_keys=list(form.competency_keys.data or []),
        message=form.message.data or "",
        due_on=form.due_on.data,
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)
