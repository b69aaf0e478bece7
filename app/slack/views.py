"""Slack: the head of product's settings (with a Test button and "link everyone") and a person's
"Link my Slack". Each is a section (templates/messages/_slack_*.html) that the Messages page and
the notification settings page include, passing `admin_context(actor)` or `link_context(actor)`
and `slack_back` (where the buttons return). The settings form has a page of its own, which
shows the section alone when the form is refused (400 with the message by the field)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import access
from app.auth.views import safe_next
from app.extensions import db
from app.forms import act, submit
from app.services.messages import slack as slack_service
from app.services.messages import slack_links
from app.slack.forms import SlackSettingsForm

bp = Blueprint("slack", __name__)


def _actor():
    return current_user._get_current_object()


def admin_context(actor, form: SlackSettingsForm | None = None) -> dict[str, Any]:
    """What templates/messages/_slack_admin.html reads."""
    return {
        "slack_admin": slack_links.admin_panel(actor),
        "slack_form": form or SlackSettingsForm(),
    }


def link_context(actor) -> dict[str, Any]:
    """What templates/messages/_slack_link.html reads."""
    return {"slack_link": slack_links.link_panel(actor)}


@bp.route("/settings/slack", methods=["GET", "POST"])
@access.requires("settings.manage")
def settings():
    """The head of product's Slack settings: a bot token, an incoming webhook, who is linked."""
    form = SlackSettingsForm()
    return submit(
        form,
        lambda: slack_service.save_settings(
            _actor(), token=form.token.data, webhook_url=form.webhook_url.data
        ),
        page=lambda status, error=None: _settings_page(form, status),
        done=lambda _: _back("The Slack settings were saved.", "messages.admin_page"),
    )


def _settings_page(form: SlackSettingsForm, status: int):
    page = render_template(
        "slack/settings.html",
        slack_back=_local_back("messages.admin_page"),
        **admin_context(_actor(), form),
    )
    return page, status


@bp.route("/settings/slack/remove/<any(token, webhook):what>", methods=["POST"])
@access.requires("settings.manage")
def remove(what: str):
    """Forget the bot token or the webhook (the other stays)."""
    return act(
        lambda: slack_service.save_settings(
            _actor(), remove_token=what == "token", remove_webhook=what == "webhook"
        ),
        back=_local_back("messages.admin_page"),
        done=lambda _: _back(
            "The bot token was removed." if what == "token" else "The webhook was removed.",
            "messages.admin_page",
        ),
    )


@bp.route("/settings/slack/test", methods=["POST"])
@access.requires("settings.manage")
def test():
    """Ask Slack whether the stored token and webhook work, and say what it answered."""
    settings = slack_service.settings_for(_actor())
    db.session.commit()  # no transaction (SQLite's write lock) held while Slack answers
    results = slack_service.check_connection(settings)
    if not results:
        flash("Nothing to test: set a bot token or a webhook first.", "error")
    for result in results:
        flash(result.message, "success" if result.is_ok else "error")
    return redirect(_local_back("messages.admin_page"))


@bp.route("/settings/slack/link-everyone", methods=["POST"])
@access.requires("settings.manage")
def link_everyone():
    """Look everyone up in Slack by email address, in a job; its page shows the progress."""
    return act(
        lambda: slack_links.start_link_everyone(_actor()),
        back=_local_back("messages.admin_page"),
        done=lambda job: redirect(url_for("jobs.show", job_id=job.id)),
    )


@bp.route("/account/slack/link", methods=["POST"])
@access.requires("account.manage")
def link():
    """Find your Slack user by your email address and link it."""
    actor = _actor()
    question = slack_links.question_for(actor)
    db.session.commit()  # no transaction (SQLite's write lock) held while Slack answers
    return act(
        lambda: slack_links.link_self(actor, question),
        back=_local_back("messages.preferences_page"),
        done=lambda _: _back(
            "Your Slack is linked: messages can reach you there.",
            "messages.preferences_page",
        ),
    )


@bp.route("/account/slack/unlink", methods=["POST"])
@access.requires("account.manage")
def unlink():
    """Stop messages going to your Slack; anything waiting to be sent there is cancelled."""
    return act(
        lambda: slack_links.unlink(_actor(), current_user.id),
        back=_local_back("messages.preferences_page"),
        done=lambda _: _back("Your Slack is unlinked.", "messages.preferences_page"),
    )


def _local_back(endpoint: str) -> str:
    """The page the include was shown on (a local path only), else this blueprint's page."""
    back = request.form.get("back", "")
    return safe_next(back) if back else url_for(endpoint)


def _back(message: str, endpoint: str):
    flash(message, "success")
    return redirect(_local_back(endpoint))
