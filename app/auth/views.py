"""Sign-in, sign-out, changing one's password, and setting it from a one-time link."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from app import access
from app.auth.forms import ChangePasswordForm, ForgotPasswordForm, SetPasswordForm, SignInForm
from app.extensions import db
from app.forms import saved, submit
from app.infra.text import unwanted_character
from app.services.messages.outbox import email_enabled
from app.services.people import auth, password_reset, sso, two_factor
from app.sso.auth_hooks import provider_sign_out, signed_out_page, unless_passwords_off
from app.two_factor import pending

bp = Blueprint("auth", __name__)
DEVICE_COOKIE = "rungs_device"


def init_login_manager(manager) -> None:
    manager.login_view = "auth.login"
    manager.login_message = "Sign in to see that page."
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    manager.user_loader(auth.load_session_user)


def safe_next(target: str | None) -> str:
    """Only a local path: no scheme, no host, not protocol-relative, no backslash tricks, and no
    control character (a line break cannot go into the Location header)."""
    if not target or unwanted_character(target) or any(char in target for char in "\t\n\r"):
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return url_for("main.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@access.public
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            person = auth.authenticate(
                form.email.data,
                form.password.data,
                client=request.remote_addr or "unknown",
                device=request.cookies.get(DEVICE_COOKIE),
                only=sso.password_only_for(),  # SSO-only: the break-glass account alone
            )
        except (auth.SignInError, auth.ThrottledError) as error:
            db.session.commit()  # keep the recorded failure
            form.form_errors.append(error.message)
            return _login_page(form), error.status
        db.session.commit()
        if two_factor.is_on(person):  # not yet: the second step first (app/two_factor/)
            return pending.begin(person, remember=form.remember.data, next_url=form.next.data)
        return finish_sign_in(person, remember=form.remember.data, next_url=form.next.data)
    return _login_page(form)


def finish_sign_in(person, *, remember: bool, next_url: str | None):
    """Sign the person in after their password (and their second step, when they have one)."""
    pending.clear()
    login_user(person, remember=remember)
    pending.mark_signed_in(person, "password")
    response = redirect(safe_next(next_url))
    _remember_device(response, auth.device_token(person))
    return response


def _login_page(form):
    return render_template(
        "auth/login.html", form=form, email_on=email_enabled(), sso=sso.sign_in_options()
    )


def _remember_device(response, token: str) -> None:
    config = current_app.config
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=int(config["LOGIN_DEVICE_TTL"].total_seconds()),
        path=url_for("auth.login"),  # only the sign-in form needs it
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


@bp.route("/logout", methods=["POST"])
@access.requires("home.view")
def logout():
    """Sign out: every session of this person ends, on every device (and, after a sign-in
    through the provider, its own sign-out is offered)."""
    provider, end_session_url = provider_sign_out()
    auth.sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    pending.forget_sign_in()
    if end_session_url:
        return signed_out_page(provider, end_session_url)
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@access.requires("account.manage")
def change_password():
    """Change one's own password; other sessions of this person end."""
    form = ChangePasswordForm()
    person = current_user._get_current_object()
    return submit(
        form,
        lambda: auth.change_password(
            person, current=form.current_password.data, new=form.new_password.data
        ),
        # both password forms answer 200 with their errors, as they always have
        page=lambda status, error=None: render_template("auth/change_password.html", form=form),
        done=lambda _: _password_changed(person),
    )


def _password_changed(person):
    login_user(person)  # this session continues under the new token
    return saved("Your password is changed. You were signed out everywhere else.", "main.home")


@bp.route("/password/forgot", methods=["GET", "POST"])
@access.public
@unless_passwords_off
def forgot_password():
    """Ask for an email with a link to set a new password (the same answer for any address)."""
    form = ForgotPasswordForm()
    answer_at = time.monotonic() + current_app.config["PASSWORD_RESET_ANSWER_SECONDS"]

    def page(status: int, error=None):
        status = error.status if error is not None else status  # 429 when throttled
        page = render_template("auth/forgot_password.html", form=form, email_on=email_enabled())
        return page, status

    return submit(
        form,
        lambda: password_reset.request_reset(
            form.email.data, client=request.remote_addr or "unknown"
        ),
        page=page,
        done=lambda _: _no_sooner_than(answer_at, redirect(url_for("auth.reset_requested"))),
    )


def _no_sooner_than(moment: float, response):
    """Hold the answer until `moment` (time.monotonic()); after the commit, so no lock is held."""
    time.sleep(max(0.0, moment - time.monotonic()))
    return response


@bp.route("/password/forgot/sent")
@access.public
def reset_requested():
    """What happens next, after asking for a password email (it names no address)."""
    return render_template(
        "auth/reset_requested.html", lifetime=password_reset.link_lifetime_words()
    )


@bp.route("/password/<token>", methods=["GET", "POST"])
@access.public
@unless_passwords_off
def set_password(token: str):
    """Set a password from a one-time link (made by the head of product, emailed as an
    invitation, or asked for with "Forgot your password?"); a link that no longer works gets
    a page that says why and how to get a new one."""
    check = auth.check_reset_link(token)
    if check.problem is not None:
        return render_template(
            "auth/link_not_valid.html",
            check=check,
            email_on=email_enabled(),
            requested=password_reset.link_lifetime_words(),
            made=password_reset.link_lifetime_words(current_app.config["PASSWORD_RESET_TTL"]),
        ), check.status
    form = SetPasswordForm()
    had_password = check.person.password_hash is not None

    def page(status: int, error=None):
        return render_template("auth/set_password.html", form=form, person=check.person), 200

    return submit(
        form,
        lambda: password_reset.set_password_from_link(
            token, form.password.data, client=request.remote_addr or "unknown"
        ),
        page=page,
        done=lambda _: _password_set(had_password),
    )


def _password_set(had_password: bool):
    if current_user.is_authenticated:
        logout_user()
    if not had_password:
        return saved("Your password is set. Sign in with it now.", "auth.login")
    return saved(
        "Your password is set, and you were signed out on every device. "
        "Sign in with your new password.",
        "auth.login",
    )
