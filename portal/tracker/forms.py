"""Forms of the tracker pages. Choices that depend on the project are filled in by the routes.

Select fields carry strings ("" for none); the routes turn them into ids. The
service checks everything again, so a form only catches what a person can fix
before the round trip.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FloatField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from portal.core.models import FIELD_TYPES, PRIORITIES, SPRINT_STATES, STATUS_CATEGORIES, TASK_TYPES
from portal.core.tracker.service import MAX_ESTIMATE_HOURS, MAX_STORY_POINTS, MAX_TEXT, format_number
from portal.core.tracker.work import LINK_CHOICES

MARKDOWN_HINT = "Markdown: **bold**, *italic*, `code`, lists, [links](https://example.com)."

PRIORITY_LABELS = {name: "No priority" if name == "none" else name.capitalize() for name in PRIORITIES}
CATEGORY_LABELS = {"todo": "To do", "in_progress": "In progress", "done": "Done"}
SPRINT_STATE_LABELS = {"future": "Planned", "active": "Running", "closed": "Closed"}

TYPE_CHOICES = [SelectChoice(name, name.capitalize()) for name in TASK_TYPES]
PRIORITY_CHOICES = [SelectChoice(name, PRIORITY_LABELS[name]) for name in PRIORITIES]
CATEGORY_CHOICES = [SelectChoice(name, CATEGORY_LABELS[name]) for name in STATUS_CATEGORIES]
SPRINT_STATE_CHOICES = [SelectChoice(name, SPRINT_STATE_LABELS[name]) for name in SPRINT_STATES]


class NumberField(FloatField):
    """A number as people write it: a stored 8.0 shows as 8, 2.50 as 2.5 (what was typed shows as typed)."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_number(self.data) if self.data is not None else ""


def _description(label: str = "Description") -> TextAreaField:
    return TextAreaField(label, description=MARKDOWN_HINT, validators=[Optional(), Length(max=MAX_TEXT)])


class NewProjectForm(FlaskForm):
    key = StringField(
        "Key",
        description="2 to 10 letters and digits, starting with a letter. Task keys start with it "
        "(DEMO-12), so it can't be changed later.",
        validators=[
            InputRequired("Enter a key, such as DEMO."),
            Regexp(
                r"^[A-Za-z][A-Za-z0-9]{1,9}$",
                message="Use 2 to 10 letters and digits, starting with a letter, such as DEMO.",
            ),
        ],
    )
    name = StringField("Name", validators=[InputRequired("Enter a project name."), Length(max=120)])
    description = _description()


class EditProjectForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter a project name."), Length(max=120)])
    description = _description()


class NewStatusForm(FlaskForm):
    name = StringField("Status name", validators=[InputRequired("Enter a status name."), Length(max=60)])
    category = SelectField(
        "Counts as", choices=CATEGORY_CHOICES, description="Done statuses mark a task as finished."
    )


class TaskForm(FlaskForm):
    title = StringField("Title", validators=[InputRequired("Enter a title."), Length(max=255)])
    description = _description()
    type = SelectField("Type", choices=TYPE_CHOICES, default="task")
    status = SelectField("Status")
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, default="none")
    assignee = SelectField("Assignee")
    due = DateField("Due date", validators=[Optional()])
    estimate_hours = NumberField(
        "Estimate (hours)",
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_ESTIMATE_HOURS, message=f"Enter 0 to {MAX_ESTIMATE_HOURS:,} hours."),
        ],
    )
    story_points = NumberField(
        "Story points",
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_STORY_POINTS, message=f"Enter 0 to {MAX_STORY_POINTS:,} points."),
        ],
    )
    parent = StringField(
        "Parent task",
        description="The key of a task in this project, such as DEMO-3.",
        validators=[Optional()],
    )
    epic = SelectField("Epic")
    sprint = SelectField("Sprint")


class SprintForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter a sprint name."), Length(max=120)])
    goal = _description("Goal")
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date", description="The sprint includes its end day.", validators=[Optional()])
    state = SelectField("State", choices=SPRINT_STATE_CHOICES, default="future")
    move_open_to = SelectField(
        "When closing, move open tasks to",
        description="Done tasks stay in the sprint they were finished in.",
        default="backlog",
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Add a comment",
        description=MARKDOWN_HINT,
        validators=[InputRequired("Write a comment."), Length(max=MAX_TEXT)],
    )


class StatusChangeForm(FlaskForm):
    status = SelectField("Move to")


class TaskFilterForm(FlaskForm):
    """The task list's filters: a GET form, so links to a filtered list can be shared."""

    class Meta:
        csrf = False

    text = StringField("Text", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", validate_choice=False)
    assignee = SelectField("Assignee", validate_choice=False)
    sprint = SelectField("Sprint", validate_choice=False)


class ActionForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""


BACKLOG_CHOICE = "backlog"
FIELD_TYPE_LABELS = {"text": "Text", "number": "Number", "date": "Date", "option": "One of a list"}


class LinkForm(FlaskForm):
    kind = SelectField("This task", choices=[SelectChoice(name, name.capitalize()) for name in LINK_CHOICES])
    other = StringField(
        "Other task",
        description="Its key, such as DEMO-3.",
        validators=[InputRequired("Enter the key of the other task, such as DEMO-3."), Length(max=30)],
    )


class WorklogForm(FlaskForm):
    time = StringField(
        "Time spent",
        description="Hours (1.5) or a duration such as 1h30m or 45m.",
        validators=[InputRequired("Enter the time spent, such as 1h30m."), Length(max=30)],
    )
    started = DateField("Day", validators=[Optional()], description="Today when left empty.")
    comment = TextAreaField(
        "What was done", description=MARKDOWN_HINT, validators=[Optional(), Length(max=MAX_TEXT)]
    )


class MoveToSprintForm(FlaskForm):
    """Move the tasks ticked on the board or the task list into a sprint, or out to the backlog."""

    tasks = SelectMultipleField("Tasks", validate_choice=False)
    sprint = SelectField("Move to sprint")

    def validate_tasks(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Tick the tasks to move first.")


class NewFieldForm(FlaskForm):
    name = StringField("Field name", validators=[InputRequired("Enter a field name."), Length(max=60)])
    type = SelectField("Holds", choices=[SelectChoice(t, FIELD_TYPE_LABELS[t]) for t in FIELD_TYPES])
    allowed = TextAreaField(
        "Values to choose from", description="For a field that holds one of a list: one value a line."
    )
