from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.models import MCP_CLIENTS
from portal.core.services.connections import ConnectionView, connection_id_of
from portal.core.toolsets import DEFAULT_TOOLSETS, TOOLSETS, listing_cost

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


def toolset_choices() -> list[SelectChoice]:
    """Each toolset with what it holds and what it costs a client's context on its own."""
    choices = []
    for name, holds in TOOLSETS.items():
        cost = listing_cost({name}, read_only=False)
        alone = listing_cost(set(), read_only=False)
        tools = cost.tools - alone.tools
        label = f"{name}: {holds} ({tools} tools, about {cost.tokens - alone.tokens:,} tokens)"
        choices.append(SelectChoice(name, label))
    return choices


class ConnectionLimitForm(FlaskForm):
    """The limits a key or an OAuth grant can carry: all connections or some of them, and its toolsets."""

    connections_mode = RadioField(
        "Connections",
        choices=[
            SelectChoice("all", "All my connections, also ones I add later"),
            SelectChoice("some", "Only the ones ticked below"),
        ],
        default="all",
    )
    connection_ids = CheckboxesField("Allowed connections", coerce=int, choices=[], validate_choice=False)
    toolsets = CheckboxesField(
        "Toolsets",
        choices=toolset_choices,
        default=[name for name in TOOLSETS if name in DEFAULT_TOOLSETS],
        validate_choice=False,
    )

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

    def chosen_toolsets(self) -> frozenset[str] | None:
        """The ticked toolsets, or None (an error on the field) when none is ticked."""
        chosen = frozenset(name for name in (self.toolsets.data or []) if name in TOOLSETS)
        if not chosen:
            self.toolsets.errors = [*self.toolsets.errors, "Tick at least one toolset."]
            return None
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
