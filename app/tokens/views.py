"""The personal access tokens page (/account/tokens), under Your settings."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from app import access
from app.forms import act, saved, submit
from app.models.identity import ApiScope
from app.services.api import tokens

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            InputRequired("Give the token a name, to tell it by later."),
            Length(max=tokens.NAME_MAX, message=f"Keep the name to {tokens.NAME_MAX} characters."),
        ],
        description="What uses it, e.g. “Quarterly report script”.",
    )
    scope = SelectField(
        "Scope",
        choices=[SelectChoice(scope.value, scope.label) for scope in ApiScope],
        default=ApiScope.READ.value,
        description="Read and write lets it change what you could change yourself.",
    )
    expires = SelectField(
        "Expires after",
        choices=[SelectChoice(days, f"{days} days") for days in tokens.EXPIRY_DAYS],
        default="30",
        coerce=int,
    )
    password = PasswordField("Your password", description="To confirm it is you.")
    code = StringField(
        "Code from your app",
        description="The 6 digits your two-factor app shows now.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    nonce = HiddenField()


class RevokeForm(FlaskForm):
    """Only the CSRF token: the button is the confirmation."""


def _owner():
    return current_user._get_current_object()


NONCE_KEY = "api_token_form"
ALREADY_SENT = "That form was already sent: your token is in the list below."


@bp.route("/", methods=["GET", "POST"])
@access.requires("account.manage")
def index():
    """Your tokens, and a form to make one; a new token is shown once, on the page that made it.

    The form is single-use: a nonce shown with it is kept in the session and taken back by
    the POST, so reloading the page that shows a new token makes no second one."""
    form = TokenForm()
    if form.is_submitted():
        expected = session.pop(NONCE_KEY, None)
        if not expected or not secrets.compare_digest(expected, form.nonce.data or ""):
            flash(ALREADY_SENT, "info")
            return redirect(url_for("tokens.index"))
    owner = _owner()
    return submit(
        form,
        lambda: tokens.make_confirmed(
            owner,
            name=form.name.data,
            scope=ApiScope(form.scope.data),
            days=form.expires.data,
            password=form.password.data,
            code=form.code.data,
            client=request.remote_addr or "unknown",
        ),
        page=lambda status, error=None: (_page(form), status),
        done=lambda made: (_page(TokenForm(formdata=None), made=made), 201),
    )


def _page(form: TokenForm, made: tokens.NewToken | None = None):
    owner = _owner()
    form.nonce.data = session[NONCE_KEY] = secrets.token_urlsafe(16)
    form.password.data = form.code.data = ""  # never shown back
    return render_template(
        "tokens/index.html",
        form=form,
        made=made,
        needs_password=tokens.needs_password(owner),
        needs_code=tokens.needs_code(owner),
        listed=[(token, tokens.state(token)) for token in tokens.tokens_of(owner)],
    )


@bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@access.requires("account.manage")
def revoke(token_id: int):
    """Confirm, then revoke one of your tokens: whatever uses it stops working at once."""
    form = RevokeForm()
    if not form.validate_on_submit():
        token = tokens.own_token(_owner(), token_id)
        return render_template("tokens/revoke.html", token=token, form=form)
    return act(
        lambda: tokens.revoke_token(_owner(), token_id),
        back=url_for("tokens.index"),
        done=lambda token: saved(f"“{token.name}” is revoked.", "tokens.index"),
    )
