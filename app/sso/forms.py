"""The Sign-in settings form: the provider, its client, and what happens to unknown people."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from app.services.people.sso_settings import (
    CLIENT_ID_MAX,
    PROVIDER_NAME_MAX,
    SECRET_MAX,
    URL_MAX,
    UnknownPeople,
)

# Lengths are checked generously here and exactly by the service (which names the field).
NO_AUTOFILL = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}


class SsoSettingsForm(FlaskForm):
    provider_name = StringField(
        "Provider name",
        validators=[Length(max=PROVIDER_NAME_MAX * 4)],
        render_kw={"maxlength": PROVIDER_NAME_MAX},
        description=f"As people know it; the sign-in button says “Sign in with …”. At most "
        f"{PROVIDER_NAME_MAX} characters.",
    )
    discovery_url = StringField(
        "Discovery URL",
        validators=[Length(max=URL_MAX * 2)],
        description="The provider's OpenID Connect discovery document, ending in "
        "/.well-known/openid-configuration (its issuer URL alone works too).",
        render_kw={**NO_AUTOFILL, "inputmode": "url"},
    )
    client_id = StringField(
        "Client id",
        validators=[Length(max=CLIENT_ID_MAX * 2)],
        render_kw=NO_AUTOFILL,
    )
    # A password input: never shown back, never autocompleted; blank keeps the stored secret.
    client_secret = PasswordField(
        "Client secret",
        validators=[Length(max=SECRET_MAX * 2)],
        render_kw=NO_AUTOFILL,
    )
    allowed_domains = StringField(
        "Add only addresses at",
        validators=[Length(max=2000)],
        description="Email domains, separated by spaces (example.com). Blank: any address the "
        "provider vouches for.",
        render_kw=NO_AUTOFILL,
    )
    unknown_people = RadioField(
        "People the provider knows but Rungs does not",
        choices=[SelectChoice(choice.value, choice.label) for choice in UnknownPeople],
        default=UnknownPeople.REFUSE.value,
        validate_choice=False,  # the service refuses anything else, by this field
    )
