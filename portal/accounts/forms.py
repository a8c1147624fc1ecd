from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from portal.core.accounts import MIN_PASSWORD_LENGTH

PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters."


class SignupForm(FlaskForm):
    display_name = StringField("Your name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[InputRequired("Enter an email address.")])
    password = PasswordField(
        "Password",
        description=PASSWORD_HINT,
        validators=[InputRequired("Choose a password.")],
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[
            InputRequired("Type the password again."),
            EqualTo("password", "The passwords don't match."),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    password = PasswordField(
        "New password", description=PASSWORD_HINT, validators=[InputRequired("Choose a password.")]
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[
            InputRequired("Type the new password again."),
            EqualTo("password", "The passwords don't match."),
        ],
    )
