"""Forms for comments, kudos and corroboration requests and answers."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.forms import optional_id
from app.services.evidence.conversation import COMMENT_MAX, NOTE_MAX


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Comment",
        validators=[
            DataRequired(message="Write something before sending."),
            Length(max=COMMENT_MAX, message=f"Use at most {COMMENT_MAX:,} characters."),
        ],
        description="Markdown works: **bold**, _italic_, lists and links.",
        render_kw={"rows": 4, "maxlength": COMMENT_MAX},
    )
    reply_to = HiddenField(filters=[optional_id])


class KudosForm(FlaskForm):
    """Give kudos ("1") or take them back ("0"): explicit, so a double click changes nothing."""

    give = HiddenField()


class RequestForm(FlaskForm):
    peer_id = SelectField(
        "Whom to ask",
        coerce=optional_id,
        validate_choice=False,  # the service says why a person cannot be asked
        description="Someone who saw the work: they can read this item, and confirm it with a "
        "short note or decline.",
    )

    def set_choices(self, people: list[tuple[int, str]]) -> None:
        self.peer_id.choices = [SelectChoice(None, "Choose a person")] + [
            SelectChoice(person_id, name) for person_id, name in people
        ]


class AnswerForm(FlaskForm):
    note = TextAreaField(
        "Note (optional)",
        validators=[Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX} characters.")],
        description="What you saw, in a sentence or two.",
        render_kw={"rows": 3, "maxlength": NOTE_MAX},
    )
    confirm = SubmitField("Confirm")
    decline = SubmitField("Decline")
