from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.core.accounts import MIN_PASSWORD_LENGTH


class NewMemberForm(FlaskForm):
    display_name = StringField("Name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[InputRequired("Enter the member's email address.")])
    temporary_password = PasswordField(
        "Temporary password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters. They must change it when they first sign in.",
        validators=[InputRequired("Choose a temporary password.")],
    )
    is_admin = BooleanField("Administrator")


class ActionForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""


class NewOAuthClientForm(FlaskForm):
    """An OAuth client an administrator registers for the team (a company chat connector, an internal app)."""

    client_name = StringField(
        "Name",
        description="Shown to members on the consent page.",
        validators=[InputRequired("Give the client a name."), Length(max=120)],
    )
    redirect_uris = TextAreaField(
        "Redirect URIs",
        description="One a line, exactly as the client sends them: https, or http to 127.0.0.1 / localhost.",
        validators=[InputRequired("Give at least one redirect URI.")],
    )
    confidential = BooleanField("Confidential: the client keeps a secret (a server-side app)")
