"""The add / edit / move / remove views of the editor, written once over the table of parts
(parts.py); `register` puts them on the editor's blueprint under the endpoints and addresses the
templates use (add_level, edit_level: /tracks/<id>/levels/new, /levels/<id>/edit …)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import access
from app.core.errors import ConflictError, NotFoundError
from app.forms import act, saved, submit
from app.frameworks.forms import DraftForm
from app.frameworks.part_forms import MoveForm, RemoveForm
from app.frameworks.parts import DRAFT, TABLE, VIEWS, PartView
from app.models import FrameworkVersion
from app.services.frameworks import editing, store


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
    @access.requires("frameworks.manage")
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
    @access.requires("frameworks.manage")
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

        screen = Screen(view.edit_template or view.template, view.edit_title, "Save", view)
        return _form_page(slug, number, view.form.for_version, read, screen, save)

    return edit


@access.requires("frameworks.manage")
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


@access.requires("frameworks.manage")
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
            return _to_level(message, version, parent)
        section = "tracks" if kind in ("tracks", "levels") else "areas"
        return partial(saved, message, ".edit", slug=slug, number=number, _anchor=section)

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
    slug, number = version.framework.slug, version.number
    if screen.view.is_on_level_page and not screen.is_removal:
        return url_for(
            ".edit_level", slug=slug, number=number, level_id=shown.parent.id, _anchor="decisions"
        )
    return _editor_url(slug, number)


def _after(view: PartView, message: str, shown: editing.PartPage):
    """What to answer once saved, worked out before the commit (which unloads the draft)."""
    item, version = shown.item, shown.version
    said = message.format(**_names(view, shown))
    slug, number = version.framework.slug, version.number
    if view.is_on_level_page:
        return _to_level(said, version, shown.parent)
    following = shown.cell.next if shown.cell else None
    if "save_next" in request.form and following is not None:
        return partial(
            saved, said, ".cell", slug=slug, number=number, expectation_id=following.cell.id
        )
    anchor = f"{view.name}-{item.id}"
    return partial(saved, said, ".edit", slug=slug, number=number, _anchor=anchor)


def _to_level(message: str, version: FrameworkVersion, level):
    """Say so on the level's page, at its decision rights (after the commit)."""
    slug, number = version.framework.slug, version.number
    values = {"slug": slug, "number": number, "level_id": level.id, "_anchor": "decisions"}
    return partial(saved, message, ".edit_level", **values)


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
