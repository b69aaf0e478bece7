"""The readiness thresholds form."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import Optional

from app.services.growth.thresholds import DEFAULTS, LIMITS, default_items, level_field

NOT_WHOLE = "Enter a whole number, like 3."


def _number(label: str, name: str, unit: str) -> IntegerField:
    low, high, _what = LIMITS[name]
    return IntegerField(
        label,
        invalid_value_message=NOT_WHOLE,
        description=f"{low} to {high} {unit}. Default: {getattr(DEFAULTS, name)}.",
        render_kw={"min": low, "max": high, "step": 1, "inputmode": "numeric"},
    )


class ThresholdsForm(FlaskForm):
    min_items = _number("Items needed per competency", "min_items", "items")
    min_corroborated = _number(
        "Of those, corroborated by a peer", "min_corroborated", "items, at most the items needed"
    )
    recent_days = _number("Newest item at most this many days old", "recent_days", "days")
    window_months = _number(
        "Months of evidence counted", "window_months", "months; older items do not count"
    )
    # The saved row's time stamp when the form was shown: a later save by someone else conflicts.
    token = HiddenField()


def thresholds_form(levels: list[tuple[str, str, int]], general: int, data: dict) -> ThresholdsForm:
    """The form with one optional field per level: items needed there (blank: the default by
    the level's rung, from the general number)."""
    low, high, _what = LIMITS["min_items"]

    class LevelThresholdsForm(ThresholdsForm):
        pass

    for code, title, rung in levels:
        setattr(
            LevelThresholdsForm,
            level_field(code),
            IntegerField(
                f"Items needed at {title} ({code})",
                validators=[Optional()],
                invalid_value_message=NOT_WHOLE,
                description=(
                    f"{low} to {high} items. Blank: {default_items(general, rung)}, "
                    "from the number above and how high the level is."
                ),
                render_kw={"min": low, "max": high, "step": 1, "inputmode": "numeric"},
            ),
        )
    return LevelThresholdsForm(data=data)
