"""For the head of product: create, import, the whole draft on one page, publish, archive.

The forms of the draft's parts (tracks, levels … cells) are one table in parts.py; their views
(part_views.py) are registered on this blueprint at the end of this module.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import access
from app.core.errors import ConflictError
from app.forms import act, saved, submit
from app.frameworks import part_views
from app.frameworks.forms import ConfirmForm, ImportForm, NewFrameworkForm, publish_form
from app.models import FrameworkVersion
from app.services.frameworks import editing, store, versions
from app.services.frameworks.document import MAX_BYTES, InvalidFrameworkError, shown_errors

bp = Blueprint("framework_editor", __name__, url_prefix="/frameworks")

DRAFT = part_views.DRAFT


def _actor():
    return current_user._get_current_object()


def _load(slug: str, number: int) -> FrameworkVersion:
    return store.version_for(_actor(), slug, number)


# --- a new framework, an imported file ----------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def create():
    """Start a framework from scratch: draft version 1 with a first track, level and competency."""
    form = NewFrameworkForm()

    def page(status: int, error=None):
        return render_template("framework_editor/create.html", form=form), status

    def save():
        version = editing.create_framework(_actor(), form.to_input())
        return version.framework.slug, version.name  # read before the commit unloads them

    def done(created):
        slug, name = created
        message = f"{name} was created as draft version 1. Build it up from here."
        return saved(message, ".edit", slug=slug, number=1)

    return submit(form, save, page=page, done=done)


@bp.route("/import", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def import_file():
    """Import a framework file (Rungs YAML, Monzo or CSV) as a draft, or publish it at once."""
    form = ImportForm()

    def page(status: int, error=None):
        problems, more = [], 0
        if isinstance(error, InvalidFrameworkError):
            problems, more = shown_errors(error.report)
        return render_template(
            "framework_editor/import.html",
            form=form,
            problems=problems,
            more=more,
            total=len(problems) + more,
            max_megabytes=MAX_BYTES // (1024 * 1024),
        ), status

    def save():
        upload = form.file.data
        imported = editing.import_upload(
            _actor(),
            upload.read(),
            filename=upload.filename or "",
            fmt=form.format.data,
            publish=form.publish.data,
            changelog=form.changelog.data or "",
        )
        version = imported.version
        message = _imported(version, len(imported.report.warnings), is_new=imported.is_new)
        return message, version.framework.slug, version.number

    def done(imported):
        message, slug, number = imported
        return saved(
            message, ".edit", slug=slug, number=number, show="warnings", _anchor="warnings"
        )

    return submit(form, save, page=page, done=done)


def _imported(version: FrameworkVersion, warnings: int, *, is_new: bool = True) -> str:
    state = version.status.value if not version.is_draft else "a draft"
    if not is_new:
        return (
            f"The file is identical to version {version.number} ({state}), "
            "so no new draft was made."
        )
    if not warnings:
        return f"{version.name} was imported as version {version.number} ({state}), no warnings."
    noun = "warning" if warnings == 1 else "warnings"
    return (
        f"{version.name} was imported as version {version.number} ({state}) "
        f"with {warnings} {noun}; they are listed below."
    )


# --- the editor ---------------------------------------------------------------------------------


@bp.route(f"{DRAFT}/edit")
@access.requires("frameworks.manage")
def edit(slug: str, number: int):
    """The whole draft on one page: tracks and levels, areas and competencies, the cell grid."""
    page = editing.editor_page(_actor(), slug, number)
    return render_template(
        "framework_editor/edit.html",
        version=page.version,
        grid=page.grid,
        errors=page.errors,
        warnings=page.warnings,
        other_draft=page.other_draft,
        show_warnings=request.args.get("show") == "warnings",
        version_url=url_for("frameworks.version", slug=slug, number=number),
        compare_url=_compare_url(page.version, page.published),
        confirm=ConfirmForm(),
    )


# --- publishing, archiving, new drafts ----------------------------------------------------------


@bp.route(f"{DRAFT}/publish", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def publish(slug: str, number: int):
    """Publish a draft with a changelog; people on levels that go away get a new level first."""
    version = _load(slug, number)
    if not version.is_draft:
        flash(editing.locked_message(version), "error")
        return redirect(_editor_url(slug, number))
    stranded = versions.stranded_people(version)
    form = publish_form(stranded, _levels(version))
    if not form.is_submitted():
        form.revision.data = version.revision

    def page(status: int, error=None):
        nonlocal form, stranded
        shown = version if error is None else _load(slug, number)  # read again after a rollback
        if isinstance(error, versions.LevelMappingRequiredError):
            stranded = error.stranded  # someone was placed meanwhile: ask for them too
            form = publish_form(stranded, _levels(shown))
        if error is not None:
            form.revision.data = shown.revision
        return _publish_page(shown, form, stranded, error), status

    def save():
        versions.publish(
            _actor(),
            version,
            changelog=form.changelog.data,
            mapping=form.mapping(stranded),
            expected_revision=_revision(form),
        )

    message = f"Version {number} of {version.name} is published."
    return submit(
        form,
        save,
        page=page,
        done=lambda _: saved(message, "frameworks.version", slug=slug, number=number),
    )


def _publish_page(version, form, stranded, refusal):
    page = editing.publish_page(version)
    is_conflict = isinstance(refusal, ConflictError)
    if refusal is not None and refusal.message in form.form_errors:
        form.form_errors.remove(refusal.message)  # said once, above the form
    return render_template(
        "framework_editor/publish.html",
        version=version,
        published=page.published,
        compare_url=_compare_url(version, page.published),
        form=form,
        stranded=stranded,
        errors=page.errors,
        warnings=page.warnings,
        refusal=refusal,
        is_conflict=is_conflict,
    )


def _levels(version: FrameworkVersion) -> list:
    return [level for track in version.tracks for level in track.levels]


@bp.route(f"{DRAFT}/archive", methods=["POST"])
@access.requires("frameworks.manage")
def archive(slug: str, number: int):
    """Archive a version: a draft is set aside, a published version retired."""
    version = _load(slug, number)
    return act(
        lambda: versions.archive(_actor(), version),
        back=_editor_url(slug, number),
        done=lambda _: saved(
            f"Version {number} is archived.", "frameworks.version", slug=slug, number=number
        ),
    )


@bp.route(f"{DRAFT}/new-draft", methods=["POST"])
@access.requires("frameworks.manage")
def new_draft(slug: str, number: int):
    """Start a new draft from this version; the version itself stays as it is."""
    version = _load(slug, number)

    def save() -> int:
        return versions.new_draft(_actor(), version).number

    return act(
        save,
        back=_editor_url(slug, number),
        done=lambda draft: saved(
            f"Version {draft} is a new draft, a copy of version {number}.",
            ".edit",
            slug=slug,
            number=draft,
        ),
    )


# --- addresses ----------------------------------------------------------------------------------


def _revision(form) -> int:
    try:
        return int(form.revision.data)
    except (TypeError, ValueError):
        abort(400)


def _editor_url(slug: str, number: int, anchor: str | None = None) -> str:
    return url_for(".edit", slug=slug, number=number, _anchor=anchor)


def _compare_url(version: FrameworkVersion, published: FrameworkVersion | None) -> str | None:
    """The diff from the published version to this draft, when there is one to compare with."""
    if not version.is_draft or published is None:
        return None
    args = {"slug": version.framework.slug, "from": published.number, "to": version.number}
    return url_for("framework_history.diff", **args)


part_views.register(bp)
