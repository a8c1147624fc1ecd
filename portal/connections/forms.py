"""Forms of the Connections pages.

The forms only carry what was typed (and the CSRF token): the rules a
connection must follow live in the connection service, which names the field
each problem belongs to, so the pages and the command line report the same
things.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

SLUG_HINT = "Short and unique among your connections: it starts every reference, as in acme-jira:PROJ-12."
# Where each vendor hands out the token the form asks for.
TOKEN_HINTS = {
    "jira": "An Atlassian API token, created at id.atlassian.com under Security, API tokens.",
    "openproject": "An API token from My account, Access tokens, in OpenProject.",
    "clickup": "A personal API token (pk_…) from Settings, Apps, in ClickUp.",
    "redmine": "The API access key from My account in Redmine (an administrator enables the REST API).",
}


class ConnectionFields(FlaskForm):
    """What new and existing connections share; the page decides which of them apply to a vendor."""

    name = StringField("Display name", validators=[Length(max=120, message="At most 120 characters.")])
    slug = StringField(
        "Slug", description=SLUG_HINT, validators=[Length(max=40, message="At most 40 characters.")]
    )
    base_url = StringField("Base URL", validators=[Length(max=500, message="At most 500 characters.")])
    username = StringField(
        "Account email",
        description="The email address of the account the API token belongs to.",
        validators=[Length(max=254, message="At most 254 characters.")],
    )
    # A password input: the stored token is never written back into a page.
    token = PasswordField("API token", validators=[Length(max=2000, message="At most 2000 characters.")])
    team_id = StringField(
        "Workspace ID",
        description="Optional when the token sees only one ClickUp Workspace.",
        validators=[Length(max=40, message="At most 40 characters.")],
    )
    # Offered instead of team_id once a check has listed the token's workspaces; the
    # choices come from that check, and the save's own check verifies the one chosen.
    workspace = SelectField("Workspace", choices=[], validate_choice=False)


class NewConnectionForm(ConnectionFields):
    provider_type = HiddenField("Provider")


class EditConnectionForm(ConnectionFields):
    """The provider of an existing connection is fixed: a different product is a new connection."""


class ConnectionActionForm(FlaskForm):
    """A POST button with its CSRF token (test, enable, disable, delete)."""


def workspace_choices(workspaces: tuple[tuple[str, str], ...]) -> list[SelectChoice]:
    return [SelectChoice("", "Choose a workspace")] + [
        SelectChoice(workspace_id, f"{name} ({workspace_id})") for workspace_id, name in workspaces
    ]
