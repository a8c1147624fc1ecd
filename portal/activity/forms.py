"""The Activity filters: a GET form, so a filtered view (and its CSV export) is a shareable link."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.core.services.activity import KIND_GROUP_LABELS

PERIOD_CHOICES = [
    SelectChoice("", "Any time"),
    SelectChoice("24h", "Last 24 hours"),
    SelectChoice("7d", "Last 7 days"),
    SelectChoice("30d", "Last 30 days"),
]
OUTCOME_CHOICES = [
    SelectChoice("", "Any outcome"),
    SelectChoice("ok", "Succeeded"),
    SelectChoice("error", "Failed"),
]
KIND_CHOICES = [SelectChoice("", "Every event")] + [
    SelectChoice(name, label) for name, label in KIND_GROUP_LABELS.items()
]


class ActivityFilterForm(FlaskForm):
    """Choices are checked by the activity service, which says what a wrong value should be."""

    class Meta:
        csrf = False

    member = SelectField("Member", validate_choice=False)
    kind = SelectField("Event", choices=KIND_CHOICES, validate_choice=False)
    key = SelectField("Key", validate_choice=False)
    grant = SelectField("App", validate_choice=False)
    connection = SelectField("Connection", validate_choice=False)
    tool = SelectField("Tool", validate_choice=False)
    outcome = SelectField("Outcome", choices=OUTCOME_CHOICES, validate_choice=False)
    period = SelectField("Period", choices=PERIOD_CHOICES, validate_choice=False)
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
