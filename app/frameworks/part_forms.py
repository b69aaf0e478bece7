"""Forms of the draft's parts, one or two per kind (a new track or area comes with its first
level or competency), and the move and remove buttons; parts.py says which form is whose."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.frameworks.forms import KEY_HINT, DraftForm, optional_int
from app.models import DELEGATION_LEVELS, CellStatus, DaciRole
from app.services.frameworks import editing
from app.services.frameworks.document import SHORT_NAME_MAX, TEXT_MAX, IndicatorDoc


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes, rendered in a fieldset by the templates."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# --- tracks, levels, decision rights ------------------------------------------------------------


class TrackForm(DraftForm):
    name = StringField("Name", validators=[DataRequired(message="Enter a name.")])
    key = StringField("Key", description=KEY_HINT, render_kw={"spellcheck": "false"})

    def to_input(self) -> editing.TrackInput:
        return editing.TrackInput(key=self.key.data or "", name=self.name.data or "")


class NewTrackForm(TrackForm):
    """A track is added with its first level, so the draft never has an empty track."""

    level_code = StringField(
        "Code of its first level", validators=[DataRequired(message="Enter a code.")]
    )
    level_title = StringField(
        "Title of its first level", validators=[DataRequired(message="Enter a title.")]
    )
    level_rank = IntegerField(
        "Rank of its first level",
        validators=[InputRequired(message="Enter a whole number.")],
        description="Compares seniority across tracks: equal ranks are equally senior.",
    )

    def to_input(self) -> editing.TrackInput:
        data = super().to_input()
        data.first = editing.LevelInput(
            code=self.level_code.data or "",
            title=self.level_title.data or "",
            rank=self.level_rank.data,
        )
        return data


class LevelForm(DraftForm):
    code = StringField(
        "Code",
        validators=[DataRequired(message="Enter a code.")],
        description="Short and unique in the framework, such as PM3. People are placed on a "
        "level by its code; people on a code that goes away are moved when you publish.",
    )
    title = StringField("Title", validators=[DataRequired(message="Enter a title.")])
    rank = IntegerField(
        "Rank",
        validators=[InputRequired(message="Enter a whole number.")],
        description="Rises along the track; compares seniority across tracks.",
    )
    summary = TextAreaField(
        "Summary", description="One or two sentences on what the level is about."
    )
    scope = TextAreaField("Scope", description="What the role is responsible for.")
    typical_experience = StringField(
        "Typical experience", description="A guide, never a rule, such as 2 to 5 years in product."
    )

    def to_input(self) -> editing.LevelInput:
        return editing.LevelInput(
            code=self.code.data or "",
            title=self.title.data or "",
            rank=self.rank.data,
            summary=self.summary.data or "",
            scope=self.scope.data or "",
            typical_experience=self.typical_experience.data or "",
        )


DACI_LABELS = {
    DaciRole.DRIVER: "Driver — drives the decision to an outcome",
    DaciRole.APPROVER: "Approver — makes the final call",
    DaciRole.CONTRIBUTOR: "Contributor — is consulted",
    DaciRole.INFORMED: "Informed — is told of the decision",
}


class DecisionForm(DraftForm):
    decision = TextAreaField(
        "Decision",
        validators=[DataRequired(message="Describe the decision."), Length(max=1000)],
        description="Such as: Roadmap sequencing within their product area.",
    )
    role = SelectField(
        "DACI role", choices=[SelectChoice(role.value, DACI_LABELS[role]) for role in DaciRole]
    )
    delegation = SelectField(
        "Delegation level",
        coerce=int,
        choices=[SelectChoice(n, f"{n} — {name}") for n, name in DELEGATION_LEVELS.items()],
        description="How far the decision is delegated to this level: "
        "1 Tell (decided for them) … 7 Delegate (theirs entirely).",
    )

    def to_input(self) -> editing.DecisionInput:
        return editing.DecisionInput(
            decision=self.decision.data or "",
            role=DaciRole(self.role.data),
            delegation=self.delegation.data,
        )


# --- areas and competencies ---------------------------------------------------------------------


class AreaForm(DraftForm):
    name = StringField("Name", validators=[DataRequired(message="Enter a name.")])
    key = StringField("Key", description=KEY_HINT, render_kw={"spellcheck": "false"})
    description = TextAreaField("Description")

    def to_input(self) -> editing.AreaInput:
        return editing.AreaInput(
            key=self.key.data or "",
            name=self.name.data or "",
            description=self.description.data or "",
        )


class NewAreaForm(AreaForm):
    """An area is added with its first competency, so the draft never has an empty area."""

    competency_name = StringField(
        "Name of its first competency",
        validators=[DataRequired(message="Enter the name of the first competency.")],
        description="It applies to every track; change that when you edit it.",
    )
    competency_key = StringField(
        "Key of its first competency", description=KEY_HINT, render_kw={"spellcheck": "false"}
    )

    def to_input(self) -> editing.AreaInput:
        data = super().to_input()
        data.first = editing.CompetencyInput(
            key=self.competency_key.data or "",
            name=self.competency_name.data or "",
            description="",
            area_id=0,
            track_ids=[],
        )
        return data


class CompetencyForm(DraftForm):
    name = StringField("Name", validators=[DataRequired(message="Enter a name.")])
    key = StringField(
        "Key",
        description="Stays the same across versions, so that evidence and assessments follow "
        "the competency when it is renamed. " + KEY_HINT,
        render_kw={"spellcheck": "false"},
    )
    short_name = StringField(
        "Short name",
        description=f"At most {SHORT_NAME_MAX} characters, such as Stakeholders for "
        "Stakeholder management: it heads the competency's column in the calibration grid. "
        "Leave it empty and Rungs shortens the name.",
    )
    description = TextAreaField("Description")
    area_id = SelectField("Area", coerce=optional_int)
    track_ids = CheckboxesField(
        "Tracks it applies to",
        coerce=int,
        description="It gets a cell at every level of these tracks.",
    )
    drop_written_cells = BooleanField(
        "Delete the written expectations of the tracks I untick",
    )

    @classmethod
    def for_version(cls, version) -> CompetencyForm:
        form = cls()
        form.area_id.choices = [SelectChoice(area.id, area.name) for area in version.areas]
        form.track_ids.choices = [SelectChoice(track.id, track.name) for track in version.tracks]
        return form

    def fill(self, page: editing.PartPage) -> None:
        """A new competency starts in the area it is added to, on every track."""
        super().fill(page)
        if page.item is None:
            self.area_id.data = page.parent.id
        tracks = page.version.tracks if page.item is None else page.item.tracks
        self.track_ids.data = [track.id for track in tracks]

    def to_input(self) -> editing.CompetencyInput:
        return editing.CompetencyInput(
            key=self.key.data or "",
            name=self.name.data or "",
            description=self.description.data or "",
            area_id=self.area_id.data or 0,
            track_ids=list(self.track_ids.data or []),
            drop_written_cells=bool(self.drop_written_cells.data),
            short_name=self.short_name.data or "",
        )


# --- cells --------------------------------------------------------------------------------------

STATUS_LABELS = {
    CellStatus.DEFINED: "Defined",
    CellStatus.EMPTY: "Empty (not written yet)",
    CellStatus.NOT_APPLICABLE: "Not applicable at this level",
}


class CellForm(DraftForm):
    status = RadioField(
        "Status",
        choices=[SelectChoice(status.value, STATUS_LABELS[status]) for status in CellStatus],
        validators=[InputRequired(message="Choose a status.")],
    )
    text = TextAreaField(
        "Expectation",
        validators=[Length(max=TEXT_MAX)],
        description="What a person at this level does, in concrete, observable terms.",
        render_kw={"rows": 6},
    )
    measures = TextAreaField(
        "Measure: how you'll know",
        description=(
            "How someone could check that the expectation is met: an outcome a manager or a "
            "calibration committee could see, not a count of activities. One, by convention."
        ),
        render_kw={"rows": 4},  # a shipped measure runs to about 250 characters
    )
    criteria = TextAreaField("Criteria", render_kw={"rows": 3})
    examples = TextAreaField("Examples", render_kw={"rows": 3})
    signals = TextAreaField("Signals", render_kw={"rows": 3})

    def fill(self, page: editing.PartPage) -> None:
        for name, value in editing.cell_snapshot(page.item).items():
            self[name].data = value

    def to_input(self) -> editing.CellInput:
        indicators = [
            IndicatorDoc(kind, line)
            for kind, name in editing.INDICATOR_FIELDS.items()
            for line in (self[name].data or "").splitlines()
            if line.strip()
        ]
        return editing.CellInput(
            status=CellStatus(self.status.data), text=self.text.data or "", indicators=indicators
        )


# --- moving, removing ---------------------------------------------------------------------------


class MoveForm(DraftForm):
    direction = SelectField(choices=[SelectChoice("up", "Up"), SelectChoice("down", "Down")])


class RemoveForm(DraftForm):
    confirm = BooleanField("Yes, remove it with everything listed above")
