from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.core.models import MCP_CLIENTS

EXPIRY_CHOICES = [
    SelectChoice("", "Never"),
    SelectChoice("30", "30 days"),
    SelectChoice("90", "90 days"),
    SelectChoice("365", "365 days"),
]
CLIENT_CHOICES = [SelectChoice(value, label) for value, label in MCP_CLIENTS.items()]


class NewKeyForm(FlaskForm):
    name = StringField(
        "Name",
        description="Unique among your keys, such as 'work computer'.",
        validators=[InputRequired("Give the key a name."), Length(max=80, message="At most 80 characters.")],
    )
    client = SelectField("Client", choices=CLIENT_CHOICES, default="cursor")
    expires = SelectField("Expires", choices=EXPIRY_CHOICES, default="90")
    read_only = BooleanField("Read-only: refuse every tool that changes data")


class KeyActionForm(FlaskForm):
    """A POST button with its CSRF token (revoke, rotate)."""
