"""Forms for logging and editing evidence, and the timeline's filters."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.forms import Select
from app.models import EvidenceKind, Visibility
from app.services.evidence import BODY_MAX, LINKS_MAX, TITLE_MAX
from app.services.feedback import lessons

KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in EvidenceKind]
VISIBILITY_CHOICES = [
    SelectChoice(Visibility.PRIVATE.value, "Private draft"),
    SelectChoice(Visibility.SHARED.value, "Share with my manager and mentors"),
]
VISIBILITY_HINTS = {
    Visibility.PRIVATE.value: "Only you see it. Share it when it is ready.",
    Visibility.SHARED.value: "Your manager, the managers above them and your mentors can read "
    "it and comment; colleagues you ask to corroborate it can read it; in a promotion case "
    "of yours, the people deciding it see it too.",
}
# Where the error summary jumps for fields drawn as a group of inputs.
ANCHORS = {"competency_keys": "competencies", "visibility": "visibility-0"}
EMPTY_LINK_ROWS = 2  # blank rows offered below the saved links (the form works without JS)
NEW_LINK_ROWS = 3


DATE_MESSAGE = "Enter a date like 2026-03-31."


def http_link(_form, field) -> None:
    """Only web links: no javascript:, data: or file: addresses, and a host name."""
    value = (field.data or "").strip()
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError("Use a web address that starts with https:// or http://.")


class LinkForm(Form):
    """One link: an address and an optional label (a row of the evidence form)."""

    url = URLField("Address", validators=[Optional(), Length(max=2000), http_link])
    label = StringField(
        "Label", validators=[Length(max=200, message="Use at most 200 characters.")]
    )

    def validate_label(self, field) -> None:
        if (field.data or "").strip() and not (self.url.data or "").strip():
            raise ValidationError("Add the address this label is for.")


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes; the template lays them out (grouped by area)."""

    def pre_validate(self, form) -> None:
        """Unknown keys are the service's to refuse, with a message that names them."""


# The shipped career paths' competency that a lesson from a failure shows.
LESSON_COMPETENCY = "learning-from-failure"


class EvidenceForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired(message="Give the item a title."),
            Length(max=TITLE_MAX, message=f"Use at most {TITLE_MAX} characters."),
        ],
        description="What you did, in a few words: “Launched self-serve CSV import”.",
        render_kw={"autocomplete": "off", "maxlength": TITLE_MAX},
    )
    occurred_on = DateField(
        "Date",
        default=date.today,
        invalid_value_message=DATE_MESSAGE,
        validators=[InputRequired(message="Enter the date it happened.")],
    )
    kind = SelectField("Kind", choices=KIND_CHOICES, validators=[InputRequired()])
    body = TextAreaField(
        "What happened",
        validators=[Length(max=BODY_MAX, message=f"Use at most {BODY_MAX:,} characters.")],
        description="The situation, what you did, what changed, what you learned. Markdown "
        "works: **bold**, *italic*, - lists, [a link](https://…).",
        render_kw={"rows": 8},
    )
    metric = StringField(
        "Metric",
        validators=[Length(max=200, message="Use at most 200 characters.")],
        render_kw={"autocomplete": "off"},
    )
    metric_before = StringField(
        "Before", validators=[Length(max=60, message="Use at most 60 characters.")]
    )
    metric_after = StringField(
        "After", validators=[Length(max=60, message="Use at most 60 characters.")]
    )
    metric_unit = StringField(
        "Unit", validators=[Length(max=30, message="Use at most 30 characters.")]
    )
    links = FieldList(FormField(LinkForm), min_entries=NEW_LINK_ROWS, max_entries=LINKS_MAX)
    competency_keys = CheckboxesField(
        "Competencies",
        validators=[DataRequired(message="Choose at least one competency.")],
    )
    visibility = RadioField(
        "Who can see it",
        choices=VISIBILITY_CHOICES,
        default=Visibility.PRIVATE.value,
        validators=[InputRequired(message="Choose who can see it.")],
    )
    revision = HiddenField()
    # A "learning from failure" item starts from a short retrospective (lesson.js inserts it
    # when the kind is switched on an empty body).
    lesson_kind = EvidenceKind.LEARNING.value
    lesson_template = lessons.TEMPLATE

    def set_competencies(self, choices) -> None:
        self.competency_keys.choices = [SelectChoice(c.key, c.name) for c in choices]

    def start_as(self, kind: str | None) -> None:
        """A new item of the kind asked for in the link; a lesson gets its template, and the
        competency of the same name ticked where the person's career path has one."""
        if kind == self.lesson_kind:
            self.kind.data = kind
            self.body.data = self.lesson_template
            keys = {choice.value for choice in self.competency_keys.choices or []}
            if LESSON_COMPETENCY in keys:
                self.competency_keys.data = [LESSON_COMPETENCY]

    def add_blank_links(self) -> None:
        """At least two empty rows below the saved links, within the limit."""
        blank = sum(1 for entry in self.links.entries if not (entry.form.url.data or "").strip())
        while blank < EMPTY_LINK_ROWS and len(self.links.entries) < LINKS_MAX:
            self.links.append_entry()
            blank += 1

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(id to jump to, field name, message) for every field error, in the form's order."""
        found = []
        for field in self:
            if field is self.links:
                for number, entry in enumerate(field.entries, start=1):
                    for sub in entry.form:
                        name = f"Link {number} {sub.label.text.lower()}"
                        found += [(sub.id, name, message) for message in sub.errors]
                continue
            anchor = ANCHORS.get(field.name, field.id)
            found += [(anchor, field.label.text, message) for message in field.errors]
        return found

    def link_pairs(self) -> list[tuple[str, str]]:
        # entry.label is the FormField's own label: the link's label is entry.form.label
        return [
            (entry.form.url.data or "", entry.form.label.data or "") for entry in self.links.entries
        ]


def by_area(choices) -> list[tuple[str, list]]:
    """Competency choices grouped by area, keeping the framework's order of areas."""
    groups: dict[str, list] = {}
    for choice in choices:
        groups.setdefault(choice.area, []).append(choice)
    return list(groups.items())


class TimelineFilterForm(Form):
    """The timeline's filters: a GET form, so no CSRF token; every field may stay empty."""

    q = StringField(
        "Search",
        validators=[Length(max=200)],
        description="Finds items with every word in the title or the text.",
    )
    competency = SelectField("Competency", default="", widget=Select())
    kind = SelectField(
        "Kind", choices=[SelectChoice("", "Any kind"), *KIND_CHOICES], default="", widget=Select()
    )
    visibility = SelectField(
        "Visibility",
        default="",
        widget=Select(),
        choices=[
            SelectChoice("", "Drafts and shared"),
            SelectChoice(Visibility.PRIVATE.value, "Private drafts"),
            SelectChoice(Visibility.SHARED.value, "Shared"),
        ],
    )
    since = DateField("From", validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    until = DateField("To", validators=[Optional()], invalid_value_message=DATE_MESSAGE)

    def set_competencies(self, choices) -> None:
        self.competency.choices = [SelectChoice("", "Any competency")] + [
            SelectChoice(c.key, c.name, optgroup=c.area) for c in choices
        ]

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")
