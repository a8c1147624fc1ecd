"""Sprint work on the team tracker: start and close sprints, move tasks, link tasks, log time,
read history a page at a time, and custom fields set by their human names.

Like service.py, every function works in the caller's Session and never commits; a refused
input raises InvalidTrackerInput (naming the fields) before anything is written, an unknown
id TrackerNotFound, and a link that exists already TrackerConflict. Every change to a task
made here is recorded in its history, as service.update_task records its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from portal.core import durations
from portal.core.models import (
    FIELD_TYPES,
    LINK_KINDS,
    TrackerField,
    TrackerFieldValue,
    TrackerProject,
    TrackerSprint,
    TrackerTask,
    TrackerTaskChange,
    TrackerTaskLink,
    TrackerWorklog,
    utcnow,
)

from . import service
from .service import InvalidTrackerInput, ResultPage, TrackerConflict, TrackerError, TrackerNotFound

MAX_FIELD_NAME = 60
MAX_FIELD_TEXT = 2_000
MAX_OPTIONS = 100
DEFAULT_SPRINT_DAYS = 14

# How a link reads from each end: "A blocks B" is "B is blocked by A".
LINK_PHRASES = {
    "blocks": ("blocks", "is blocked by"),
    "relates": ("relates to", "relates to"),
    "duplicates": ("duplicates", "is duplicated by"),
}
# The five ways a person reads a link from the task they are on, and the link each one stores
# (kind, whether this task is the source).
LINK_CHOICES = {
    "blocks": ("blocks", True),
    "is blocked by": ("blocks", False),
    "relates to": ("relates", True),
    "duplicates": ("duplicates", True),
    "is duplicated by": ("duplicates", False),
}


# --- sprints ----------------------------------------------------------------------------------


def start_sprint(session: Session, sprint: TrackerSprint, *, at: datetime | None = None) -> TrackerSprint:
    """Start a planned sprint. Without dates it runs from today for two weeks; without an end,
    for two weeks from its start. Refuses a running or closed sprint."""
    if sprint.state != "future":
        state = "running" if sprint.state == "active" else "closed"
        raise InvalidTrackerInput({"state": f"{sprint.name} is {state}; only a planned sprint can start."})
    start = sprint.start_date or (at or utcnow()).date()
    end = sprint.end_date or start + timedelta(days=DEFAULT_SPRINT_DAYS - 1)
    return service.update_sprint(
        session,
        sprint,
        name=sprint.name,
        goal=sprint.goal,
        start_date=start,
        end_date=end,
        state="active",
        at=at,
    )


def close_sprint(
    session: Session,
    sprint: TrackerSprint,
    *,
    move_open_to: TrackerSprint | None,
    backlog: bool = False,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> TrackerSprint:
    """Close a sprint, first moving its open tasks to `move_open_to` (or to the backlog when
    `backlog`). Done tasks stay, so the sprint keeps what it finished. Refuses a closed sprint,
    a target that is the sprint itself, closed or of another project, and open tasks with
    nowhere to go."""
    at = at or utcnow()
    if sprint.state == "closed":
        raise InvalidTrackerInput({"state": f"{sprint.name} is closed already."})
    open_tasks = _open_tasks(session, sprint)
    if move_open_to is not None:
        _check_target(sprint, move_open_to)
    elif open_tasks and not backlog:
        raise InvalidTrackerInput(
            {
                "move_open_to": f"{sprint.name} holds {len(open_tasks)} open task(s): "
                "say where they go, another sprint or the backlog."
            }
        )
    target_id = move_open_to.id if move_open_to is not None else None
    for task in open_tasks:
        service.update_task(session, task, {"sprint_id": target_id}, actor_id=actor_id, at=at)
    start = sprint.start_date or at.date()
    return service.update_sprint(
        session,
        sprint,
        name=sprint.name,
        goal=sprint.goal,
        start_date=start,
        end_date=sprint.end_date or max(start, at.date()),
        state="closed",
        at=at,
    )


def _check_target(sprint: TrackerSprint, target: TrackerSprint) -> None:
    if target.id == sprint.id:
        raise InvalidTrackerInput({"move_open_to": "Choose another sprint, or the backlog."})
    if target.project_id != sprint.project_id:
        raise InvalidTrackerInput({"move_open_to": f"Choose a sprint of {sprint.project.key}."})
    if target.state == "closed":
        raise InvalidTrackerInput(
            {"move_open_to": f"{target.name} is closed; choose a running or planned one."}
        )


def _open_tasks(session: Session, sprint: TrackerSprint) -> list[TrackerTask]:
    return [task for task in service.sprint_tasks(session, sprint) if not task.status.is_done]


@dataclass
class MoveResult:
    """One task's outcome of a move: `task` when it moved (or was there already), else `refusal`."""

    key: str
    task: TrackerTask | None = None
    refusal: TrackerError | None = None

    @property
    def error(self) -> str | None:
        if isinstance(self.refusal, InvalidTrackerInput):
            return "; ".join(self.refusal.field_errors.values())
        return str(self.refusal) if self.refusal is not None else None


def move_to_sprint(
    session: Session,
    keys: Iterable[str],
    sprint: TrackerSprint | None,
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> list[MoveResult]:
    """Move tasks into `sprint` (None: the backlog), one result per key in order.

    A task that can't move (unknown, of another project, the sprint closed) gets its error and
    the others still move. Raises InvalidTrackerInput for a closed sprint (nothing moves then).
    """
    if sprint is not None and sprint.state == "closed":
        raise InvalidTrackerInput({"sprint": f"{sprint.name} is closed; choose a running or planned sprint."})
    at = at or utcnow()
    results = []
    for key in keys:
        try:
            task = service.get_task(session, key)
            if sprint is not None and task.project_id != sprint.project_id:
                raise InvalidTrackerInput({"sprint": f"{task.key} is not in {sprint.project.key}."})
            target = sprint.id if sprint is not None else None
            task = service.update_task(session, task, {"sprint_id": target}, actor_id=actor_id, at=at)
        except (TrackerNotFound, InvalidTrackerInput) as refusal:
            results.append(MoveResult(key=key, refusal=refusal))
        else:
            results.append(MoveResult(key=key, task=task))
    return results


# --- links ------------------------------------------------------------------------------------


@dataclass
class LinkView:
    """A link as read from one of its tasks: "this task <phrase> other"."""

    link: TrackerTaskLink
    phrase: str
    other: TrackerTask
    outward: bool  # this task is the link's source


def link_tasks(
    session: Session,
    task: TrackerTask,
    other: TrackerTask,
    *,
    kind: str,
    outward: bool = True,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> TrackerTaskLink:
    """Link two tasks: `task` is the source when `outward` (it blocks the other), else the target.

    Refuses a link of a task to itself and an unknown kind (InvalidTrackerInput), and a link
    that exists already, in either direction for "relates" (TrackerConflict).
    """
    if kind not in LINK_KINDS:
        raise InvalidTrackerInput({"kind": f"Choose one of: {', '.join(LINK_CHOICES)}."})
    if task.id == other.id:
        raise InvalidTrackerInput({"other": "A task can't be linked to itself."})
    source, target = (task, other) if outward else (other, task)
    pairs = [(source.id, target.id)]
    if kind == "relates":
        pairs.append((target.id, source.id))
    existing = session.scalar(
        select(TrackerTaskLink.id).where(
            TrackerTaskLink.kind == kind,
            or_(*[(TrackerTaskLink.source_id == s) & (TrackerTaskLink.target_id == t) for s, t in pairs]),
        )
    )
    if existing is not None:
        phrase = LINK_PHRASES[kind][0 if outward else 1]
        raise TrackerConflict({"other": f"{task.key} already {phrase} {other.key}."})
    at = at or utcnow()
    link = TrackerTaskLink(
        source_id=source.id, target_id=target.id, kind=kind, created_by_id=actor_id, created_at=at
    )
    session.add(link)
    phrase = LINK_PHRASES[kind][0]
    _record(session, source, "link", None, f"{phrase} {target.key}", actor_id, at)
    _record(session, target, "link", None, f"{LINK_PHRASES[kind][1]} {source.key}", actor_id, at)
    session.flush()
    return get_link(session, link.id)


def get_link(session: Session, link_id: int) -> TrackerTaskLink:
    link = session.get(
        TrackerTaskLink,
        link_id,
        options=[
            joinedload(TrackerTaskLink.source).joinedload(TrackerTask.project),
            joinedload(TrackerTaskLink.target).joinedload(TrackerTask.project),
        ],
    )
    if link is None:
        raise TrackerNotFound(f"No link with the id {link_id}.")
    return link


def unlink_tasks(
    session: Session, link: TrackerTaskLink, *, actor_id: int | None = None, at: datetime | None = None
) -> None:
    """Remove a link, recorded in the history of both tasks."""
    at = at or utcnow()
    outward, inward = LINK_PHRASES[link.kind]
    _record(session, link.source, "link", f"{outward} {link.target.key}", None, actor_id, at)
    _record(session, link.target, "link", f"{inward} {link.source.key}", None, actor_id, at)
    session.delete(link)
    session.flush()


def task_links(session: Session, task: TrackerTask) -> list[LinkView]:
    """A task's links in both directions, as read from it: oldest first."""
    links = session.scalars(
        select(TrackerTaskLink)
        .options(
            joinedload(TrackerTaskLink.source).joinedload(TrackerTask.project),
            joinedload(TrackerTaskLink.source).joinedload(TrackerTask.status),
            joinedload(TrackerTaskLink.target).joinedload(TrackerTask.project),
            joinedload(TrackerTaskLink.target).joinedload(TrackerTask.status),
        )
        .where(or_(TrackerTaskLink.source_id == task.id, TrackerTaskLink.target_id == task.id))
        .order_by(TrackerTaskLink.created_at, TrackerTaskLink.id)
    )
    views = []
    for link in links:
        outward = link.source_id == task.id
        phrase = LINK_PHRASES[link.kind][0 if outward else 1]
        views.append(LinkView(link, phrase, link.target if outward else link.source, outward))
    return views


# --- logged work ------------------------------------------------------------------------------


def parse_duration(text: Any) -> int:
    """Seconds in the time to log, read by durations.logged_hours (hours, or "1h30m", "90m", "2h 15m").

    Raises InvalidTrackerInput on "time", with what to write, for anything else.
    """
    try:
        hours = durations.logged_hours(text)
    except ValueError as exc:
        message = str(exc)
        raise InvalidTrackerInput({"time": f"{message[0].upper()}{message[1:]}."}) from None
    return round(hours * 3600)


def format_duration(seconds: int | float | None) -> str:
    """5400 -> "1h 30m"; 7200 -> "2h"; 0 -> "0m"."""
    minutes = round((seconds or 0) / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h {minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"


def log_work(
    session: Session,
    task: TrackerTask,
    *,
    time: Any,
    user_id: int | None,
    started_on: date | None = None,
    comment: str | None = None,
    at: datetime | None = None,
) -> TrackerWorklog:
    """Log time on a task (see parse_duration) on a day (today by default), with a Markdown comment."""
    at = at or utcnow()
    problems: dict[str, str] = {}
    try:
        seconds = parse_duration(time)
    except InvalidTrackerInput as refusal:
        problems.update(refusal.field_errors)
        seconds = 0
    if started_on is not None and (not isinstance(started_on, date) or isinstance(started_on, datetime)):
        problems["started"] = "Enter a date."
    elif started_on is not None and started_on > at.date() + timedelta(days=1):
        problems["started"] = "Log time on today or an earlier day."
    comment = service._clean_text(comment, "comment", problems)
    if problems:
        raise InvalidTrackerInput(problems)
    worklog = TrackerWorklog(
        task_id=task.id,
        user_id=user_id,
        started_on=started_on or at.date(),
        seconds=seconds,
        comment=comment,
        created_at=at,
    )
    session.add(worklog)
    _record(session, task, "logged time", None, format_duration(seconds), user_id, at)
    task.updated_at = at
    session.flush()
    return worklog


def _worklog_select():
    return select(TrackerWorklog).options(
        joinedload(TrackerWorklog.user), joinedload(TrackerWorklog.task).joinedload(TrackerTask.project)
    )


def list_worklogs(
    session: Session, task: TrackerTask, *, offset: int = 0, limit: int = 50
) -> ResultPage[TrackerWorklog]:
    """Time logged on a task, oldest first."""
    query = (
        _worklog_select()
        .where(TrackerWorklog.task_id == task.id)
        .order_by(TrackerWorklog.started_on, TrackerWorklog.created_at, TrackerWorklog.id)
    )
    return service._page(session, query, offset, limit)


def logged_seconds(session: Session, task: TrackerTask) -> int:
    return session.scalar(  # type: ignore[return-value]  # coalesce(…, 0) is never NULL
        select(func.coalesce(func.sum(TrackerWorklog.seconds), 0)).where(TrackerWorklog.task_id == task.id)
    )


def search_worklogs(
    session: Session,
    *,
    user_id: int,
    since: date,
    until: date,
    project: TrackerProject | None = None,
    offset: int = 0,
    limit: int = 50,
) -> ResultPage[TrackerWorklog]:
    """Time one person logged on the days `since` to `until` (inclusive), within a project when given."""
    if until < since:
        raise InvalidTrackerInput({"until": "The last day is before the first."})
    query = _worklog_select().where(
        TrackerWorklog.user_id == user_id,
        TrackerWorklog.started_on >= since,
        TrackerWorklog.started_on <= until,
    )
    if project is not None:
        query = query.join(TrackerWorklog.task).where(TrackerTask.project_id == project.id)
    query = query.order_by(TrackerWorklog.started_on, TrackerWorklog.created_at, TrackerWorklog.id)
    return service._page(session, query, offset, limit)


# --- history ----------------------------------------------------------------------------------


def task_history(
    session: Session, task: TrackerTask, *, offset: int = 0, limit: int = 50
) -> ResultPage[TrackerTaskChange]:
    """What changed on a task, oldest first, a page at a time."""
    query = (
        select(TrackerTaskChange)
        .options(joinedload(TrackerTaskChange.user))
        .where(TrackerTaskChange.task_id == task.id)
        .order_by(TrackerTaskChange.at, TrackerTaskChange.id)
    )
    return service._page(session, query, offset, limit)


def _record(
    session: Session,
    task: TrackerTask,
    field: str,
    old: str | None,
    new: str | None,
    actor_id: int | None,
    at: datetime,
) -> None:
    session.add(
        TrackerTaskChange(task_id=task.id, user_id=actor_id, at=at, field=field, old_value=old, new_value=new)
    )


# --- custom fields ----------------------------------------------------------------------------


def list_fields(session: Session, project: TrackerProject) -> list[TrackerField]:
    return list(
        session.scalars(
            select(TrackerField)
            .where(TrackerField.project_id == project.id)
            .order_by(TrackerField.position, TrackerField.id)
        )
    )


def add_field(
    session: Session, project: TrackerProject, *, name: str, type: str, allowed: Iterable[str] = ()
) -> TrackerField:
    """Add a custom field to a project's tasks; an option field needs at least two allowed values."""
    problems: dict[str, str] = {}
    name = service._clean_name(name, "name", MAX_FIELD_NAME, problems, "Enter a field name.")
    if name and field_named(session, project, name) is not None:
        problems["name"] = f"{project.key} already has a field named {name!r}."
    if name.lower() in STANDARD_FIELD_NAMES:
        problems["name"] = f"{name!r} is a standard field; choose another name."
    if type not in FIELD_TYPES:
        problems["type"] = f"Choose one of: {', '.join(FIELD_TYPES)}."
    values: list[str] = []
    for value in allowed:
        value = (value or "").strip()
        if value and value.lower() not in {v.lower() for v in values}:
            values.append(value)
    if type == "option" and len(values) < 2:
        problems["allowed"] = "List at least two values to choose from, one a line."
    elif type == "option" and len(values) > MAX_OPTIONS:
        problems["allowed"] = f"List at most {MAX_OPTIONS} values."
    elif type == "option" and any(len(v) > MAX_FIELD_NAME for v in values):
        problems["allowed"] = f"Keep each value to {MAX_FIELD_NAME} characters."
    if problems:
        raise InvalidTrackerInput(problems)
    position: int = session.scalar(  # type: ignore[assignment]  # coalesce(…, -1) is never NULL
        select(func.coalesce(func.max(TrackerField.position), -1)).where(
            TrackerField.project_id == project.id
        )
    )
    field = TrackerField(
        project_id=project.id,
        name=name,
        type=type,
        allowed=values if type == "option" else [],
        position=position + 1,
    )
    session.add(field)
    session.flush()
    return field


def delete_field(session: Session, field: TrackerField) -> None:
    """Remove a custom field with every task's value of it."""
    session.delete(field)
    session.flush()


def field_named(session: Session, project: TrackerProject, name: str) -> TrackerField | None:
    """The project's custom field with this name, ignoring case and surrounding spaces."""
    return session.scalar(
        select(TrackerField).where(
            TrackerField.project_id == project.id,
            func.lower(TrackerField.name) == (name or "").strip().lower(),
        )
    )


def get_field(session: Session, field_id: int) -> TrackerField:
    field = session.get(TrackerField, field_id)
    if field is None:
        raise TrackerNotFound(f"No field with the id {field_id}.")
    return field


# The task's own fields, by the names people use: not available as custom field names.
STANDARD_FIELD_NAMES = {
    "title",
    "description",
    "type",
    "status",
    "priority",
    "assignee",
    "reporter",
    "due",
    "due date",
    "estimate",
    "estimate hours",
    "story points",
    "parent",
    "epic",
    "sprint",
}


def check_field_values(
    session: Session, project: TrackerProject, values: Mapping[str, Any]
) -> dict[TrackerField, str | None]:
    """Custom field values by field name (any case) -> the text each stores (None: clear it).

    Every problem is reported at once, under the name given: an unknown name lists the
    project's fields, a wrong option lists the allowed values.
    """
    fields = list_fields(session, project)
    by_name = {field.name.lower(): field for field in fields}
    problems: dict[str, str] = {}
    cleaned: dict[TrackerField, str | None] = {}
    for name, value in values.items():
        field = by_name.get(str(name).strip().lower())
        if field is None:
            known = ", ".join(f.name for f in fields) or "none yet"
            problems[str(name)] = f"{project.key} has no field named {name!r}; its fields: {known}."
            continue
        try:
            cleaned[field] = _field_text(field, value)
        except ValueError as problem:
            problems[field.name] = str(problem)
    if problems:
        raise InvalidTrackerInput(problems)
    return cleaned


def _field_text(field: TrackerField, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field.type == "option":
        wanted = str(value).strip().lower()
        for allowed in field.allowed:
            if allowed.lower() == wanted:
                return allowed
        raise ValueError(f"Choose one of: {', '.join(field.allowed)}.")
    if field.type == "number":
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError("Enter a number.") from None
        if not math.isfinite(number):
            raise ValueError("Enter a number.")
        return service.format_number(number)
    if field.type == "date":
        if isinstance(value, datetime):
            raise ValueError("Enter a date such as 2026-12-31, without a time.")
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError("Enter a date such as 2026-12-31.") from None
    text = str(value).strip()
    if len(text) > MAX_FIELD_TEXT:
        raise ValueError(f"Use at most {MAX_FIELD_TEXT:,} characters.")
    return text


def set_field_values(
    session: Session,
    task: TrackerTask,
    values: Mapping[TrackerField, str | None],
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Store checked values (from check_field_values) on a task, recording each real change."""
    at = at or utcnow()
    current = {row.field_id: row for row in _value_rows(session, task)}
    changed = False
    for field, text in values.items():
        row = current.get(field.id)
        old = row.value if row is not None else None
        if old == text:
            continue
        if text is None:
            session.delete(row)
        elif row is None:
            session.add(TrackerFieldValue(task_id=task.id, field_id=field.id, value=text))
        else:
            row.value = text
        _record(session, task, field.name, old, text, actor_id, at)
        changed = True
    if changed:
        task.updated_at = at
    session.flush()


def set_fields(
    session: Session,
    task: TrackerTask,
    values: Mapping[str, Any],
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Set custom fields by name (any case); nothing is written when any value is refused."""
    set_field_values(
        session, task, check_field_values(session, task.project, values), actor_id=actor_id, at=at
    )


def field_values(session: Session, task: TrackerTask) -> list[tuple[TrackerField, str]]:
    """The task's custom field values, in the project's field order."""
    rows = _value_rows(session, task)
    return sorted(((row.field, row.value) for row in rows), key=lambda pair: (pair[0].position, pair[0].id))


def _value_rows(session: Session, task: TrackerTask) -> list[TrackerFieldValue]:
    return list(
        session.scalars(
            select(TrackerFieldValue)
            .options(joinedload(TrackerFieldValue.field))
            .where(TrackerFieldValue.task_id == task.id)
        )
    )
