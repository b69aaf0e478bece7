"""1:1 pages: the viewer's pairs, a pair's space, a meeting (agenda, notes, action items)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import access
from app.core.errors import ConflictError, DomainError
from app.forms import act, apply_domain_error, optional_id, saved, submit
from app.oneonones.forms import (
    ActionForm,
    AgendaEditForm,
    AgendaForm,
    CadenceForm,
    MeetingForm,
    PrivateNoteForm,
    SharedNotesForm,
)
from app.request_input import page_number
from app.services.oneonones import calendar, content, pages, spaces

bp = Blueprint("oneonones", __name__, url_prefix="/one-on-ones")


def _actor():
    return current_user._get_current_object()


def _fields(**names: str):
    """Show a service's refusal next to the form field that holds what it names."""

    def show(form, error: DomainError) -> None:
        error.field = names.get(error.field or "", error.field)
        apply_domain_error(form, error)

    return show


def _back(meeting_id: int, message: str, anchor: str):
    flash(message, "success")
    return redirect(url_for("oneonones.meeting", meeting_id=meeting_id, _anchor=anchor))


# --- the list and a pair's space ------------------------------------------------------------


@bp.route("/")
@access.requires("coaching.use")
def index():
    """Your 1:1s: each pair, its next meeting and open action items; reports to start with."""
    return render_template("oneonones/index.html", page=pages.index_page(_actor()))


@bp.route("/start/<int:person_id>", methods=["POST"])
@access.requires("coaching.use")
def start(person_id: int):
    """Start 1:1s with a direct report or a mentee (or open the space you already have)."""
    return act(
        lambda: spaces.open_space(_actor(), person_id).id,
        back=url_for("oneonones.index"),
        done=lambda pair_id: saved("Your 1:1 space is ready.", "oneonones.space", pair_id=pair_id),
    )


@bp.route("/<int:pair_id>")
@access.requires("coaching.use")
def space(pair_id: int):
    """A pair's meetings, newest first, the next one the cadence proposes and open actions."""
    return _space_page(pair_id, 200)


def _space_page(pair_id: int, status: int, meeting_form: MeetingForm | None = None):
    page = pages.space_page(_actor(), pair_id, page_number())
    if meeting_form is None:
        meeting_form = MeetingForm(formdata=None, starts_at=page.proposed_local)
    cadence_form = CadenceForm(
        formdata=None, cadence=page.pair.cadence.value, revision=page.pair.revision
    )
    cadence_form.cadence.choices = [SelectChoice(v, label) for v, label in page.cadences]
    return render_template(
        "oneonones/space.html", page=page, meeting_form=meeting_form, cadence_form=cadence_form
    ), status


@bp.route("/<int:pair_id>/meetings", methods=["POST"])
@access.requires("coaching.use")
def add_meeting(pair_id: int):
    """Add a meeting (the cadence's proposal, or another time)."""
    form = MeetingForm()
    pair = spaces.get_pair(_actor(), pair_id)
    return submit(
        form,
        lambda: (
            spaces.add_meeting(_actor(), pair, form.starts_at.data, form.duration_minutes.data).id
        ),
        page=lambda status, error=None: _space_page(pair_id, status, form),
        done=lambda meeting_id: saved(
            "The meeting was added.", "oneonones.meeting", meeting_id=meeting_id
        ),
    )


@bp.route("/<int:pair_id>/cadence", methods=["POST"])
@access.requires("coaching.use")
def cadence(pair_id: int):
    """How often the pair meets: it proposes the next meeting."""
    form = CadenceForm()
    return act(
        lambda: spaces.set_cadence(
            _actor(),
            spaces.get_pair(_actor(), pair_id),
            form.cadence.data or "",
            expected_revision=form.revision.data,
        ),
        back=url_for("oneonones.space", pair_id=pair_id),
        done=lambda _: saved("The cadence was saved.", "oneonones.space", pair_id=pair_id),
        conflict=lambda error: _stale_cadence(pair_id, error),
    )


def _stale_cadence(pair_id: int, error):
    flash(error.message, "error")
    return _space_page(pair_id, 409)


# --- a meeting ------------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>")
@access.requires("coaching.use")
def meeting(meeting_id: int):
    """A meeting: the shared agenda, shared notes, your private notes and action items."""
    return _meeting_page(meeting_id, 200)


def _meeting_page(meeting_id: int, status: int, *, conflict: str = "", error=None, **forms):
    page = pages.meeting_page(_actor(), meeting_id)
    m = page.meeting
    agenda = forms.get("agenda") or AgendaForm(formdata=None)
    agenda.set_choices(page.link_choices)
    action = forms.get("action") or ActionForm(formdata=None)
    action.set_owners(page.pair.owners, current_user.id)
    shared = forms.get("shared") or SharedNotesForm(
        formdata=None, shared_notes=m.shared_notes, shared_revision=m.revision
    )
    private = forms.get("private") or PrivateNoteForm(
        formdata=None, private_notes=page.private_body, private_revision=page.private_revision
    )
    theirs = error.current if isinstance(error, ConflictError) else None
    if theirs:  # saving again now replaces theirs with yours, knowingly
        (
            shared.shared_revision if conflict == "shared" else private.private_revision
        ).data = theirs["revision"]
    return render_template(
        "oneonones/meeting.html",
        page=page,
        agenda_form=agenda,
        action_form=action,
        shared_form=shared,
        private_form=private,
        conflict=conflict if theirs else "",
        theirs=theirs,
    ), status


@bp.route("/meetings/<int:meeting_id>.ics")
@access.requires("coaching.use")
def ics(meeting_id: int):
    """The meeting as a calendar file: Rungs writes to no calendar itself."""
    url = url_for("oneonones.meeting", meeting_id=meeting_id, _external=True)
    body, name = calendar.meeting_ics(_actor(), meeting_id, url=url, host=request.host)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/meetings/<int:meeting_id>/agenda", methods=["POST"])
@access.requires("coaching.use")
def add_topic(meeting_id: int):
    """Add a topic to the shared agenda."""
    form = AgendaForm()
    return submit(
        form,
        lambda: content.add_agenda_item(
            _actor(), meeting_id, form.topic.data, form.link.data or None
        ),
        page=lambda status, error=None: _meeting_page(meeting_id, status, agenda=form),
        done=lambda _: _back(meeting_id, "The topic was added.", "agenda"),
        show=_fields(text="topic"),
    )


@bp.route("/agenda/<int:item_id>/edit", methods=["GET", "POST"])
@access.requires("coaching.use")
def edit_topic(item_id: int):
    """Reword a topic you added; saving over a newer save shows both."""
    item, meeting_row = content.own_agenda_item(_actor(), item_id)
    form = AgendaEditForm(
        **({} if request.method == "POST" else {"topic": item.text, "revision": item.revision})
    )

    def page(status: int, error=None):
        theirs = error.current if isinstance(error, ConflictError) else None
        if theirs:
            form.revision.data = theirs["revision"]
        return render_template(
            "oneonones/edit_topic.html", form=form, meeting=meeting_row, theirs=theirs
        ), status

    return submit(
        form,
        lambda: content.edit_agenda_item(
            _actor(), item_id, form.topic.data, expected_revision=form.revision.data
        ),
        page=page,
        done=lambda _: _back(meeting_row.id, "The topic was saved.", "agenda"),
        show=_fields(text="topic"),
    )


@bp.route("/agenda/<int:item_id>/remove", methods=["POST"])
@access.requires("coaching.use")
def remove_topic(item_id: int):
    """Take a topic you added off the agenda."""
    return act(
        lambda: content.remove_agenda_item(_actor(), item_id).id,
        back=url_for("oneonones.index"),
        done=lambda meeting_id: _back(meeting_id, "The topic was removed.", "agenda"),
    )


@bp.route("/agenda/<int:item_id>/discussed", methods=["POST"])
@access.requires("coaching.use")
def discussed(item_id: int):
    """Tick a topic as discussed, or not."""
    is_discussed = request.form.get("discussed") == "1"
    return act(
        lambda: content.mark_discussed(_actor(), item_id, is_discussed).meeting_id,
        back=url_for("oneonones.index"),
        done=lambda meeting_id: _back(
            meeting_id, "Marked discussed." if is_discussed else "Marked not discussed.", "agenda"
        ),
    )


@bp.route("/meetings/<int:meeting_id>/notes", methods=["POST"])
@access.requires("coaching.use")
def save_notes(meeting_id: int):
    """Save the shared notes; a save over a newer one shows both texts."""
    form = SharedNotesForm()
    return submit(
        form,
        lambda: content.save_shared_notes(
            _actor(),
            meeting_id,
            form.shared_notes.data,
            expected_revision=form.shared_revision.data,
        ),
        page=lambda status, error=None: _meeting_page(
            meeting_id, status, conflict="shared", error=error, shared=form
        ),
        done=lambda _: _back(meeting_id, "The shared notes were saved.", "shared-notes"),
        show=_fields(body="shared_notes"),
    )


@bp.route("/meetings/<int:meeting_id>/private-notes", methods=["POST"])
@access.requires("coaching.use")
def save_private_notes(meeting_id: int):
    """Save your private notes on the meeting (only you see them)."""
    form = PrivateNoteForm()
    return submit(
        form,
        lambda: content.save_private_note(
            _actor(),
            meeting_id,
            form.private_notes.data,
            expected_revision=form.private_revision.data,
        ),
        page=lambda status, error=None: _meeting_page(
            meeting_id, status, conflict="private", error=error, private=form
        ),
        done=lambda _: _back(meeting_id, "Your private notes were saved.", "private-notes"),
        show=_fields(body="private_notes"),
    )


@bp.route("/meetings/<int:meeting_id>/actions", methods=["POST"])
@access.requires("coaching.use")
def add_action(meeting_id: int):
    """Add an action item for one of you two, with an optional due date."""
    form = ActionForm()
    return submit(
        form,
        lambda: content.add_action_item(
            _actor(),
            meeting_id,
            content.ActionInput(form.action.data, form.owner_id.data, form.due_on.data),
        ),
        page=lambda status, error=None: _meeting_page(meeting_id, status, action=form),
        done=lambda _: _back(meeting_id, "The action item was added.", "actions"),
        show=_fields(text="action"),
    )


@bp.route("/actions/<int:action_id>/done", methods=["POST"])
@access.requires("coaching.use")
def complete_action(action_id: int):
    """Mark an action item done (or open again), from the meeting it shows in."""
    done = request.form.get("done", "1") == "1"
    meeting_id = optional_id(request.form.get("meeting"))
    back = (
        url_for("oneonones.meeting", meeting_id=meeting_id, _anchor="actions")
        if meeting_id
        else url_for("oneonones.index")
    )

    def finished(_):
        flash("Marked done." if done else "Open again.", "success")
        return redirect(back)

    return act(
        lambda: content.complete_action_item(
            _actor(), action_id, done=done, in_meeting_id=meeting_id
        ),
        back=back,
        done=finished,
    )
