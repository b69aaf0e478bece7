"""Sign-in, sign-out, changing one's password, and setting it from a one-time link."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from app import access
from app.auth.forms import ChangePasswordForm, SetPasswordForm, SignInForm
from app.extensions import db
from app.forms import saved, submit
from app.infra.text import unwanted_character
from app.services.people import auth

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
            )
        except (auth.SignInError, auth.ThrottledError) as error:
            db.session.commit()  # keep the recorded failure
            form.form_errors.append(error.message)
            return render_template("auth/login.html", form=form), error.status
        db.session.commit()
        login_user(person, remember=form.remember.data)
        response = redirect(safe_next(form.next.data))
        _remember_device(response, auth.device_token(person))
        return response
    return render_template("auth/login.html", form=form)


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
    """Sign out: every session of this person ends, on every device."""
    auth.sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
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


@bp.route("/password/<token>", methods=["GET", "POST"])
@access.public
def set_password(token: str):
    """Set a password from a one-time link made by the head of product."""
    person = auth.reset_link_holder(token)
    form = SetPasswordForm()

    def page(status: int, error=None):
        return render_template("auth/set_password.html", form=form, person=person), 200

    return submit(
        form,
        lambda: auth.reset_password(
            token, form.password.data, client=request.remote_addr or "unknown"
        ),
        page=page,
        done=lambda _: _password_set(),
    )


def _password_set():
    if current_user.is_authenticated:
        logout_user()
    return saved("Your password is set. Sign in with it now.", "auth.login")
