"""What tools return: compact, typed shapes of the domain objects, and their one-line text forms.

Lists carry short task summaries (ref, key, title, status, assignee, priority,
due, url); full bodies come only from the get_* tools.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, overload

from pydantic import BaseModel, Field, SerializeAsAny

from portal.core.providers import base as domain

from .budget import cut_with_marker
from .registry import ToolOutput

SUMMARY_CHARS = 500  # a long text in detail='summary'


class PersonOut(BaseModel):
    ref: str
    name: str
    email: str | None = None


class StatusOut(BaseModel):
    name: str
    category: str = Field(description="todo, in_progress, done or unknown")


class TaskSummaryOut(BaseModel):
    ref: str
    key: str
    title: str
    status: str | None = None
    status_category: str | None = None
    assignee: str | None = None
    priority: str | None = None
    due: date | None = None
    url: str

    def line(self) -> str:
        details = [d for d in (self.assignee, self.priority, f"due {self.due}" if self.due else None) if d]
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{self.ref} [{self.status or '?'}] {self.title}{suffix}"


class TaskOut(TaskSummaryOut):
    description: str | None = None
    type: str | None = None
    assignee_ref: str | None = None
    reporter: PersonOut | None = None
    project: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    done_at: datetime | None = None
    estimate_hours: float | None = None
    story_points: float | None = None
    parent: str | None = None
    epic: str | None = None
    sprint: str | None = None
    labels: list[str] = Field(default_factory=list)


class ProjectOut(BaseModel):
    ref: str
    key: str
    name: str
    url: str
    description: str | None = None


class CommentOut(BaseModel):
    ref: str
    author: str | None = None
    body: str
    created_at: datetime | None = None
    url: str | None = None


class SprintOut(BaseModel):
    ref: str
    name: str
    state: str = Field(description="future, active, closed or unknown")
    start: datetime | None = None
    end: datetime | None = None
    goal: str | None = None
    url: str | None = None


class EpicOut(BaseModel):
    ref: str
    key: str
    title: str
    status: str | None = None
    url: str
    description: str | None = None


class ConnectionFailure(BaseModel):
    connection: str
    error_class: str
    message: str


@overload
def person(user: domain.User) -> PersonOut: ...
@overload
def person(user: None) -> None: ...
def person(user: domain.User | None) -> PersonOut | None:
    return PersonOut(ref=user.ref, name=user.name, email=user.email) if user else None


def status(value: domain.Status) -> StatusOut:
    return StatusOut(name=value.name, category=str(value.category))


def task_summary(task: domain.Task) -> TaskSummaryOut:
    return TaskSummaryOut(
        ref=task.ref,
        key=task.key,
        title=task.title,
        status=task.status.name if task.status else None,
        status_category=str(task.status.category) if task.status else None,
        assignee=task.assignee.name if task.assignee else None,
        priority=task.priority.name if task.priority else None,
        due=task.due,
        url=task.url,
    )


def description_of(task: domain.Task, limit: int, *, offset: int = 0) -> str | None:
    """The task's description from `offset`, cut to `limit` with a marker saying how to read on."""
    if task.description is None:
        return None
    how = f"Call get_task with task='{task.ref}' and description_offset={{offset}} to read on."
    return cut_with_marker(task.description, limit, how, start=offset)[0]


def task_full(task: domain.Task, description_chars: int, *, description_offset: int = 0) -> TaskOut:
    """A task in full, its description cut to `description_chars` (from `description_offset`)."""
    return TaskOut(
        **task_summary(task).model_dump(),
        description=description_of(task, description_chars, offset=description_offset),
        type=task.type,
        assignee_ref=task.assignee.ref if task.assignee else None,
        reporter=person(task.reporter),
        project=task.project_ref,
        created_at=task.created_at,
        updated_at=task.updated_at,
        done_at=task.done_at,
        estimate_hours=task.estimate_hours,
        story_points=task.story_points,
        parent=task.parent_ref,
        epic=task.epic_ref,
        sprint=task.sprint_ref,
        labels=list(task.labels),
    )


def project(value: domain.Project) -> ProjectOut:
    return ProjectOut(
        ref=value.ref, key=value.key, name=value.name, url=value.url, description=value.description
    )


def comment(value: domain.Comment, body_chars: int | None = None, task_ref: str | None = None) -> CommentOut:
    """A comment, its body cut to `body_chars` (when given) with a marker saying how to read on."""
    body = value.body
    if body_chars is not None:
        how = (
            f"Call list_comments with task='{task_ref}', comment='{value.id}' and offset={{offset}} to read on."
            if task_ref
            else "Call list_comments with this comment's task, comment id and offset={offset} to read on."
        )
        body = cut_with_marker(body, body_chars, how)[0]
    return CommentOut(
        ref=value.ref,
        author=value.author.name if value.author else None,
        body=body,
        created_at=value.created_at,
        url=value.url,
    )


def sprint(value: domain.Sprint) -> SprintOut:
    return SprintOut(
        ref=value.ref,
        name=value.name,
        state=str(value.state),
        start=value.start,
        end=value.end,
        goal=value.goal,
        url=value.url,
    )


def epic(value: domain.Epic, *, full: bool = False) -> EpicOut:
    return EpicOut(
        ref=value.ref,
        key=value.key,
        title=value.title,
        status=value.status.name if value.status else None,
        url=value.url,
        description=value.description if full else None,
    )


def failures_text(failures: list[ConnectionFailure]) -> str:
    return "".join(f"\n! {f.connection}: {f.message}" for f in failures)


def more_text(next_cursor: str | None) -> str:
    """The cursor in the text too: many clients give the model only the text, not the structured content."""
    if not next_cursor:
        return ""
    return f'\n(more: next_cursor="{next_cursor}"; pass it as cursor to get the next page)'


def lines(items: list[Any], render, empty: str) -> str:
    return "\n".join(render(item) for item in items) if items else empty


class TaskList(ToolOutput):
    # Summaries, or full tasks with detail='full'.
    tasks: list[SerializeAsAny[TaskSummaryOut]]
    next_cursor: str | None = None
    failures: list[ConnectionFailure] = Field(
        default_factory=list, description="Connections that could not answer, and why"
    )

    def text(self) -> str:
        return (
            lines(self.tasks, TaskSummaryOut.line, "No tasks.")
            + more_text(self.next_cursor)
            + failures_text(self.failures)
        )


# --- sprint work ---------------------------------------------------------------------


class LinkOut(BaseModel):
    ref: str = Field(description="The link's ref: what unlink_tasks takes")
    kind: str = Field(
        description="As read from `task`: blocks, is blocked by, relates to, duplicates, is duplicated by, "
        "or other (a vendor's own type; `label` says which)"
    )
    label: str = Field(description="The vendor's own phrase for this direction")
    task: str
    other: str
    other_key: str | None = None
    other_title: str | None = None
    other_done: bool | None = Field(None, description="Whether the other task is done, where the vendor says")

    def line(self) -> str:
        other = " ".join(p for p in (self.other_key or self.other, self.other_title) if p)
        done = " (done)" if self.other_done else ""
        return f"{self.task} {self.label} {other}{done} [link {self.ref}]"


class WorklogOut(BaseModel):
    ref: str
    task: str
    hours: float
    started: datetime | None = None
    author: str | None = None
    comment: str | None = None

    def line(self) -> str:
        when = f" on {self.started:%Y-%m-%d}" if self.started else ""
        who = f" by {self.author}" if self.author else ""
        comment = f": {self.comment}" if self.comment else ""
        return f"- {self.hours:g}h{when}{who} on {self.task}{comment}"


class HistoryEntryOut(BaseModel):
    at: datetime
    field: str
    old: str | None = None
    new: str | None = None
    author: str | None = None

    def line(self) -> str:
        return f"- {self.at:%Y-%m-%d %H:%M} {self.author or 'someone'}: {self.field} {self.old or '(empty)'} -> {self.new or '(empty)'}"


class FieldOut(BaseModel):
    id: str
    name: str = Field(description="What create_task and update_task take as a key of `fields`")
    type: str = Field(
        description="text, markdown, number, date, datetime, boolean, option, options, user, users, labels, "
        "url or other"
    )
    custom: bool
    required: bool = False
    settable: bool = Field(description="False: set through the tool's own argument, or not at all")
    allowed: list[str] = Field(default_factory=list, description="The valid values of option fields")


def link(value: domain.TaskLink) -> LinkOut:
    return LinkOut(
        ref=value.ref,
        kind=str(value.kind),
        label=value.label,
        task=value.task_ref,
        other=value.other_ref,
        other_key=value.other_key,
        other_title=value.other_title,
        other_done=value.other_done,
    )


def worklog(value: domain.Worklog) -> WorklogOut:
    return WorklogOut(
        ref=value.ref,
        task=value.task_ref,
        hours=round(value.hours, 4),
        started=value.started,
        author=value.author.name if value.author else None,
        comment=value.comment,
    )


HISTORY_VALUE_CHARS = 2000  # a changed value (a whole description, say) in a history entry


def history_entry(value: domain.HistoryEntry) -> HistoryEntryOut:
    """A history entry, long values cut: the current one is read whole with get_task."""
    how = "The current value is read whole with get_task; earlier ones only on the vendor's site."

    def short(text: str | None) -> str | None:
        return None if text is None else cut_with_marker(text, HISTORY_VALUE_CHARS, how)[0]

    return HistoryEntryOut(
        at=value.at,
        field=value.field,
        old=short(value.old),
        new=short(value.new),
        author=value.author.name if value.author else None,
    )


def field_def(value: domain.FieldDef) -> FieldOut:
    return FieldOut(
        id=value.id,
        name=value.name,
        type=str(value.type),
        custom=value.custom,
        required=value.required,
        settable=value.settable,
        allowed=list(value.allowed),
    )
