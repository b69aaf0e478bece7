"""The second step of signing in: a code from the authenticator app, or a recovery code."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app import access
from app.auth.views import finish_sign_in
from app.extensions import db
from app.services.people import auth, two_factor_sign_in
from app.two_factor import pending
from app.two_factor.forms import CodeForm, RecoveryCodeForm, focus_first_error

bp = Blueprint("two_factor_sign_in", __name__)


@bp.route("/login/code", methods=["GET", "POST"])
@access.public
def code():
    """Sign in, second step: the 6-digit code the person's authenticator app shows."""
    return _second_step(CodeForm(), "code")


@bp.route("/login/recovery-code", methods=["POST"])
@access.public
def recovery_code():
    """Sign in, second step, with one of the person's recovery codes instead (used up)."""
    return _second_step(RecoveryCodeForm(), "recovery_code")


def _second_step(form, field: str):
    waiting = pending.current()
    if waiting is None:
        next_url = pending.stale_next()
        pending.clear()
        flash(two_factor_sign_in.PENDING_GONE, "info")
        return redirect(url_for("auth.login", next=next_url))
    if not form.validate_on_submit():
        return _page(form), 400 if form.is_submitted() else 200
    try:
        done = two_factor_sign_in.finish_sign_in(
            waiting.person_id,
            waiting.token,
            client=request.remote_addr or "unknown",
            **{field: form[field].data},
        )
    except (two_factor_sign_in.CodeRefusedError, auth.ThrottledError) as error:
        db.session.commit()  # keep the counted attempt and its audit
        form[field].errors = [*form[field].errors, error.message]
        form[field].data = ""  # a refused code is no use typed again
        return _page(form), error.status
    db.session.commit()
    if done.recovery_codes_left is not None:
        flash(_codes_left_message(done.recovery_codes_left), "info")
    return finish_sign_in(done.person, remember=waiting.remember, next_url=waiting.next)


def _page(form):
    code_form = form if isinstance(form, CodeForm) else CodeForm(formdata=None)
    recovery_form = form if isinstance(form, RecoveryCodeForm) else RecoveryCodeForm(formdata=None)
    focus_first_error(code_form, recovery_form)
    return render_template(
        "two_factor/second_step.html",
        form=code_form,
        recovery_form=recovery_form,
        recovery_open=isinstance(form, RecoveryCodeForm),
    )


def _codes_left_message(left: int) -> str:
    if left == 0:
        return (
            "You used your last recovery code. Make new ones now on your Two-factor sign-in "
            "page (in Your settings)."
        )
    plural = "s" if left != 1 else ""
    return (
        f"You signed in with a recovery code; it cannot be used again. You have {left} "
        f"recovery code{plural} left."
    )
