"""Evidence pages: log, show, edit, history, the Trash and the owner's timeline."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from app import access
from app.attachments.forms import AttachmentForm
from app.core.errors import ConflictError
from app.evidence.forms import VISIBILITY_HINTS, EvidenceForm, TimelineFilterForm, by_area
from app.forms import act, saved, submit
from app.infra import markdown
from app.models import EvidenceKind, Visibility
from app.request_input import page_number
from app.services import evidence
from app.services.evidence import pages as evidence_pages
from app.services.evidence import timeline as evidence_timeline
from app.services.evidence.timeline import TimelineFilters

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

UNDO_KEY = "evidence_undo"  # the item just moved to the Trash, offered for restoring once


def _actor():
    return current_user._get_current_object()


@bp.app_template_filter("evidence_excerpt")
def excerpt(text: str) -> str:
    """A short plain-text excerpt of a markdown body, for lists."""
    return markdown.plain_excerpt(text, 180)


@bp.app_template_filter("body_excerpt")
def body_excerpt(item) -> str:
    """The same excerpt of an item's body, read from its stored HTML (no markdown parsed)."""
    return markdown.html_excerpt(item.html("body"), 180)


@bp.app_template_filter("evidence_host")
def host(url: str) -> str:
    """The site a link goes to, shown next to its label."""
    return urlsplit(url).hostname or ""


@bp.app_template_filter("evidence_day")
def iso_day(value: str) -> str:
    """A stored ISO date ("2026-03-02") as people read it ("2 Mar 2026")."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return value or ""
    return f"{day.day} {day.strftime('%b %Y')}"


@bp.route("/")
@access.requires("evidence.log")
def index():
    """Your evidence, newest first, with filters, search and pages."""
    form = TimelineFilterForm(request.args)
    form.set_competencies(evidence.competency_choices(current_user.id))
    undo = session.pop(UNDO_KEY, None)
    if not form.validate():
        return render_template("evidence/index.html", form=form, timeline=None, undo=undo), 400
    filters = _filters(form)
    page = evidence_pages.timeline_page(_actor(), filters, page_number())
    return render_template(
        "evidence/index.html",
        form=form,
        filters=filters,
        timeline=page.timeline,
        counts=page.counts,
        undo=undo,
        args=_filter_args(form),
    )


@bp.route("/new", methods=["GET", "POST"])
@access.requires("evidence.log")
def create():
    """Log an evidence item: what you did, what changed and which competencies it shows."""
    choices = evidence.competency_choices(current_user.id)
    if not choices:
        return render_template("evidence/not_placed.html")
    form = EvidenceForm()
    form.set_competencies(choices)
    if not form.is_submitted():
        form.start_as(request.args.get("kind"))
    return submit(
        form,
        lambda: evidence.record_evidence(_actor(), _input(form)),
        page=lambda status, error=None: _form_page(form, choices, None, status=status),
        done=lambda item: saved(_saved_message(item), "evidence.show", evidence_id=item.id),
    )


@bp.route("/<int:evidence_id>")
@access.requires("evidence.view")
def show(evidence_id: int):
    """One item: what happened, the outcome, its competencies, links, files and conversation."""
    page = evidence_pages.item_page(_actor(), evidence_id)
    form = AttachmentForm(formdata=None, prefix="attachment")
    return render_template(
        "evidence/show.html",
        page=page,
        attachment_form=form if page.attachments.may_manage else None,
    )


@bp.route("/<int:evidence_id>/edit", methods=["GET", "POST"])
@access.requires("evidence.edit")
def edit(evidence_id: int):
    """Change an item; saving over a newer save shows both versions first."""
    item = evidence_timeline.editable(_actor(), evidence_id)
    if item.in_trash:
        flash("This item is in the Trash; restore it to edit it.", "error")
        return redirect(url_for("evidence.show", evidence_id=evidence_id))
    choices = evidence.competency_choices(current_user.id)
    if not choices:
        return render_template("evidence/not_placed.html")
    form = EvidenceForm() if request.method == "POST" else EvidenceForm(obj=item)
    form.set_competencies(choices)
    if not form.is_submitted():
        form.competency_keys.data = [tag.competency_key for tag in item.competencies]
        form.add_blank_links()

    def page(status: int, error=None):
        conflict = error if isinstance(error, ConflictError) else None
        if conflict:
            form.revision.data = item.revision  # saving again now overwrites, knowingly
        return _form_page(form, choices, item, conflict=conflict, status=status)

    return submit(
        form,
        lambda: evidence.update_evidence(
            _actor(), item, _input(form), expected_revision=_int(form.revision.data)
        ),
        page=page,
        done=lambda _: saved(_saved_message(item), "evidence.show", evidence_id=evidence_id),
    )


@bp.route("/<int:evidence_id>/share", methods=["POST"])
@access.requires("evidence.edit")
def share(evidence_id: int):
    """Share a private draft with your manager and mentors, without opening the form."""
    item = evidence_timeline.editable(_actor(), evidence_id)
    title = item.title
    back = url_for("evidence.show", evidence_id=evidence_id)
    return act(
        lambda: evidence.share_evidence(_actor(), item),
        back=back,
        done=lambda _: saved(
            f"“{title}” is now shared with your manager and mentors.",
            "evidence.show",
            evidence_id=evidence_id,
        ),
    )


@bp.route("/<int:evidence_id>/delete", methods=["POST"])
@access.requires("evidence.edit")
def delete(evidence_id: int):
    """Move an item to the Trash, where its owner can restore it for 30 days."""
    item = evidence_timeline.editable(_actor(), evidence_id)
    title = item.title
    return act(
        lambda: evidence.trash_evidence(_actor(), item),
        back=url_for("evidence.trash"),
        done=lambda _: _trashed(evidence_id, title),
    )


def _trashed(evidence_id: int, title: str):
    session[UNDO_KEY] = {"id": evidence_id, "title": title}
    return saved(
        f"Moved to the Trash — restore it within {evidence.TRASH_DAYS} days.", "evidence.index"
    )


@bp.route("/<int:evidence_id>/restore", methods=["POST"])
@access.requires("evidence.edit")
def restore(evidence_id: int):
    """Bring an item back from the Trash."""
    item = evidence_timeline.editable(_actor(), evidence_id)
    title = item.title
    return act(
        lambda: evidence.restore_evidence(_actor(), item),
        back=url_for("evidence.show", evidence_id=evidence_id),
        done=lambda _: saved(f"“{title}” is back.", "evidence.show", evidence_id=evidence_id),
    )


@bp.route("/trash")
@access.requires("evidence.log")
def trash():
    """Your deleted items, restorable for 30 days; the purge command deletes older ones."""
    page = evidence_timeline.trash(_actor(), page=page_number())
    return render_template(
        "evidence/trash.html",
        page=page,
        days=evidence.TRASH_DAYS,
        purge_after=timedelta(days=evidence.TRASH_DAYS),
    )


@bp.route("/<int:evidence_id>/history")
@access.requires("evidence.view")
def history(evidence_id: int):
    """Every saved state of an item and what changed each time."""
    page = evidence_pages.history_page(_actor(), evidence_id)
    return render_template(
        "evidence/history.html", item=page.item, evidence=page.item.evidence, entries=page.entries
    )


# --- helpers ----------------------------------------------------------------------------------


def _form_page(form, choices, item, *, status: int, conflict=None):
    names = {choice.key: choice.name for choice in choices}
    page = render_template(
        "evidence/form.html",
        form=form,
        areas=by_area(choices),
        evidence=item,
        conflict=conflict,
        competency_names=names,
        visibility_hints=VISIBILITY_HINTS,
    )
    return page, status


def _input(form: EvidenceForm) -> evidence.EvidenceInput:
    return evidence.EvidenceInput(
        title=form.title.data or "",
        occurred_on=form.occurred_on.data,
        kind=EvidenceKind(form.kind.data),
        competency_keys=list(form.competency_keys.data or []),
        body=form.body.data or "",
        visibility=Visibility(form.visibility.data),
        metric=form.metric.data or "",
        metric_before=form.metric_before.data or "",
        metric_after=form.metric_after.data or "",
        metric_unit=form.metric_unit.data or "",
        links=form.link_pairs(),
    )


def _saved_message(item) -> str:
    if item.is_shared:
        return "Saved and shared with your manager and mentors."
    return "Saved as a private draft. Share it when it is ready."


def _filters(form: TimelineFilterForm) -> TimelineFilters:
    return TimelineFilters(
        search=form.q.data or "",
        competency=form.competency.data or "",
        kind=EvidenceKind(form.kind.data) if form.kind.data else None,
        visibility=Visibility(form.visibility.data) if form.visibility.data else None,
        since=form.since.data,
        until=form.until.data,
    )


def _filter_args(form: TimelineFilterForm) -> dict[str, str]:
    """The filters as query arguments, for page links that keep them."""
    values = {
        "q": (form.q.data or "").strip(),
        "competency": form.competency.data,
        "kind": form.kind.data,
        "visibility": form.visibility.data,
        "since": form.since.data.isoformat() if form.since.data else "",
        "until": form.until.data.isoformat() if form.until.data else "",
    }
    return {key: value for key, value in values.items() if value}


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)
