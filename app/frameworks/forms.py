"""Forms of the framework editor: new framework, import, publish; the base of every draft form
(the forms of the draft's parts are in part_forms.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.services.frameworks import editing

KEY_HINT = "Lower-case letters, digits and dashes. Leave empty to make one from the name."


def optional_int(value):
    """A chosen id, or None when nothing was chosen."""
    return int(value) if value not in (None, "", "None") else None


class DraftForm(FlaskForm):
    """A change to a draft: carries the revision its editor saw, for conflict checks."""

    revision = HiddenField()

    @classmethod
    def for_version(cls, version) -> DraftForm:
        """The form for a part of `version` (choices that depend on it are set here)."""
        return cls()

    def fill(self, page: editing.PartPage) -> None:
        """Before the first view: the part's stored values (nothing while adding one)."""
        if page.item is not None:
            self.process(obj=page.item)

    def conflict_rows(self, current: dict) -> list[tuple[str, str]]:
        """Someone else's stored values as (label, text) rows, in the words of this form."""
        rows = []
        for name, value in current.items():
            field = getattr(self, name, None)
            label = field.label.text if field is not None else name.replace("_", " ").capitalize()
            rows.append((label, self._display(field, value)))
        return rows

    @staticmethod
    def _display(field, value) -> str:
        choices = getattr(field, "choices", None)
        if not choices:
            return "" if value is None else str(value)
        labels = {str(choice.value): str(choice.label) for choice in choices}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)


# --- creating and importing ---------------------------------------------------------------------


class NewFrameworkForm(FlaskForm):
    slug = StringField(
        "Slug",
        validators=[DataRequired(message="Enter a slug."), Length(max=editing.SLUG_MAX)],
        description="The framework's name in web addresses and files, such as "
        "product-management. Lower-case letters, digits and dashes; it cannot change later.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField("Name", validators=[DataRequired(message="Enter a name.")])
    description = TextAreaField("Description", validators=[Optional()])
    track_name = StringField(
        "Name of the first track",
        validators=[DataRequired(message="Enter the name of the first track.")],
        description="Such as Individual contributor. Add more tracks later.",
    )
    track_key = StringField("Key of the first track", description=KEY_HINT)
    level_code = StringField(
        "Code of the first level",
        validators=[DataRequired(message="Enter a code.")],
        description="Short and unique, such as APM or PM1.",
    )
    level_title = StringField(
        "Title of the first level",
        validators=[DataRequired(message="Enter a title.")],
        description="Such as Associate Product Manager.",
    )
    area_name = StringField(
        "Name of the first competency area",
        validators=[DataRequired(message="Enter the name of the first area.")],
        description="Such as Discovery & customer insight.",
    )
    competency_name = StringField(
        "Name of the first competency",
        validators=[DataRequired(message="Enter the name of the first competency.")],
        description="Such as Customer research.",
    )

    def to_input(self) -> editing.NewFramework:
        return editing.NewFramework(
            **{name: self[name].data or "" for name in editing.NewFramework.__dataclass_fields__}
        )


FORMAT_CHOICES = [
    SelectChoice(
        "", "From the file name (.yaml: Rungs YAML, .md: Monzo, .csv: CSV) or its first lines"
    ),
    SelectChoice("yaml", "Rungs YAML (rungs-framework/1)"),
    SelectChoice("monzo", "Monzo progression framework (Markdown with YAML front matter)"),
    SelectChoice("csv", "CSV, one row per record (as Rungs exports it)"),
]


class ImportForm(FlaskForm):
    file = FileField(
        "Framework file",
        validators=[FileRequired(message="Choose a file.")],
        render_kw={"accept": ".yaml,.yml,.md,.csv,text/yaml,text/markdown,text/csv"},
    )
    format = SelectField("Format", choices=FORMAT_CHOICES, default="")
    publish = BooleanField(
        "Publish at once",
        description="Otherwise the file becomes a draft that you can look over and edit first.",
    )
    changelog = TextAreaField(
        "Changelog",
        description="What changed, for the version history (used when publishing at once).",
        validators=[Length(max=2000)],
    )


# --- publishing ---------------------------------------------------------------------------------


class PublishForm(DraftForm):
    changelog = TextAreaField(
        "Changelog",
        validators=[DataRequired(message="Say what changed in this version."), Length(max=2000)],
        description="What changed and why, in a few lines. "
        "Everyone sees it in the version history.",
        render_kw={"rows": 4},
    )

    def mapping(self, stranded) -> dict[int, int]:
        return {s.person_id: self[f"level_for_{s.person_id}"].data for s in stranded}


def publish_form(stranded, levels) -> PublishForm:
    """The publish form with a required level choice for each person whose level goes away."""

    class Form(PublishForm):
        pass

    choices = [SelectChoice("", "Choose a level")] + [
        SelectChoice(level.id, f"{level.code} — {level.title}") for level in levels
    ]
    for person in stranded:
        setattr(
            Form,
            f"level_for_{person.person_id}",
            SelectField(
                f"{person.name}, now {person.level_code}",
                coerce=optional_int,
                choices=choices,
                validators=[InputRequired(message=f"Choose a level for {person.name}.")],
            ),
        )
    return Form()


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token."""
