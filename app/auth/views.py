"""Sign-in, sign-out, changing one's password, and setting it from a one-time link."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app import access
from app.auth.forms import ChangePasswordForm, SetPasswordForm, SignInForm
from app.extensions import db
from app.forms import apply_domain_error
from app.models import User
from app.services import auth
from app.services.errors import ValidationError
from app.services.text import unwanted_character

bp = Blueprint("auth", __name__)
DEVICE_COOKIE = "rungs_device"


def init_login_manager(manager) -> None:
    manager.login_view = "auth.login"
    manager.login_message = "Sign in to see that page."
    manager.login_message_category = "info"
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(session_token: str) -> User | None:
        person = db.session.execute(
            select(User).where(User.session_token == session_token)
        ).scalar_one_or_none()
        return person if person is not None and person.is_active else None


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
    if form.validate_on_submit():
        person = current_user._get_current_object()
        try:
            auth.change_password(
                person, current=form.current_password.data, new=form.new_password.data
            )
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            login_user(person)  # this session continues under the new token
            flash("Your password is changed. You were signed out everywhere else.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/password/<token>", methods=["GET", "POST"])
@access.public
def set_password(token: str):
    """Set a password from a one-time link made by the head of product."""
    link = auth.find_reset_link(token)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            auth.reset_password(token, form.password.data, client=request.remote_addr or "unknown")
        except ValidationError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is set. Sign in with it now.", "success")
            return redirect(url_for("auth.login"))
    person = db.session.get(User, link.user_id)
    return render_template("auth/set_password.html", form=form, person=person)
