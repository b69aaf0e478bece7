"""People: the admin list, profiles, create and edit, deactivate, password links, CSV import."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from app import access
from app.core.errors import ConflictError, RowErrors
from app.forms import act, saved, submit
from app.infra import names
from app.models import Role
from app.people.forms import ConfirmForm, ImportForm, NewPersonForm, PersonForm
from app.request_input import page_number
from app.services import people
from app.services.evidence.shared import FilterInput
from app.services.people import auth, invitations
from app.services.people import pages as people_pages

bp = Blueprint("people", __name__, url_prefix="/people")
# The initials in the avatars beside people's names, on every page (macros/people.html).
bp.add_app_template_filter(names.initials, "initials")


def _actor():
    return current_user._get_current_object()


@bp.route("/")
@access.requires("people.manage")
def index():
    """Everyone in the organisation, searchable and paginated."""
    role = request.args.get("role", "")
    status = request.args.get("status", "active")
    if role not in {"", *Role} or status not in people_pages.STATUSES:
        abort(400)
    view = people_pages.people_page(
        _actor(),
        search=request.args.get("q", "").strip()[:100],
        role=role,
        status=status,
        page=page_number(),
        per_page=current_app.config["PEOPLE_PER_PAGE"],
    )
    return render_template("people/index.html", view=view)


@bp.route("/<int:person_id>")
@access.requires("person.view")
def show(person_id: int):
    """A person's page: details, and as far as the viewer may see them their growth, shared
    evidence (filtered by competency and dates), the viewer's comments and kudos, cases, levels."""
    typed = FilterInput(**{name: _arg(name) for name in ("competency", "since", "until")})
    page = people_pages.person_page(_actor(), person_id, typed, page_number())
    status = 400 if page.has_filter_errors else 200
    return render_template(
        "people/show.html", page=page, confirm=ConfirmForm(), invite=invitations.offer()
    ), status


def _arg(name: str) -> str:
    return request.args.get(name, "").strip()[:100]


@bp.route("/new", methods=["GET", "POST"])
@access.requires("people.manage")
def create():
    """Add a person to the organisation."""
    form = _person_form(form_class=NewPersonForm)

    def page(status: int, error=None):
        return render_template(
            "people/form.html", form=form, person=None, invite=invitations.offer()
        ), status

    return submit(
        form,
        lambda: invitations.add_person(_actor(), _input(form), invite=form.invite.data),
        page=page,
        done=_added,
    )


def _added(added: invitations.Added):
    person = added.person
    if added.is_invited:
        next_step = f"An invitation to set a password is on its way to {person.email}."
    else:
        next_step = "Make a password link so they can sign in."
    return saved(f"{person.name} was added. {next_step}", "people.show", person_id=person.id)


@bp.route("/<int:person_id>/edit", methods=["GET", "POST"])
@access.requires("people.manage")
def edit(person_id: int):
    """Change a person's name, email, role, manager and mentors."""
    person = people.get_person(person_id)
    form = _person_form(person)
    if not form.is_submitted():
        form.role.data = person.role.value
        form.mentor_ids.data = [m.id for m in person.mentors]
        form.version.data = person.version

    def page(status: int, error=None):
        conflict = error if isinstance(error, ConflictError) else None
        if conflict:
            form.version.data = person.version  # saving again now overwrites, knowingly
        return render_template(
            "people/form.html", form=form, person=person, conflict=conflict
        ), status

    return submit(
        form,
        lambda: people.update_person(
            _actor(), person, _input(form), expected_version=_int(form.version.data)
        ),
        page=page,
        done=lambda _: saved(f"{person.name} was saved.", "people.show", person_id=person.id),
    )


@bp.route("/<int:person_id>/deactivate", methods=["POST"])
@access.requires("people.manage")
def deactivate(person_id: int):
    """Deactivate a person: they cannot sign in; their history stays."""
    return _state_change(person_id, people.deactivate_person, "{} was deactivated.")


@bp.route("/<int:person_id>/reactivate", methods=["POST"])
@access.requires("people.manage")
def reactivate(person_id: int):
    """Let a deactivated person sign in again."""
    return _state_change(person_id, people.reactivate_person, "{} was reactivated.")


@bp.route("/<int:person_id>/password-link", methods=["POST"])
@access.requires("people.manage")
def password_link(person_id: int):
    """Make a one-time link with which the person sets a password; shown once, to the admin."""
    person = people.get_person(person_id)
    back = url_for("people.show", person_id=person.id)
    return act(
        lambda: auth.create_reset_link(_actor(), person),
        back=back,
        done=lambda token: _show_password_link(person, token),
    )


@bp.route("/<int:person_id>/invitation", methods=["POST"])
@access.requires("people.manage")
def send_invitation(person_id: int):
    """Email the person a new link to set a password (their earlier links stop working)."""
    person = people.get_person(person_id)
    return act(
        lambda: invitations.send_invitation(_actor(), person),
        back=url_for("people.show", person_id=person.id),
        done=lambda _: saved(
            f"A new link to set a password is on its way to {person.email}. "
            "Earlier links stopped working.",
            "people.show",
            person_id=person.id,
        ),
    )


def _show_password_link(person, token: str):
    link = url_for("auth.set_password", token=token, _external=True)
    return render_template(
        "people/password_link.html",
        person=person,
        link=link,
        ttl=current_app.config["PASSWORD_RESET_TTL"],
    )


@bp.route("/import", methods=["GET", "POST"])
@access.requires("people.manage")
def import_csv():
    """Import people from a CSV file: all rows or none."""
    form = ImportForm()

    def page(status: int, error=None):
        row_errors = error.errors if isinstance(error, RowErrors) else []
        return render_template(
            "people/import.html", form=form, row_errors=row_errors, invite=invitations.offer()
        ), status

    return submit(
        form,
        lambda: invitations.import_people(_actor(), form.file.data.read(), invite=form.invite.data),
        page=page,
        done=lambda added: render_template(
            "people/imported.html", added=added, links=people_pages.person_links(_actor())
        ),
    )


def _state_change(person_id: int, change, message: str):
    person = people.get_person(person_id)
    return act(
        lambda: change(_actor(), person),
        back=url_for("people.show", person_id=person_id),
        done=lambda _: saved(message.format(person.name), "people.show", person_id=person_id),
    )


def _person_form(person=None, form_class=PersonForm) -> PersonForm:
    form = form_class(obj=person)
    actives = people.active_people()
    form.set_choices(
        [p for p in actives if p.is_manager],
        actives,
        people.published_levels(),
        exclude_id=person.id if person else None,
    )
    return form


def _input(form: PersonForm) -> people.PersonInput:
    return people.PersonInput(
        email=form.email.data or "",
        name=form.name.data or "",
        role=Role(form.role.data),
        manager_id=form.manager_id.data,
        mentor_ids=list(form.mentor_ids.data or []),
        level_id=form.level_id.data,
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        abort(400)
