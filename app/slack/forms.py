"""The Slack settings form: both secrets optional (blank keeps what is stored)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length, Optional

from app.services.messages.slack import TOKEN_MAX, WEBHOOK_MAX


class SlackSettingsForm(FlaskForm):
    # Password inputs: the browser neither shows nor autocompletes them, and the page never
    # fills them in (a blank field keeps the stored value).
    token = PasswordField(
        "Bot token",
        validators=[Optional(), Length(max=TOKEN_MAX)],
        description="Starts with xoxb-. Needs the chat:write, users:read and users:read.email "
        "scopes. Leave blank to keep the one stored.",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    webhook_url = StringField(
        "Incoming webhook URL",
        validators=[Optional(), Length(max=WEBHOOK_MAX)],
        description="Starts with https://hooks.slack.com/services/. Leave blank to keep the "
        "one stored.",
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"},
    )
