"""The head of product's part: requiring two-factor sign-in of heads and managers, and turning
a person's off when they lost their phone and their recovery codes."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user

from app import access
from app.forms import act, saved, submit
from app.services import people
from app.services.people import two_factor_account
from app.two_factor.forms import ConfirmForm, RequirementForm

bp = Blueprint("two_factor_admin", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@access.requires("settings.manage")
def requirement():
    """Whether heads of product and managers must use two-factor sign-in with a password."""
    view = two_factor_account.requirement_page(_actor())
    form = RequirementForm(data={"required": view.is_required})
    return submit(
        form,
        lambda: two_factor_account.set_requirement(_actor(), required=form.required.data),
        page=lambda status, error=None: (
            render_template("two_factor/requirement.html", form=form, view=view),
            status,
        ),
        done=lambda _: saved(
            _requirement_saved(form.required.data), "two_factor_admin.requirement"
        ),
    )


def _requirement_saved(required: bool) -> str:
    if required:
        return (
            "Two-factor sign-in is now required for heads of product and managers who sign in "
            "with a password."
        )
    return "Two-factor sign-in is no longer required."


@bp.route("/people/<int:person_id>/two-factor/reset", methods=["GET", "POST"])
@access.requires("people.manage")
def reset(person_id: int):
    """Confirm, then turn off a person's two-factor sign-in (lost phone and recovery codes):
    they are signed out everywhere and their API tokens are revoked; audited."""
    person = people.get_person(person_id)
    form = ConfirmForm()
    back = url_for("people.show", person_id=person.id)
    if not form.validate_on_submit():
        return act(
            lambda: two_factor_account.reset_page(_actor(), person),
            back=back,
            done=lambda view: render_template("two_factor/reset.html", view=view, form=form),
        )
    return act(
        lambda: two_factor_account.reset(_actor(), person),
        back=back,
        done=lambda view: saved(reset_message(view), "people.show", person_id=person.id),
    )


def reset_message(view: two_factor_account.ResetPage) -> str:
    name = view.person.name
    then = (
        "They will be asked to set it up again at their next sign-in."
        if view.asked_to_set_up_again
        else "They sign in with their password alone until they set it up again."
    )
    return (
        f"Two-factor sign-in of {name} is off: they were signed out everywhere and their API "
        f"tokens were revoked. {then}"
    )
