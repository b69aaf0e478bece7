"""Forms for generating a case's packet and exporting a cycle's packets."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice

from app.models import PacketView


class GenerateForm(FlaskForm):
    view = HiddenField()


class ExportForm(FlaskForm):
    """The cycle page's ZIP export (templates/packets/_cycle_panel.html writes its select)."""

    view = SelectField(
        "Packets",
        choices=[
            SelectChoice(PacketView.COMMITTEE.value, "Committee packets (everything)"),
            SelectChoice(
                PacketView.CANDIDATE.value, "Candidate packets (what each candidate gets)"
            ),
        ],
        default=PacketView.COMMITTEE.value,
    )
