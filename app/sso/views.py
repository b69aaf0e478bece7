"""Signing in through the OpenID provider (/login/sso → the provider → /login/sso/callback) and
the head of product's Sign-in settings (provider, Test, SSO-only, remove)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user

from app import access
from app.auth.views import safe_next
from app.extensions import db
from app.forms import act, apply_domain_error, submit
from app.services.people import sso, sso_discovery, sso_settings
from app.sso import client
from app.sso.forms import SsoSettingsForm
from app.two_factor import pending

bp = Blueprint("sso", __name__)


def _actor():
    return current_user._get_current_object()


def _client_address() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login/sso")
@access.public
def start():
    """Go to the provider's sign-in page; it sends the person back to the callback."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    try:
        return client.start(_sign_in_settings(), safe_next(request.args.get("next")))
    except client.SsoFailure as failure:
        return _failed(failure)


@bp.route(sso_settings.CALLBACK_PATH)
@access.public
def callback():
    """Where the provider sends the person back: the code is exchanged and the ID token checked
    (client.finish), the person found (or refused), and the session starts as with a password;
    the provider did the second factor, so Rungs asks for none."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    try:
        settings = _sign_in_settings()
        completed = client.finish(settings)
    except client.SsoFailure as failure:
        return _failed(failure)
    outcome = sso.sign_in(completed.issuer, completed.claims, client=_client_address())
    db.session.commit()  # the audit of a refusal is kept too
    if outcome.person is None:
        current_app.logger.info("SSO sign-in refused: %s", outcome.refusal)
        return _failed_page(outcome.message, 403)
    pending.clear()  # a half-done password sign-in in this browser is over
    login_user(outcome.person)
    pending.mark_signed_in(outcome.person, "sso")  # the provider did the second factor
    client.remember_sign_in(outcome.person.id, settings.provider_name, completed)
    if outcome.is_new:
        flash("Welcome to Rungs. Your head of product will place you in your team.", "info")
    return redirect(safe_next(client.take_next()))


def _sign_in_settings() -> sso_settings.SsoSettings:
    settings = sso_settings.stored()
    db.session.commit()  # no transaction (SQLite's write lock) held while the provider answers
    if not settings.is_configured:
        raise client.SsoFailure("Single sign-on is not set up.", is_attempt=False, status=404)
    return settings


def _failed(failure: client.SsoFailure):
    """Log (and, for one of our sign-ins, audit) the failure, without any token; then say it."""
    current_app.logger.warning("SSO sign-in failed: %s", failure.message)
    if failure.is_attempt:
        sso.record_failure(failure.message, client=_client_address())
        db.session.commit()
    return _failed_page(failure.message, failure.status)


def _failed_page(message: str, status: int):
    settings = sso_settings.stored()
    page = render_template(
        "sso/failed.html",
        provider=settings.provider_name or "single sign-on",
        message=message,
        can_retry=settings.is_configured,
    )
    return page, status


# --- the head of product's Sign-in settings ---------------------------------------------------


@bp.route("/settings/sign-in", methods=["GET", "POST"])
@access.requires("settings.manage")
def settings():
    """The provider (discovery URL, client id and secret), unknown people, and SSO-only."""
    current = sso_settings.settings_for(_actor())
    form = SsoSettingsForm(data=_form_data(current) if request.method == "GET" else None)
    check = None
    if request.method == "POST" and form.validate():
        url = sso_settings.url_to_check(_input(form))
        db.session.commit()  # no transaction held while the provider answers
        check = sso_discovery.check_discovery(url) if url else None
    return submit(
        form,
        lambda: sso_settings.save_settings(_actor(), _input(form), check=check),
        page=lambda status, error=None: _settings_page(form, status),
        done=_saved,
        show=_show_errors,
    )


def _saved(saved: sso_settings.SsoSettings):
    if saved.check_problem:
        return _back(
            "The sign-in settings were saved, but the provider does not work yet, so the sign-in "
            f"page does not offer it: {saved.check_problem}",
            "error",
        )
    return _back("The sign-in settings were saved, and the provider's discovery check passed.")


def _show_errors(form: SsoSettingsForm, error) -> None:
    for problem in getattr(error, "problems", [error]):
        apply_domain_error(form, problem)


def _form_data(current: sso_settings.SsoSettings) -> dict[str, str]:
    return {
        "provider_name": current.provider_name,
        "discovery_url": current.discovery_url,
        "client_id": current.client_id,
        "unknown_people": current.unknown_people.value,
        "allowed_domains": " ".join(current.allowed_domains),
    }


def _input(form: SsoSettingsForm) -> sso_settings.SsoInput:
    return sso_settings.SsoInput(
        provider_name=form.provider_name.data or "",
        discovery_url=form.discovery_url.data or "",
        client_id=form.client_id.data or "",
        client_secret=form.client_secret.data or "",
        unknown_people=form.unknown_people.data or "",
        allowed_domains=form.allowed_domains.data or "",
    )


def _settings_page(form: SsoSettingsForm, status: int):
    page = sso_settings.settings_page(_actor())
    return render_template("sso/settings.html", page=page, form=form), status


def _back(message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("sso.settings"))


@bp.route("/settings/sign-in/test", methods=["POST"])
@access.requires("settings.manage")
def test():
    """Fetch the provider's discovery document and keys, and say what is wrong, if anything."""
    settings = sso_settings.settings_for(_actor())
    db.session.commit()  # no transaction held while the provider answers
    client.forget_metadata(settings.discovery_url)  # a fresh look, at sign-in too
    check = sso_discovery.check_discovery(settings.discovery_url)
    sso_settings.record_check(_actor(), check)
    db.session.commit()
    for result in check.results:
        flash(result.message, "success" if result.is_ok else "error")
    if check.is_ok:
        flash(
            "The client secret is checked only at the first real sign-in: sign in with the "
            "provider once to be sure of it.",
            "info",
        )
    return redirect(url_for("sso.settings"))


@bp.route("/settings/sign-in/sso-only/<any(on, off):state>", methods=["POST"])
@access.requires("settings.manage")
def sso_only(state: str):
    """Turn SSO-only on (after checking the provider works and a break-glass account exists)
    or off."""
    is_on = state == "on"
    settings = sso_settings.settings_for(_actor())
    db.session.commit()  # no transaction held while the provider answers
    check = (
        sso_discovery.check_discovery(settings.discovery_url)
        if is_on and settings.is_configured
        else None
    )
    return act(
        lambda: sso_settings.set_sso_only(_actor(), is_on, check=check),
        back=url_for("sso.settings"),
        done=lambda _: _back(
            "Sign-in is SSO-only now: passwords are off, but for the break-glass account."
            if is_on
            else "Passwords work again beside single sign-on."
        ),
    )


@bp.route("/settings/sign-in/remove", methods=["POST"])
@access.requires("settings.manage")
def remove():
    """Forget the provider and its secret: sign-in is by password only again."""
    return act(
        lambda: sso_settings.remove_settings(_actor()),
        back=url_for("sso.settings"),
        done=lambda _: _back("Single sign-on is off; people sign in with their passwords."),
    )
