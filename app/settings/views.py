"""Your settings (the time zone dates are shown in), and the filters that show a UTC instant in
the viewer's time zone on every page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from app import access
from app.forms import saved, submit
from app.infra import timezones
from app.services.people import settings

bp = Blueprint("settings", __name__)


class SettingsForm(FlaskForm):
    time_zone = SelectField(
        "Time zone",
        validate_choice=False,
        description="Due dates, meetings and every other time are shown in it, and the times "
        "you type are read in it.",
    )


def viewer_zone() -> str:
    """The signed-in person's time zone; UTC for anyone else."""
    return getattr(current_user, "time_zone", None) or timezones.DEFAULT


@bp.app_template_filter("local_time")
def local_time(instant: datetime | None, zone: str | None = None, with_time: bool = True) -> str:
    """A UTC instant as "Fri 12 Mar 2027, 17:00 CET" in `zone` (by default the viewer's)."""
    return timezones.format_instant(instant, zone or viewer_zone(), with_time=with_time)


@bp.app_template_filter("local_input")
def local_input(instant: datetime | None, zone: str | None = None) -> str:
    """A UTC instant as the value of a `datetime-local` input in the viewer's zone."""
    return timezones.input_value(instant, zone or viewer_zone())


@bp.route("/account/settings", methods=["GET", "POST"])
@access.requires("account.manage")
def edit():
    """Your settings: the time zone dates and times are shown in."""
    person = current_user._get_current_object()
    form = SettingsForm(data={"time_zone": person.time_zone})
    form.time_zone.choices = list(timezones.known_names())
    return submit(
        form,
        lambda: settings.set_time_zone(person, form.time_zone.data),
        page=lambda status, error=None: (render_template("settings/edit.html", form=form), status),
        done=lambda saved_person: saved(
            f"Dates and times are now shown in {saved_person.time_zone}.", "settings.edit"
        ),
    )
