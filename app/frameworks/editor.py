"""For the head of product: create, import, edit drafts, publish, archive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from app import access
from app.extensions import db
from app.forms import apply_domain_error
from app.frameworks.forms import (
    AreaForm,
    CellForm,
    CompetencyForm,
    ConfirmForm,
    DecisionForm,
    DraftForm,
    ImportForm,
    LevelForm,
    MoveForm,
    NewAreaForm,
    NewFrameworkForm,
    NewTrackForm,
    RemoveForm,
    TrackForm,
    publish_form,
)
from app.models import FrameworkVersion
from app.services.errors import ConflictError, NotFoundError, ValidationError
from app.services.frameworks import editing, store, versions
from app.services.frameworks.document import MAX_BYTES, InvalidFrameworkError

bp = Blueprint("framework_editor", __name__, url_prefix="/frameworks")

DRAFT = "/<slug>/v<int:number>"
NOUNS = {
    "tracks": "track",
    "levels": "level",
    "decisions": "decision right",
    "areas": "area",
    "competencies": "competency",
}


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
    if form.validate_on_submit():
        try:
            version = editing.create_framework(_actor(), form.to_input())
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            slug, name = version.framework.slug, version.name
            db.session.commit()
            flash(f"{name} was created as draft version 1. Build it up from here.", "success")
            return redirect(_editor_url(slug, 1))
    return render_template("framework_editor/create.html", form=form)


@bp.route("/import", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def import_file():
    """Import a framework file (Rungs YAML, Monzo or CSV) as a draft, or publish it at once."""
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            imported = editing.import_upload(
                _actor(),
                upload.read(),
                filename=upload.filename or "",
                fmt=form.format.data,
                publish=form.publish.data,
                changelog=form.changelog.data or "",
            )
        except InvalidFrameworkError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            problems = error.report.errors
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            version = imported.version
            where = (version.framework.slug, version.number)
            message = _imported(version, len(imported.report.warnings), is_new=imported.is_new)
            db.session.commit()
            flash(message, "success")
            return redirect(_editor_url(*where, "warnings", show="warnings"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "framework_editor/import.html",
        form=form,
        problems=problems,
        max_megabytes=MAX_BYTES // (1024 * 1024),
    ), status


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
    version = _load(slug, number)
    report = editing.check(version)
    return render_template(
        "framework_editor/edit.html",
        version=version,
        grid=editing.grid(version),
        errors=editing.findings(version, report.errors),
        warnings=editing.findings(version, report.warnings),
        other_draft=None if version.is_draft else editing.other_draft(version),
        show_warnings=request.args.get("show") == "warnings",
        version_url=_version_url(slug, number),
        compare_url=_compare_url(version),
        confirm=ConfirmForm(),
    )


@dataclass
class Page:
    """How a draft form looks: a title (formatted with the context), its template, its button."""

    title: str
    context: Callable[[FrameworkVersion], dict] = lambda version: {}
    template: str = "framework_editor/form.html"
    submit: str = "Save"
    back: Callable[[FrameworkVersion], str] | None = None


def _form_page(
    slug: str,
    number: int,
    make_form: Callable[[FrameworkVersion], DraftForm],
    page: Page,
    save: Callable,
    *,
    fill: Callable | None = None,
    revision: Callable[[FrameworkVersion], int] = lambda version: version.revision,
):
    """Every draft form: show it, call one verb, commit, flash, back to the editor.

    `save(version, form)` returns (message, url). A stale form gets 409 with the stored values
    and the user's own still in the form; a refused edit shows why next to its field.
    """
    version = _load(slug, number)
    form = make_form(version)
    if not version.is_draft and not form.is_submitted():  # a POST gets the verb's refusal
        flash(editing.locked_message(version), "error")
        return redirect(_editor_url(slug, number))
    if not form.is_submitted():
        if fill is not None:
            fill(version, form)
        form.revision.data = revision(version)
    if form.validate_on_submit():
        try:
            message, url = save(version, form)
        except ConflictError as error:
            return _conflict(slug, number, form, page, error, revision)
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            version = _load(slug, number)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url)
    return _render(page, form, version)


def _conflict(slug, number, form, page, error: ConflictError, revision):
    db.session.rollback()
    version = _load(slug, number)
    try:
        form.revision.data = revision(version)  # saving again now replaces theirs, knowingly
        return _render(page, form, version, conflict=error, status=409)
    except NotFoundError:
        return render_template(
            "framework_editor/gone.html", version=version, form=form, conflict=error
        ), 409


def _render(page: Page, form, version, *, conflict=None, status=200):
    context = page.context(version)
    back = page.back(version) if page.back else _editor_url(version.framework.slug, version.number)
    return render_template(
        page.template,
        form=form,
        version=version,
        title=page.title.format(**context),
        submit=page.submit,
        back_url=back,
        conflict=conflict,
        **context,
    ), status


def _revision(form) -> int:
    try:
        return int(form.revision.data)
    except (TypeError, ValueError):
        abort(400)


# --- tracks and levels --------------------------------------------------------------------------


@bp.route(f"{DRAFT}/tracks/new", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def add_track(slug: str, number: int):
    """Add a track (a career path) with its first level."""

    def save(version, form):
        track = editing.add_track(
            _actor(),
            version,
            form.to_input(),
            form.level_input(),
            expected_revision=_revision(form),
        )
        return f"The track {track.name} was added.", _editor_url(slug, number, f"track-{track.id}")

    page = Page("Add a track", submit="Add the track")
    return _form_page(slug, number, lambda v: NewTrackForm(), page, save)


@bp.route(f"{DRAFT}/tracks/<int:track_id>/edit", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def edit_track(slug: str, number: int, track_id: int):
    """Rename a track or change its key."""

    def save(version, form):
        track = editing.update_track(
            _actor(), version, track_id, form.to_input(), expected_revision=_revision(form)
        )
        return f"The track {track.name} was saved.", _editor_url(slug, number, f"track-{track_id}")

    page = Page(
        "Edit the track {track.name}", lambda v: {"track": editing.find(v, "tracks", track_id)}
    )
    return _form_page(
        slug, number, lambda v: TrackForm(), page, save, fill=_fill("tracks", track_id)
    )


@bp.route(f"{DRAFT}/tracks/<int:track_id>/levels/new", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def add_level(slug: str, number: int, track_id: int):
    """Add a level to a track; it takes its place by rank and gets an empty cell per competency."""

    def save(version, form):
        level = editing.add_level(
            _actor(), version, track_id, form.to_input(), expected_revision=_revision(form)
        )
        return f"The level {level.code} was added.", _editor_url(slug, number, f"level-{level.id}")

    page = Page(
        "Add a level to {track.name}",
        lambda v: {"track": editing.find(v, "tracks", track_id)},
        submit="Add the level",
    )
    return _form_page(slug, number, lambda v: LevelForm(), page, save)


@bp.route(f"{DRAFT}/levels/<int:level_id>/edit", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def edit_level(slug: str, number: int, level_id: int):
    """Edit a level's code, title, rank and role attributes; list its decision rights."""

    def save(version, form):
        level = editing.update_level(
            _actor(), version, level_id, form.to_input(), expected_revision=_revision(form)
        )
        return f"The level {level.code} was saved.", _editor_url(slug, number, f"level-{level_id}")

    page = Page(
        "Edit the level {level.code}",
        lambda v: _level_context(v, level_id),
        template="framework_editor/level.html",
    )
    return _form_page(
        slug,
        number,
        lambda v: LevelForm(),
        page,
        save,
        fill=lambda v, f: f.process(obj=_level(v, level_id)),
    )


def _level(version, level_id):
    return editing.find(version, "levels", level_id)[1]


def _level_context(version, level_id) -> dict:
    track, level = editing.find(version, "levels", level_id)
    return {"track": track, "level": level, "confirm": ConfirmForm()}


def _level_url(slug: str, number: int, level_id: int) -> str:
    return url_for(".edit_level", slug=slug, number=number, level_id=level_id, _anchor="decisions")


@bp.route(f"{DRAFT}/levels/<int:level_id>/decisions/new", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def add_decision(slug: str, number: int, level_id: int):
    """Add a decision right to a level: the decision, the DACI role, the delegation level."""

    def save(version, form):
        editing.add_decision(
            _actor(), version, level_id, form.to_input(), expected_revision=_revision(form)
        )
        return "The decision right was added.", _level_url(slug, number, level_id)

    page = Page(
        "Add a decision right to {level.code}",
        lambda v: _level_context(v, level_id),
        submit="Add the decision right",
        back=lambda v: _level_url(slug, number, level_id),
    )
    return _form_page(slug, number, lambda v: DecisionForm(), page, save)


@bp.route(f"{DRAFT}/decisions/<int:decision_id>/edit", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def edit_decision(slug: str, number: int, decision_id: int):
    """Change a decision right of a level."""

    def save(version, form):
        editing.update_decision(
            _actor(), version, decision_id, form.to_input(), expected_revision=_revision(form)
        )
        level, _right = editing.find(version, "decisions", decision_id)
        return "The decision right was saved.", _level_url(slug, number, level.id)

    def context(version):
        level, right = editing.find(version, "decisions", decision_id)
        return {"level": level, "right": right}

    page = Page(
        "Edit a decision right of {level.code}",
        context,
        back=lambda v: _level_url(slug, number, context(v)["level"].id),
    )

    def fill(version, form):
        form.process(obj=context(version)["right"])

    return _form_page(slug, number, lambda v: DecisionForm(), page, save, fill=fill)


# --- areas and competencies ---------------------------------------------------------------------


@bp.route(f"{DRAFT}/areas/new", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def add_area(slug: str, number: int):
    """Add a competency area with its first competency."""

    def save(version, form):
        area = editing.add_area(
            _actor(),
            version,
            form.to_input(),
            form.competency_input(),
            expected_revision=_revision(form),
        )
        return f"The area {area.name} was added.", _editor_url(slug, number, f"area-{area.id}")

    page = Page("Add a competency area", submit="Add the area")
    return _form_page(slug, number, lambda v: NewAreaForm(), page, save)


@bp.route(f"{DRAFT}/areas/<int:area_id>/edit", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def edit_area(slug: str, number: int, area_id: int):
    """Rename a competency area, change its key or description."""

    def save(version, form):
        area = editing.update_area(
            _actor(), version, area_id, form.to_input(), expected_revision=_revision(form)
        )
        return f"The area {area.name} was saved.", _editor_url(slug, number, f"area-{area_id}")

    page = Page("Edit the area {area.name}", lambda v: {"area": editing.find(v, "areas", area_id)})
    return _form_page(slug, number, lambda v: AreaForm(), page, save, fill=_fill("areas", area_id))


@bp.route(f"{DRAFT}/areas/<int:area_id>/competencies/new", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def add_competency(slug: str, number: int, area_id: int):
    """Add a competency to an area, with an empty cell at every level of its tracks."""

    def save(version, form):
        competency = editing.add_competency(
            _actor(), version, form.to_input(), expected_revision=_revision(form)
        )
        anchor = f"competency-{competency.id}"
        return f"The competency {competency.name} was added.", _editor_url(slug, number, anchor)

    def fill(version, form):
        form.area_id.data = editing.find(version, "areas", area_id).id
        form.track_ids.data = [track.id for track in version.tracks]

    page = Page(
        "Add a competency to {area.name}",
        lambda v: {"area": editing.find(v, "areas", area_id), "adding": True},
        template="framework_editor/competency.html",
        submit="Add the competency",
    )
    return _form_page(slug, number, _competency_form, page, save, fill=fill)


@bp.route(f"{DRAFT}/competencies/<int:competency_id>/edit", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def edit_competency(slug: str, number: int, competency_id: int):
    """Rename or describe a competency, move it to another area, choose its tracks."""

    def save(version, form):
        competency = editing.update_competency(
            _actor(), version, competency_id, form.to_input(), expected_revision=_revision(form)
        )
        anchor = f"competency-{competency_id}"
        return f"The competency {competency.name} was saved.", _editor_url(slug, number, anchor)

    def context(version):
        area, competency = editing.find(version, "competencies", competency_id)
        return {"area": area, "competency": competency}

    def fill(version, form):
        competency = context(version)["competency"]
        form.process(obj=competency)
        form.track_ids.data = [track.id for track in competency.tracks]

    page = Page(
        "Edit the competency {competency.name}",
        context,
        template="framework_editor/competency.html",
    )
    return _form_page(slug, number, _competency_form, page, save, fill=fill)


def _competency_form(version) -> CompetencyForm:
    form = CompetencyForm()
    form.set_choices(version)
    return form


def _fill(kind: str, item_id: int):
    def fill(version, form):
        form.process(obj=editing.find(version, kind, item_id))

    return fill


# --- cells --------------------------------------------------------------------------------------


@bp.route(f"{DRAFT}/cells/<int:expectation_id>", methods=["GET", "POST"])
@access.requires("frameworks.manage")
def cell(slug: str, number: int, expectation_id: int):
    """Write one cell of the matrix: its status, its text and its indicators."""

    def save(version, form):
        editing.update_cell(
            _actor(), version, expectation_id, form.to_input(), expected_revision=_revision(form)
        )
        place = editing.cell_place(version, expectation_id)
        message = f"{place.competency.name} at {place.level.code} was saved."
        if "save_next" in request.form and place.next is not None:
            following = place.next[1].id
            return message, url_for(".cell", slug=slug, number=number, expectation_id=following)
        return message, _editor_url(slug, number, f"cell-{expectation_id}")

    def place_of(version):
        return editing.cell_place(version, expectation_id)

    page = Page(
        "{place.competency.name} at {place.level.code}",
        lambda v: {"place": place_of(v)},
        template="framework_editor/cell.html",
    )
    return _form_page(
        slug,
        number,
        lambda v: CellForm(),
        page,
        save,
        fill=lambda v, f: f.fill(editing.cell_snapshot(place_of(v).cell)),
        revision=lambda v: place_of(v).cell.revision,
    )


# --- moving and removing ------------------------------------------------------------------------


@bp.route(
    f"{DRAFT}/<any(tracks, levels, areas, competencies):kind>/<int:item_id>/move",
    methods=["POST"],
)
@access.requires("frameworks.manage")
def move(slug: str, number: int, kind: str, item_id: int):
    """Move a track, level, area or competency one place up or down."""
    version = _load(slug, number)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    direction = form.direction.data
    try:
        name = editing.move(
            _actor(), version, kind, item_id, direction, expected_revision=_revision(form)
        )
    except ConflictError as error:
        db.session.rollback()
        version = _load(slug, number)
        form.revision.data = version.revision
        return render_template(
            "framework_editor/moved_conflict.html",
            version=version,
            form=form,
            conflict=error,
            noun=NOUNS[kind],
        ), 409
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"{name} moved {direction}.", "success")
    return redirect(_editor_url(slug, number, f"{NOUNS[kind]}-{item_id}"))


@bp.route(
    f"{DRAFT}/<any(tracks, levels, decisions, areas, competencies):kind>/<int:item_id>/remove",
    methods=["GET", "POST"],
)
@access.requires("frameworks.manage")
def remove(slug: str, number: int, kind: str, item_id: int):
    """Confirm, then remove a part of the draft with everything that hangs off it."""
    noun = NOUNS[kind]

    def save(version, form):
        decision = editing.index(version).decisions.get(item_id)  # to go back to its level
        name = editing.remove(
            _actor(),
            version,
            kind,
            item_id,
            expected_revision=_revision(form),
            confirmed=form.confirm.data,
        )
        back = _section_url(slug, number, kind, decision[0] if decision else None)
        return f"The {noun} {name} was removed.", back

    page = Page(
        "Remove the {noun} {removal.name}",
        lambda v: {"removal": editing.removal(v, kind, item_id), "noun": noun},
        template="framework_editor/remove.html",
        submit=f"Remove the {noun}",
    )
    return _form_page(slug, number, lambda v: RemoveForm(), page, save)


def _section_url(slug: str, number: int, kind: str, parent) -> str:
    if kind == "decisions":
        return _level_url(slug, number, parent.id)
    section = "tracks" if kind in ("tracks", "levels") else "areas"
    return _editor_url(slug, number, section)


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
    refusal = None
    if form.validate_on_submit():
        try:
            versions.publish(
                _actor(),
                version,
                changelog=form.changelog.data,
                mapping=form.mapping(stranded),
                expected_revision=_revision(form),
            )
        except ValidationError as error:  # and LevelMappingRequiredError, a kind of it
            refusal = error
        except ConflictError as error:
            refusal = error
        else:
            db.session.commit()
            flash(f"Version {number} of {version.name} is published.", "success")
            return redirect(_version_url(slug, number))
        db.session.rollback()
        version = _load(slug, number)
        if isinstance(refusal, versions.LevelMappingRequiredError):
            stranded = refusal.stranded  # someone was placed meanwhile: ask for them too
            form = publish_form(stranded, _levels(version))
        form.revision.data = version.revision
    return _publish_page(version, form, stranded, refusal)


def _publish_page(version, form, stranded, refusal):
    report = editing.check(version)
    is_conflict = isinstance(refusal, ConflictError)
    return render_template(
        "framework_editor/publish.html",
        version=version,
        published=versions.published_version(version.framework_id),
        compare_url=_compare_url(version),
        form=form,
        stranded=stranded,
        errors=editing.findings(version, report.errors),
        warnings=editing.findings(version, report.warnings),
        refusal=refusal,
        is_conflict=is_conflict,
    ), (409 if is_conflict else 200)


def _levels(version: FrameworkVersion) -> list:
    return [level for track in version.tracks for level in track.levels]


@bp.route(f"{DRAFT}/archive", methods=["POST"])
@access.requires("frameworks.manage")
def archive(slug: str, number: int):
    """Archive a version: a draft is set aside, a published version retired."""
    version = _load(slug, number)
    try:
        versions.archive(_actor(), version)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_editor_url(slug, number))
    db.session.commit()
    flash(f"Version {number} is archived.", "success")
    return redirect(_version_url(slug, number))


@bp.route(f"{DRAFT}/new-draft", methods=["POST"])
@access.requires("frameworks.manage")
def new_draft(slug: str, number: int):
    """Start a new draft from this version; the version itself stays as it is."""
    version = _load(slug, number)
    try:
        draft = versions.new_draft(_actor(), version)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_editor_url(slug, number))
    draft_number = draft.number
    db.session.commit()
    flash(f"Version {draft_number} is a new draft, a copy of version {number}.", "success")
    return redirect(_editor_url(slug, draft_number))


# --- addresses ----------------------------------------------------------------------------------


def _editor_url(slug: str, number: int, anchor: str | None = None, **args) -> str:
    return url_for(".edit", slug=slug, number=number, _anchor=anchor, **args)


def _compare_url(version: FrameworkVersion) -> str | None:
    """The diff from the published version to this draft, when there is one to compare with."""
    published = versions.published_version(version.framework_id)
    if not version.is_draft or published is None:
        return None
    args = {"slug": version.framework.slug, "from": published.number, "to": version.number}
    try:
        return url_for("framework_history.diff", **args)
    except BuildError:
        return None


def _version_url(slug: str, number: int) -> str:
    """The version page (the reading blueprint's); its literal path until that page exists."""
    try:
        return url_for("frameworks.version", slug=slug, number=number)
    except BuildError:
        return f"{url_for('frameworks.index')}{slug}/v{number}/"
