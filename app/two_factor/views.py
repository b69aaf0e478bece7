"""Your two-factor sign-in: set it up with an authenticator app, see your recovery codes once,
make new ones, turn it off."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_user

from app import access
from app.forms import act, saved, submit
from app.services.people import two_factor_account
from app.two_factor.forms import NewCodesForm, TurnOffForm, TurnOnForm, focus_first_error

bp = Blueprint("two_factor", __name__, url_prefix="/account/two-factor")


def _person():
    return current_user._get_current_object()


def _client() -> str:
    return request.remote_addr or "unknown"


@bp.route("/")
@access.requires("account.manage")
def account():
    """Whether two-factor sign-in is on, and the forms to set it up, renew codes or turn it off."""
    return _page()


def _page(status: int = 200, **failed):
    forms = {
        "on_form": TurnOnForm(formdata=None, prefix="on"),
        "codes_form": NewCodesForm(formdata=None, prefix="codes"),
        "off_form": TurnOffForm(formdata=None, prefix="off"),
        **failed,
    }
    focus_first_error(forms["on_form"], forms["codes_form"], forms["off_form"])
    page = two_factor_account.setup_page(_person())
    return render_template("two_factor/account.html", page=page, **forms), status


@bp.route("/start", methods=["POST"])
@access.requires("account.manage")
def start():
    """Make a new secret to add to an authenticator app (replacing one not yet confirmed)."""
    return act(
        lambda: two_factor_account.start_setup(_person()),
        back=url_for("two_factor.account"),
        done=lambda _: saved("Add Rungs to your authenticator app.", "two_factor.account"),
    )


@bp.route("/turn-on", methods=["POST"])
@access.requires("account.manage")
def turn_on():
    """Confirm the setup with a code and the password; other sessions end; recovery codes."""
    form, person = TurnOnForm(prefix="on"), _person()
    return submit(
        form,
        lambda: two_factor_account.turn_on(
            person, password=form.password.data, code=form.code.data, client=_client()
        ),
        page=lambda status, error=None: _page(status, on_form=form),
        done=lambda codes: _turned_on(person, codes),
    )


def _turned_on(person, codes: list[str]):
    login_user(person)  # this session continues under the new token
    return render_template("two_factor/recovery_codes.html", codes=codes, is_new_setup=True)


@bp.route("/recovery-codes", methods=["POST"])
@access.requires("account.manage")
def new_recovery_codes():
    """Ten new recovery codes, for the password and a code; the earlier ones stop working."""
    form = NewCodesForm(prefix="codes")
    return submit(
        form,
        lambda: two_factor_account.regenerate_recovery_codes(
            _person(), password=form.password.data, code=form.code.data, client=_client()
        ),
        page=lambda status, error=None: _page(status, codes_form=form),
        done=lambda codes: render_template(
            "two_factor/recovery_codes.html", codes=codes, is_new_setup=False
        ),
    )


@bp.route("/turn-off", methods=["POST"])
@access.requires("account.manage")
def turn_off():
    """Turn two-factor sign-in off, for the password and a code (or a recovery code)."""
    form = TurnOffForm(prefix="off")
    return submit(
        form,
        lambda: two_factor_account.turn_off(
            _person(), password=form.password.data, code=form.code.data, client=_client()
        ),
        page=lambda status, error=None: _page(status, off_form=form),
        done=lambda _: saved("Two-factor sign-in is off.", "two_factor.account"),
    )
