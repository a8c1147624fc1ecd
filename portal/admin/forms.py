from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
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
