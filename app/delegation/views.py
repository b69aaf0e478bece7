"""A person's delegation board: open it, add and remove rows, play a round of Delegation Poker
(pick, agree, close), and print the agreed board."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from app import access
from app.delegation.forms import AgreeForm, ConfirmForm, PicksForm, RowForm, picks_from
from app.downloads import send_stored
from app.extensions import db
from app.forms import act, saved, submit
from app.models import Job
from app.services import delegation, storage
from app.services.delegation import pages, pdf

bp = Blueprint("delegation", __name__)

BASE = "/people/<int:person_id>/delegation"


def _actor():
    return current_user._get_current_object()


def _board_url(person_id: int, anchor: str | None = None) -> str:
    return url_for("delegation.board", person_id=person_id, _anchor=anchor)


def _render(person_id: int, status: int = 200, **attempt):
    """The board page; after a refused form, with what was sent and why (`attempt`)."""
    page = pages.board_page(_actor(), person_id)
    forms = {
        "row_form": RowForm(formdata=None),
        "agree_form": None,
        "picks_sent": None,
        "close_error": None,
    }
    forms.update(attempt)
    return render_template(
        "delegation/board.html", page=page, confirm=ConfirmForm(), **forms
    ), status


@bp.get(BASE)
@access.requires("delegation.view")
def board(person_id: int):
    """The board: the round being played, the agreed levels against the level's expectation,
    and how they widened over the rounds."""
    return _render(person_id)


@bp.post(f"{BASE}/open")
@access.requires("delegation.open")
def open_board(person_id: int):
    """The direct manager opens the board, seeded from the person's level."""
    return act(
        lambda: delegation.open_board(_actor(), person_id),
        back=_board_url(person_id),
        done=lambda _: saved(
            "The delegation board is open.", "delegation.board", person_id=person_id
        ),
    )


@bp.post(f"{BASE}/rows")
@access.requires("delegation.play")
def add_row(person_id: int):
    """Add a recurring decision of your own to the board."""
    form = RowForm()
    return submit(
        form,
        lambda: delegation.add_row(_actor(), person_id, form.decision.data, form.role_value),
        page=lambda status, error=None: _render(person_id, status, row_form=form),
        done=lambda _: saved("The decision was added.", "delegation.board", person_id=person_id),
    )


@bp.post(f"{BASE}/rows/<int:row_id>/remove")
@access.requires("delegation.play")
def remove_row(person_id: int, row_id: int):
    """Take a decision off the board; its history stays."""
    return act(
        lambda: delegation.remove_row(_actor(), person_id, row_id),
        back=_board_url(person_id, "rows"),
        done=lambda _: saved("The decision was removed.", "delegation.board", person_id=person_id),
    )


@bp.post(f"{BASE}/rounds")
@access.requires("delegation.play")
def start_round(person_id: int):
    """Start a round of Delegation Poker."""
    return act(
        lambda: delegation.start_round(_actor(), person_id),
        back=_board_url(person_id),
        done=lambda _: saved(
            "The round started: pick a level for every decision.",
            "delegation.board",
            person_id=person_id,
        ),
    )


@bp.post(f"{BASE}/rounds/<int:round_id>/picks")
@access.requires("delegation.play")
def pick(person_id: int, round_id: int):
    """Save your secret picks; the round is revealed when both have picked every row."""
    form, sent = PicksForm(), picks_from(request.form)
    return submit(
        form,
        lambda: delegation.save_picks(_actor(), person_id, round_id, sent),
        page=lambda status, error=None: _render(
            person_id, status, picks_sent=sent, picks_error=error
        ),
        done=lambda revealed: saved(
            "Both of you have picked: the picks are revealed."
            if revealed
            else "Your picks are saved. They stay hidden until both of you have picked every row.",
            "delegation.board",
            person_id=person_id,
        ),
    )


@bp.post(f"{BASE}/rounds/<int:round_id>/rows/<int:row_id>/agreement")
@access.requires("delegation.play")
def agree(person_id: int, round_id: int, row_id: int):
    """Save the level you agreed for a row, with a note."""
    form = AgreeForm()
    return submit(
        form,
        lambda: delegation.agree(
            _actor(),
            person_id,
            round_id,
            row_id,
            form.level.data,
            form.note.data or "",
            expected_revision=form.revision.data or 0,
        ),
        page=lambda status, error=None: _render(
            person_id, status, agree_form=form, agree_row=row_id, agree_error=error
        ),
        done=lambda _: redirect(_board_url(person_id, f"row-{row_id}"), 303),
    )


@bp.post(f"{BASE}/rounds/<int:round_id>/close")
@access.requires("delegation.play")
def close(person_id: int, round_id: int):
    """Close the round once every row has an agreed level."""
    seen = request.form.get("agreed", "")
    return act(
        lambda: delegation.close_round(_actor(), person_id, round_id, seen=seen),
        back=_board_url(person_id, "round"),
        conflict=lambda error: _render(person_id, 409, close_error=error),
        done=lambda _: saved(
            "The round is closed: the agreed levels are on the board.",
            "delegation.board",
            person_id=person_id,
        ),
    )


@bp.post(f"{BASE}/rounds/<int:round_id>/abandon")
@access.requires("delegation.play")
def abandon(person_id: int, round_id: int):
    """Give up the open round (for example when the person's manager changed during it)."""
    return act(
        lambda: delegation.abandon_round(_actor(), person_id, round_id),
        back=_board_url(person_id, "round"),
        done=lambda _: saved(
            "The round is abandoned: start a new one when you are ready.",
            "delegation.board",
            person_id=person_id,
        ),
    )


@bp.get("/people/<int:person_id>/delegation.pdf", endpoint="pdf")
@access.requires("delegation.view")
def pdf_file(person_id: int):
    """The agreed board as a PDF when it was made already; otherwise a page that offers to
    make it."""
    page = pages.board_page(_actor(), person_id)
    key = pdf.cached_pdf(page) if page.is_board else None
    if key is None:
        return render_template("delegation/pdf.html", page=page, confirm=ConfirmForm())
    return send_stored(
        storage.open(key),
        mimetype="application/pdf",
        download_name=pdf.download_name(page),
        max_age=0,
    )


@bp.post(f"{BASE}/pdf")
@access.requires("delegation.view")
def make_pdf(person_id: int):
    """Ask for the board's PDF: the file when it exists, else the job that makes it."""
    outcome = pdf.request_pdf(_actor(), pages.board_page(_actor(), person_id))
    if not isinstance(outcome, Job):
        return redirect(url_for(".pdf", person_id=person_id), 303)
    db.session.commit()  # the job is handed to a worker after the commit
    return redirect(url_for("jobs.show", job_id=outcome.id), 303)
