"""Messages: one-click unsubscribe, a person's notification settings, the head's Messages page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from app import access
from app.extensions import csrf, db
from app.forms import act, saved, submit
from app.messages.forms import ConfirmForm, field_name, preferences_form
from app.models import Channel, DeliveryMode, MessageCategory
from app.request_input import page_number
from app.services.messages import admin, preferences, unsubscribe
from app.services.messages.outbox import email_enabled
from app.slack import views as slack_views

bp = Blueprint("messages", __name__)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"], endpoint="unsubscribe")
@access.public
@csrf.exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"; the token is the key
def unsubscribe_view(token: str):
    """GET: ask (a link scanner must not unsubscribe anyone). POST: turn that email off."""
    found = unsubscribe.read(token)
    if found is None:
        return render_template("messages/unsubscribe.html", found=None, done=False), 400
    if request.method == "POST":
        unsubscribe.apply(found)
        db.session.commit()
        return render_template("messages/unsubscribe.html", found=found, done=True)
    return render_template("messages/unsubscribe.html", found=found, done=False)


def _channels() -> list[Channel]:
    channels = [Channel.EMAIL]
    if current_user.slack_user_id:
        channels.append(Channel.SLACK)
    return channels


@bp.route("/account/notifications", methods=["GET", "POST"])
@access.requires("account.manage")
def preferences_page():
    """How you get each kind of message, by email and (once linked) on Slack."""
    person = current_user._get_current_object()
    channels = _channels()
    current = preferences.choices_for(person.id)
    form = preferences_form(channels, current)

    def save():
        changed = 0
        for category in MessageCategory:
            if not category.is_optional:
                continue
            for channel in channels:
                mode = DeliveryMode(getattr(form, field_name(category, channel)).data)
                if mode is not current[(category, channel)]:
                    preferences.choose(person.id, category, channel, mode)
                    changed += 1
        return changed

    def page(status: int, error=None):
        rows = [
            (
                category,
                [(channel, getattr(form, field_name(category, channel))) for channel in channels],
            )
            for category in MessageCategory
            if category.is_optional
        ]
        return (
            render_template(
                "messages/preferences.html",
                form=form,
                rows=rows,
                channels=channels,
                email_on=email_enabled(),
                digest_hour=int(current_app.config["DIGEST_HOUR"]),
                slack_back=url_for("messages.preferences_page"),
                **slack_views.link_context(person),
            ),
            status,
        )

    return submit(
        form,
        save,
        page=page,
        done=lambda changed: saved(
            "Your notification settings are saved." if changed else "Nothing changed.",
            "messages.preferences_page",
        ),
    )


@bp.get("/messages")
@access.requires("settings.manage")
def admin_page():
    """The head of product's Messages page: email on or off, what waits, what failed."""
    view = admin.overview(page_number())
    return render_template(
        "messages/admin.html",
        view=view,
        form=ConfirmForm(),
        slack_back=url_for("messages.admin_page"),
        **slack_views.admin_context(current_user._get_current_object()),
    )


@bp.post("/messages/<int:message_id>/retry")
@access.requires("settings.manage")
def retry(message_id: int):
    """Send a failed message again."""
    if not ConfirmForm().validate():
        abort(400)
    return act(
        lambda: admin.retry(message_id),
        back=url_for("messages.admin_page"),
        done=lambda _n: saved("The message is queued again.", "messages.admin_page"),
    )


@bp.post("/messages/retry")
@access.requires("settings.manage")
def retry_all():
    """Send every failed message again."""
    if not ConfirmForm().validate():
        abort(400)
    return act(
        lambda: admin.retry(),
        back=url_for("messages.admin_page"),
        done=lambda n: saved(
            f"{n} message{'' if n == 1 else 's'} queued again.", "messages.admin_page"
        ),
    )
