from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.models import MCP_CLIENTS
from portal.core.services.connections import ConnectionView, connection_id_of

EXPIRY_CHOICES = [
    SelectChoice("", "Never"),
    SelectChoice("30", "30 days"),
    SelectChoice("90", "90 days"),
    SelectChoice("365", "365 days"),
]
CLIENT_CHOICES = [SelectChoice(value, label) for value, label in MCP_CLIENTS.items()]


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes, which work without JavaScript on any screen."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ConnectionLimitForm(FlaskForm):
    """The connection limit a key or an OAuth grant can carry: all connections, or some of them."""

    connections_mode = RadioField(
        "Connections",
        choices=[
            SelectChoice("all", "All my connections, also ones I add later"),
            SelectChoice("some", "Only the ones ticked below"),
        ],
        default="all",
    )
    connection_ids = CheckboxesField("Allowed connections", coerce=int, choices=[], validate_choice=False)

    def offer_connections(self, views: list[ConnectionView]) -> None:
        self.connection_ids.choices = [
            SelectChoice(connection_id_of(view), f"{view.name} ({view.slug})") for view in views
        ]

    def chosen_connection_ids(self) -> list[int] | None:
        """None for all connections, else the ticked ids (an error on the field when none is ticked)."""
        if self.connections_mode.data != "some":
            return None
        offered = {choice.value for choice in self.connection_ids.choices}
        chosen = [value for value in (self.connection_ids.data or []) if value in offered]
        if not chosen:
            self.connection_ids.errors = [*self.connection_ids.errors, "Tick at least one connection."]
            return []
        return chosen


class NewKeyForm(ConnectionLimitForm):
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
