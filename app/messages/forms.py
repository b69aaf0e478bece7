"""Forms of the message pages: a person's choices per category and channel, and buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from app.models import Channel, DeliveryMode, MessageCategory


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


def field_name(category: MessageCategory, channel: Channel) -> str:
    return f"{category.value}__{channel.value}"


def preferences_form(channels: list[Channel], current: dict, **kwargs) -> FlaskForm:
    """One select per optional category and channel (Immediately / Daily digest / Off)."""

    class PreferencesForm(FlaskForm):
        pass

    choices = [SelectChoice(mode.value, mode.label) for mode in DeliveryMode]
    for category in MessageCategory:
        if not category.is_optional:
            continue
        for channel in channels:
            setattr(
                PreferencesForm,
                field_name(category, channel),
                SelectField(
                    f"{category.label} by {channel.label.lower()}",
                    choices=choices,
                    default=current[(category, channel)].value,
                ),
            )
    return PreferencesForm(**kwargs)
