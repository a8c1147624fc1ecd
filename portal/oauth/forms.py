from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from portal.core.oauth.grants import GRANT_DURATIONS
from portal.keys.forms import ConnectionLimitForm

ACCESS_CHOICES = [
    SelectChoice("read", "Read only: see tasks, projects, sprints and reports; change nothing"),
    SelectChoice("write", "Read and write: also create, change, comment on and delete tasks"),
]


class ConsentForm(ConnectionLimitForm):
    """What a user lets an OAuth client do. Field names stay clear of the OAuth request's parameters."""

    access = RadioField("What it may do", choices=ACCESS_CHOICES, default="read")
    duration = RadioField(
        "For how long",
        choices=[SelectChoice(value, label) for value, (_days, label) in GRANT_DURATIONS.items()],
        default="30",
    )
