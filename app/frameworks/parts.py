"""The editor's table of parts (tracks, levels, decision rights, areas, competencies, cells) and
the add / edit / move / remove views written once over it; `register` puts them on the editor's
blueprint under the endpoints and addresses the templates use (add_level, /levels/<id>/edit …).

What a part is and how it changes is the service's (app/services/frameworks/editing/); this
table holds only how the editor shows it: its forms, its page titles and where it goes after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import policy
from app.forms import act, saved, submit
from app.frameworks.forms import (
    AreaForm,
    CellForm,
    CompetencyForm,
    DecisionForm,
    DraftForm,
    LevelForm,
    MoveForm,
    NewAreaForm,
    NewTrackForm,
    RemoveForm,
    TrackForm,
)
from app.models import FrameworkVersion
from app.services.errors import ConflictError, NotFoundError
from app.services.frameworks import editing, store

DRAFT = "/<slug>/v<int:number>"


@dataclass(frozen=True)
class PartView:
    """How the editor shows one kind of part; `kind` is its name in the service's registry."""

    kind: str
    name: str  # in endpoints (add_level, edit_level) and in the editor's anchors (#level-3)
    edit_path: str  # below the draft's address; its one variable is the part's id
    form: type[DraftForm]
    edit_title: str  # formatted with the template's names, such as "Edit the level {level.code}"
    names: tuple[str, str]  # what the templates call the parent and the part
    add_path: str | None = None  # its variable, if any, is the parent's id
    new_form: type[DraftForm] | None = None
    add_title: str = ""
    add_button: str = ""
    template: str = "framework_editor/form.html"
    on_add: str = ""  # formatted like the titles
    on_save: str = ""
    edit_endpoint: str = ""  # edit_<name> unless given
    is_on_level_page: bool = False  # its forms come from, and go back to, its level's page

    @property
    def part(self) -> editing.Part:
        return editing.PARTS[self.kind]


TABLE = (
    PartView(
        "tracks",
        "track",
        "/tracks/<int:track_id>/edit",
        TrackForm,
        "Edit the track {track.name}",
        ("version", "track"),
        add_path="/tracks/new",
        new_form=NewTrackForm,
        add_title="Add a track",
        add_button="Add the track",
        on_add="The track {track.name} was added.",
        on_save="The track {track.name} was saved.",
    ),
    PartView(
        "levels",
        "level",
        "/levels/<int:level_id>/edit",
        LevelForm,
        "Edit the level {level.code}",
        ("track", "level"),
        add_path="/tracks/<int:track_id>/levels/new",
        new_form=LevelForm,
        add_title="Add a level to {track.name}",
        add_button="Add the level",
        on_add="The level {level.code} was added.",
        on_save="The level {level.code} was saved.",
    ),
    PartView(
        "decisions",
        "decision",
        "/decisions/<int:decision_id>/edit",
        DecisionForm,
        "Edit a decision right of {level.code}",
        ("level", "right"),
        add_path="/levels/<int:level_id>/decisions/new",
        new_form=DecisionForm,
        add_title="Add a decision right to {level.code}",
        add_button="Add the decision right",
        on_add="The decision right was added.",
        on_save="The decision right was saved.",
        is_on_level_page=True,
    ),
    PartView(
        "areas",
        "area",
        "/areas/<int:area_id>/edit",
        AreaForm,
        "Edit the area {area.name}",
        ("version", "area"),
        add_path="/areas/new",
        new_form=NewAreaForm,
        add_title="Add a competency area",
        add_button="Add the area",
        on_add="The area {area.name} was added.",
        on_save="The area {area.name} was saved.",
    ),
    PartView(
        "competencies",
        "competency",
        "/competencies/<int:competency_id>/edit",
        CompetencyForm,
        "Edit the competency {competency.name}",
        ("area", "competency"),
        add_path="/areas/<int:area_id>/competencies/new",
        new_form=CompetencyForm,
        add_title="Add a competency to {area.name}",
        add_button="Add the competency",
        on_add="The competency {competency.name} was added.",
        on_save="The competency {competency.name} was saved.",
        template="framework_editor/competency.html",
    ),
    PartView(
        "cells",
        "cell",
        "/cells/<int:expectation_id>",
        CellForm,
        "{place.competency.name} at {place.level.code}",
        ("competency", "cell"),
        template="framework_editor/cell.html",
        on_save="{place.competency.name} at {place.level.code} was saved.",
        edit_endpoint="cell",
    ),
)
VIEWS = {view.kind: view for view in TABLE}
# The level page is a form of its own (level.html) that lists the level's decision rights.
LEVEL_TEMPLATE = "framework_editor/level.html"


def _actor():
    return current_user._get_current_object()


def register(bp) -> None:
    """Every part's add and edit views, and the move and remove views, on the editor."""
    for view in TABLE:
        if view.add_path:
            bp.add_url_rule(
                DRAFT + view.add_path, f"add_{view.name}", _add_view(view), methods=["GET", "POST"]
            )
        endpoint = view.edit_endpoint or f"edit_{view.name}"
        bp.add_url_rule(DRAFT + view.edit_path, endpoint, _edit_view(view), methods=["GET", "POST"])
    movable = ", ".join(v.kind for v in TABLE if v.part.can_move)
    removable = ", ".join(v.kind for v in TABLE if v.part.can_remove)
    bp.add_url_rule(
        f"{DRAFT}/<any({movable}):kind>/<int:item_id>/move", "move", move, methods=["POST"]
    )
    bp.add_url_rule(
        f"{DRAFT}/<any({removable}):kind>/<int:item_id>/remove",
        "remove",
        remove,
        methods=["GET", "POST"],
    )


# --- the views ----------------------------------------------------------------------------------


def _add_view(view: PartView):
    @policy.requires("frameworks.manage")
    def add(slug: str, number: int, **parent_id):
        """Add a part to the draft: a track, a level, a decision right, an area, a competency."""
        under = next(iter(parent_id.values()), None)

        def save(version, form):
            item = editing.add(
                _actor(), version, view.kind, form.to_input(), under=under,
                expected_revision=_revision(form),
            )  # fmt: skip
            return _after(view, view.on_add, editing.part_page(version, view.kind, item_id=item.id))

        return _form_page(
            slug,
            number,
            view.new_form.for_version,
            lambda version: editing.part_page(version, view.kind, under=under),
            Screen(view.template, view.add_title, view.add_button, view),
            save,
        )

    return add


def _edit_view(view: PartView):
    @policy.requires("frameworks.manage")
    def edit(slug: str, number: int, **item_id):
        """Change a part of the draft; a cell is written here too."""
        (item_id,) = item_id.values()

        def read(version):
            return editing.part_page(version, view.kind, item_id=item_id)

        def save(version, form):
            editing.update(
                _actor(), version, view.kind, item_id, form.to_input(),
                expected_revision=_revision(form),
            )  # fmt: skip
            return _after(view, view.on_save, read(version))

        template = LEVEL_TEMPLATE if view.kind == "levels" else view.template
        screen = Screen(template, view.edit_title, "Save", view)
        return _form_page(slug, number, view.form.for_version, read, screen, save)

    return edit


@policy.requires("frameworks.manage")
def move(slug: str, number: int, kind: str, item_id: int):
    """Move a track, level, area or competency one place up or down."""
    version = store.version_for(_actor(), slug, number)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    direction, anchor = form.direction.data, f"{VIEWS[kind].name}-{item_id}"
    return act(
        lambda: editing.move(
            _actor(), version, kind, item_id, direction, expected_revision=_revision(form)
        ),
        back=_editor_url(slug, number, anchor),
        done=lambda name: saved(
            f"{name} moved {direction}.", ".edit", slug=slug, number=number, _anchor=anchor
        ),
        conflict=lambda error: _moved_meanwhile(slug, number, form, error, VIEWS[kind]),
    )


@policy.requires("frameworks.manage")
def remove(slug: str, number: int, kind: str, item_id: int):
    """Confirm, then remove a part of the draft with everything that hangs off it."""
    view = VIEWS[kind]
    noun = view.part.noun

    def save(version, form):
        parent, _item = editing.Index(version).get(kind, item_id) or (None, None)
        name = editing.remove(
            _actor(), version, kind, item_id, expected_revision=_revision(form),
            confirmed=form.confirm.data,
        )  # fmt: skip
        message = f"The {noun} {name} was removed."
        if view.is_on_level_page:
            return partial(_go, message, _level_url(version, parent))
        section = "tracks" if kind in ("tracks", "levels") else "areas"
        return partial(_go, message, _editor_url(slug, number, section))

    return _form_page(
        slug,
        number,
        lambda version: RemoveForm(),
        lambda version: editing.part_page(version, kind, item_id=item_id, removing=True),
        Screen(
            "framework_editor/remove.html",
            "Remove the {noun} {removal.name}",
            f"Remove the {noun}",
            view,
            is_removal=True,
        ),
        save,
    )


# --- one shape for every draft form -------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """A form page: its template, its title (formatted with the page's names), its button."""

    template: str
    title: str
    button: str
    view: PartView
    is_removal: bool = False


def _form_page(
    slug: str,
    number: int,
    make_form: Callable[[FrameworkVersion], DraftForm],
    read: Callable[[FrameworkVersion], editing.PartPage],
    screen: Screen,
    save: Callable,
):
    """Every draft form: show it, call one verb, commit, flash, go back.

    `save(version, form)` returns the answer to give after the commit. A stale form gets 409
    with the stored values and the user's own still in the form (or, when the part is gone
    meanwhile, what they typed); a refused edit shows why next to its field.
    """
    version = store.version_for(_actor(), slug, number)
    form = make_form(version)
    if not version.is_draft and not form.is_submitted():  # a POST gets the verb's refusal
        flash(editing.locked_message(version), "error")
        return redirect(_editor_url(slug, number))

    def page(status: int, error=None):
        now = version if error is None else store.version_for(_actor(), slug, number)
        try:
            shown = read(now)
        except NotFoundError:
            if status != 409:
                raise
            return render_template(
                "framework_editor/gone.html", version=now, form=form, conflict=error
            ), 409
        if status == 200:
            form.fill(shown)
        if status != 400:  # on a conflict, saving again now replaces theirs, knowingly
            form.revision.data = shown.revision
        conflict = error if isinstance(error, ConflictError) else None
        return _render(screen, form, shown, conflict), status

    return submit(form, lambda: save(version, form), page=page, done=lambda answer: answer())


def _render(screen: Screen, form, shown: editing.PartPage, conflict):
    names = _names(screen.view, shown, is_removal=screen.is_removal)
    return render_template(
        screen.template,
        form=form,
        title=screen.title.format(**names),
        submit=screen.button,
        back_url=_back(screen, shown),
        conflict=conflict,
        **names,
    )


def _names(view: PartView, shown: editing.PartPage, *, is_removal: bool = False) -> dict:
    """The template's names: the parent and the part by their kind (track, level …)."""
    parent, item = view.names
    names = {"version": shown.version, "adding": shown.item is None, "place": shown.cell}
    names[parent] = shown.parent  # a track's or an area's parent is the version itself
    if shown.item is not None:
        names[item] = shown.item
    if is_removal:
        names |= {"removal": shown.removal, "noun": view.part.noun}
    return names


def _back(screen: Screen, shown: editing.PartPage) -> str:
    version = shown.version
    if screen.view.is_on_level_page and not screen.is_removal:
        return _level_url(shown.version, shown.parent)
    return _editor_url(version.framework.slug, version.number)


def _after(view: PartView, message: str, shown: editing.PartPage):
    """What to answer once saved, worked out before the commit (which unloads the draft)."""
    item, version = shown.item, shown.version
    said = message.format(**_names(view, shown))
    slug, number = version.framework.slug, version.number
    if view.is_on_level_page:
        return partial(_go, said, _level_url(shown.version, shown.parent))
    following = shown.cell.next if shown.cell else None
    if "save_next" in request.form and following is not None:
        return partial(
            saved, said, ".cell", slug=slug, number=number, expectation_id=following[1].id
        )
    return partial(_go, said, _editor_url(slug, number, f"{view.name}-{item.id}"))


def _go(message: str, url: str):
    flash(message, "success")
    return redirect(url)


def _moved_meanwhile(slug, number, form, error: ConflictError, view: PartView):
    version = store.version_for(_actor(), slug, number)
    form.revision.data = version.revision
    return render_template(
        "framework_editor/moved_conflict.html",
        version=version,
        form=form,
        conflict=error,
        noun=view.part.noun,
    ), 409


def _revision(form) -> int:
    try:
        return int(form.revision.data)
    except (TypeError, ValueError):
        abort(400)


def _editor_url(slug: str, number: int, anchor: str | None = None) -> str:
    return url_for(".edit", slug=slug, number=number, _anchor=anchor)


def _level_url(version: FrameworkVersion, level) -> str:
    """The level's page, at its decision rights."""
    slug, number = version.framework.slug, version.number
    return url_for(".edit_level", slug=slug, number=number, level_id=level.id, _anchor="decisions")
