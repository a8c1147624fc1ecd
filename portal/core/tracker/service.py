"""The team tracker's operations, shared by the portal pages and the `local` provider adapter.

Every function works in the caller's Session and never commits: the caller
owns the transaction, so a refused change writes nothing. Input problems raise
InvalidTrackerInput naming the fields; unknown keys and ids raise TrackerNotFound.

Rules kept here, whoever calls:
- a task's number comes from its project's counter and is never reused;
- every changed task field is recorded in the task's history as text;
- `done_at` is set when a task enters a done status and cleared when it leaves one;
- an epic is a task of type "epic" in the same project, and an epic belongs to no epic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from portal.core.errors import UserFacingError
from portal.core.models import (
    DEFAULT_STATUSES,
    PRIORITIES,
    SPRINT_STATES,
    STATUS_CATEGORIES,
    TASK_TYPES,
    TrackerComment,
    TrackerProject,
    TrackerSprint,
    TrackerStatus,
    TrackerTask,
    TrackerTaskChange,
    TrackerTaskLink,
    User,
    utcnow,
)
from portal.core.providers.base import SprintState, StatusCategory, TaskSort

T = TypeVar("T")

PROJECT_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
TASK_KEY_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9]{1,9})-([0-9]{1,9})$")
MAX_TITLE = 255
MAX_TEXT = 50_000  # descriptions and comments
MAX_ESTIMATE_HOURS = 10_000
MAX_STORY_POINTS = 1_000

# The task fields update_task accepts, in the order the history lists them.
TASK_FIELDS = (
    "title",
    "description",
    "type",
    "status_id",
    "priority",
    "assignee_id",
    "due_date",
    "estimate_hours",
    "story_points",
    "parent_id",
    "epic_id",
    "sprint_id",
)

# The name a change is recorded under: the field as people know it, not the column.
HISTORY_NAMES = {
    "status_id": "status",
    "assignee_id": "assignee",
    "due_date": "due",
    "parent_id": "parent",
    "epic_id": "epic",
    "sprint_id": "sprint",
}

PRIORITY_RANK = {name: rank for rank, name in enumerate(reversed(PRIORITIES))}  # none=0 ... highest=5
SORTS = tuple(sort.value for sort in TaskSort)


class TrackerError(UserFacingError):
    """Base class of what the tracker refuses."""


class TrackerNotFound(TrackerError):
    """No project, task, sprint or status with that key or id."""

    error_class = "not_found"


class InvalidTrackerInput(TrackerError):
    """One or more fields hold values the tracker refuses; `field_errors` maps field to message."""

    def __init__(self, field_errors: Mapping[str, str]):
        self.field_errors = dict(field_errors)
        super().__init__(str(self))

    @property
    def field(self) -> str:
        return next(iter(self.field_errors))

    def __str__(self) -> str:
        return "; ".join(f"{name}: {message}" for name, message in self.field_errors.items())


class TrackerConflict(InvalidTrackerInput):
    """The change would duplicate what exists (a link between the same tasks, of the same kind)."""


@dataclass
class ResultPage(Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True)
class TaskFilter:
    """What find_tasks keeps; unset fields don't filter.

    `status_names` match case-insensitively in any project, so one name can
    select the "Done" column of several projects.
    """

    project_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    status_ids: tuple[int, ...] = ()
    status_names: tuple[str, ...] = ()
    categories: frozenset[str] = frozenset()
    text: str | None = None
    sprint_id: int | None = None
    no_sprint: bool = False
    epic_id: int | None = None
    parent_id: int | None = None
    type: str | None = None
    updated_since: datetime | None = None
    # Only tasks blocked now: the target of a "blocks" link whose source is not done.
    blocked: bool = False
    sort: str = "updated"
    descending: bool = True


# --- projects ---------------------------------------------------------------------------------


def create_project(
    session: Session,
    *,
    key: str,
    name: str,
    description: str | None = None,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> TrackerProject:
    """Add a project with the default statuses To do, In progress and Done.

    Raises InvalidTrackerInput for a malformed or taken key or an empty name.
    """
    key = (key or "").strip().upper()
    problems: dict[str, str] = {}
    if not PROJECT_KEY_PATTERN.match(key):
        problems["key"] = "Use 2 to 10 letters and digits, starting with a letter, such as DEMO."
    elif session.scalar(select(TrackerProject.id).where(TrackerProject.key == key)) is not None:
        problems["key"] = f"The key {key} is taken by another project."
    name = _clean_name(name, "name", 120, problems, "Enter a project name.")
    description = _clean_text(description, "description", problems)
    if problems:
        raise InvalidTrackerInput(problems)
    project = TrackerProject(
        key=key, name=name, description=description, created_by_id=actor_id, created_at=at or utcnow()
    )
    session.add(project)
    session.flush()
    for position, (status_name, category) in enumerate(DEFAULT_STATUSES):
        session.add(
            TrackerStatus(project_id=project.id, name=status_name, category=category, position=position)
        )
    session.flush()
    return project


def update_project(
    session: Session, project: TrackerProject, *, name: str, description: str | None
) -> TrackerProject:
    """Rename or re-describe a project. The key never changes: task keys are built from it.

    Raises InvalidTrackerInput for an empty or too long name.
    """
    problems: dict[str, str] = {}
    name = _clean_name(name, "name", 120, problems, "Enter a project name.")
    description = _clean_text(description, "description", problems)
    if problems:
        raise InvalidTrackerInput(problems)
    project.name = name
    project.description = description
    session.flush()
    return project


def get_project(session: Session, key: str) -> TrackerProject:
    """The project with this key (any case).

    Raises TrackerNotFound when there is none.
    """
    project = session.scalar(select(TrackerProject).where(TrackerProject.key == (key or "").strip().upper()))
    if project is None:
        raise TrackerNotFound(f"No project with the key {key!r}.")
    return project


def list_projects(
    session: Session, *, text: str | None = None, offset: int = 0, limit: int = 25
) -> ResultPage[TrackerProject]:
    query = select(TrackerProject)
    if text and text.strip():
        needle = text.strip().lower()
        query = query.where(
            or_(
                func.lower(TrackerProject.key).contains(needle, autoescape=True),
                func.lower(TrackerProject.name).contains(needle, autoescape=True),
            )
        )
    return _page(session, query.order_by(TrackerProject.key, TrackerProject.id), offset, limit)


# --- statuses ---------------------------------------------------------------------------------


def project_statuses(session: Session, project: TrackerProject) -> list[TrackerStatus]:
    return list(
        session.scalars(
            select(TrackerStatus)
            .where(TrackerStatus.project_id == project.id)
            .order_by(TrackerStatus.position, TrackerStatus.id)
        )
    )


def status_named(session: Session, project: TrackerProject, name: str) -> TrackerStatus | None:
    """The project's status with this name, ignoring case and surrounding spaces."""
    return session.scalar(
        select(TrackerStatus).where(
            TrackerStatus.project_id == project.id,
            func.lower(TrackerStatus.name) == (name or "").strip().lower(),
        )
    )


def initial_status(session: Session, project: TrackerProject) -> TrackerStatus:
    """Where new tasks start: the first to-do status, else the first status that is not done.

    Raises InvalidTrackerInput when the project has no statuses.
    """
    statuses = project_statuses(session, project)
    for wanted in (StatusCategory.TODO, StatusCategory.IN_PROGRESS):
        for status in statuses:
            if status.category == wanted:
                return status
    if not statuses:
        raise InvalidTrackerInput({"status": "The project has no statuses; add one first."})
    return statuses[0]


def get_status(session: Session, status_id: int) -> TrackerStatus:
    status = session.get(TrackerStatus, status_id)
    if status is None:
        raise TrackerNotFound(f"No status with the id {status_id}.")
    return status


def add_status(session: Session, project: TrackerProject, *, name: str, category: str) -> TrackerStatus:
    """Add a status at the end of the project's list.

    Raises InvalidTrackerInput for an empty or taken name or an unknown category.
    """
    problems: dict[str, str] = {}
    name = _clean_name(name, "name", 60, problems, "Enter a status name.")
    if name and status_named(session, project, name) is not None:
        problems["name"] = f"The project already has a status named {name!r}."
    if category not in STATUS_CATEGORIES:
        problems["category"] = "Choose to do, in progress or done."
    if problems:
        raise InvalidTrackerInput(problems)
    position = session.execute(
        select(func.coalesce(func.max(TrackerStatus.position), -1)).where(
            TrackerStatus.project_id == project.id
        )
    ).scalar_one()
    status = TrackerStatus(project_id=project.id, name=name, category=category, position=position + 1)
    session.add(status)
    session.flush()
    return status


def update_status(
    session: Session, status: TrackerStatus, *, name: str, category: str, at: datetime | None = None
) -> TrackerStatus:
    """Rename or re-categorise a status; tasks in it gain or lose done_at with the category.

    Raises InvalidTrackerInput for an empty or taken name or an unknown category.
    """
    problems: dict[str, str] = {}
    name = _clean_name(name, "name", 60, problems, "Enter a status name.")
    same_name = status_named(session, status.project, name) if name else None
    if same_name is not None and same_name.id != status.id:
        problems["name"] = f"The project already has a status named {name!r}."
    if category not in STATUS_CATEGORIES:
        problems["category"] = "Choose to do, in progress or done."
    if problems:
        raise InvalidTrackerInput(problems)
    was_done = status.is_done
    status.name = name
    status.category = category
    if was_done != status.is_done:
        session.execute(
            update(TrackerTask)
            .where(TrackerTask.status_id == status.id)
            .values(done_at=(at or utcnow()) if status.is_done else None)
        )
    session.flush()
    return status


def delete_status(session: Session, status: TrackerStatus) -> None:
    """Remove a status no task is in; a project keeps at least one status.

    Raises InvalidTrackerInput while tasks are in it, or when it is the last one.
    """
    in_use = session.scalar(select(func.count(TrackerTask.id)).where(TrackerTask.status_id == status.id))
    if in_use:
        tasks = f"{in_use} tasks are" if in_use != 1 else "1 task is"
        raise InvalidTrackerInput({"status": f"{tasks} in {status.name!r}; move them first."})
    remaining = session.execute(
        select(func.count(TrackerStatus.id)).where(TrackerStatus.project_id == status.project_id)
    ).scalar_one()
    if remaining <= 1:
        raise InvalidTrackerInput({"status": "A project needs at least one status."})
    session.delete(status)
    session.flush()


# --- sprints ----------------------------------------------------------------------------------


def create_sprint(
    session: Session,
    project: TrackerProject,
    *,
    name: str,
    goal: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    state: str = "future",
    at: datetime | None = None,
) -> TrackerSprint:
    sprint = TrackerSprint(project_id=project.id, project=project, name="", state="future")
    _apply_sprint(sprint, name, goal, start_date, end_date, state, at or utcnow())
    sprint.created_at = at or utcnow()
    session.add(sprint)
    session.flush()
    return sprint


def update_sprint(
    session: Session,
    sprint: TrackerSprint,
    *,
    name: str,
    goal: str | None,
    start_date: date | None,
    end_date: date | None,
    state: str,
    at: datetime | None = None,
) -> TrackerSprint:
    """Edit a sprint; closing it records completed_at, reopening it clears that."""
    _apply_sprint(sprint, name, goal, start_date, end_date, state, at or utcnow())
    session.flush()
    return sprint


def _apply_sprint(
    sprint: TrackerSprint,
    name: str,
    goal: str | None,
    start_date: date | None,
    end_date: date | None,
    state: str,
    at: datetime,
) -> None:
    problems: dict[str, str] = {}
    name = _clean_name(name, "name", 120, problems, "Enter a sprint name.")
    goal = _clean_text(goal, "goal", problems)
    if state not in SPRINT_STATES:
        problems["state"] = "Choose future, active or closed."
    elif state != SprintState.FUTURE and (start_date is None or end_date is None):
        field_name = "start_date" if start_date is None else "end_date"
        problems[field_name] = "A running or closed sprint needs a start and an end date."
    if start_date and end_date and end_date < start_date:
        problems["end_date"] = "The end date is before the start date."
    if problems:
        raise InvalidTrackerInput(problems)
    if state == SprintState.CLOSED and sprint.state != SprintState.CLOSED:
        sprint.completed_at = at
    elif state != SprintState.CLOSED:
        sprint.completed_at = None
    sprint.name, sprint.goal, sprint.state = name, goal, state
    sprint.start_date, sprint.end_date = start_date, end_date


def get_sprint(session: Session, sprint_id: int) -> TrackerSprint:
    """The sprint with this id, its project loaded.

    Raises TrackerNotFound when there is none.
    """
    sprint = session.get(TrackerSprint, sprint_id, options=[joinedload(TrackerSprint.project)])
    if sprint is None:
        raise TrackerNotFound(f"No sprint with the id {sprint_id}.")
    return sprint


SPRINT_STATE_ORDER = case({"active": 0, "future": 1, "closed": 2}, value=TrackerSprint.state, else_=3)


def list_sprints(
    session: Session,
    project: TrackerProject,
    *,
    state: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> ResultPage[TrackerSprint]:
    """The project's sprints: running ones first, then planned ones, then closed ones."""
    query = select(TrackerSprint).where(TrackerSprint.project_id == project.id)
    if state is not None:
        query = query.where(TrackerSprint.state == state)
    query = query.options(joinedload(TrackerSprint.project)).order_by(SPRINT_STATE_ORDER, TrackerSprint.id)
    return _page(session, query, offset, limit)


# --- tasks ------------------------------------------------------------------------------------


def get_task(session: Session, key: str) -> TrackerTask:
    """The task with this key ("DEMO-12", any case).

    Raises TrackerNotFound when there is none (or the key is malformed).
    """
    match = TASK_KEY_PATTERN.match((key or "").strip())
    task = None
    if match:
        task = session.scalar(
            _task_select().where(
                TrackerProject.key == match.group(1).upper(), TrackerTask.number == int(match.group(2))
            )
        )
    if task is None:
        raise TrackerNotFound(f"No task with the key {key!r}.")
    return task


def get_task_by_id(session: Session, task_id: int) -> TrackerTask:
    """The task with this id.

    Raises TrackerNotFound when there is none.
    """
    task = session.scalar(_task_select().where(TrackerTask.id == task_id))
    if task is None:
        raise TrackerNotFound(f"No task with the id {task_id}.")
    return task


def create_task(
    session: Session,
    project: TrackerProject,
    *,
    title: str,
    actor_id: int | None = None,
    at: datetime | None = None,
    **values: Any,
) -> TrackerTask:
    """Add a task. `values` are TASK_FIELDS; the status defaults to the project's initial status.

    The creation is recorded in the history as one "created" entry.
    """
    unknown = set(values) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"create_task() got unknown fields: {', '.join(sorted(unknown))}")
    at = at or utcnow()
    values = {"type": "task", "priority": "none", **values, "title": title}
    if values.get("status_id") is None:
        values["status_id"] = initial_status(session, project).id
    cleaned = _validated(session, project, None, values)
    number = session.execute(
        update(TrackerProject)
        .where(TrackerProject.id == project.id)
        .values(last_task_number=TrackerProject.last_task_number + 1)
        .returning(TrackerProject.last_task_number)
    ).scalar_one()
    task = TrackerTask(
        project_id=project.id,
        number=number,
        reporter_id=actor_id,
        created_at=at,
        updated_at=at,
        **cleaned,
    )
    session.add(task)
    session.flush()
    task = get_task_by_id(session, task.id)
    if task.status.is_done:
        task.done_at = at
    session.add(
        TrackerTaskChange(task_id=task.id, user_id=actor_id, at=at, field="created", new_value=task.key)
    )
    session.flush()
    return task


def update_task(
    session: Session,
    task: TrackerTask,
    changes: Mapping[str, Any],
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> TrackerTask:
    """Apply `changes` (TASK_FIELDS -> new value, None clears) and record each real change.

    Nothing is changed when any value is refused.
    """
    unknown = set(changes) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"update_task() got unknown fields: {', '.join(sorted(unknown))}")
    at = at or utcnow()
    changed = {name: value for name, value in changes.items() if getattr(task, name) != value}
    if "title" in changed or "description" in changed:
        # Compare the cleaned text, so trailing spaces alone are no change.
        changed = {
            name: value
            for name, value in changed.items()
            if name not in ("title", "description") or _normalized_text(value) != getattr(task, name)
        }
    if not changed:
        return task
    cleaned = _validated(session, task.project, task, changed)
    before = {name: _history_value(session, name, getattr(task, name)) for name in cleaned}
    was_done = task.status.is_done
    for name in TASK_FIELDS:
        if name in cleaned:
            setattr(task, name, cleaned[name])
    session.flush()
    session.expire(task)
    task = get_task_by_id(session, task.id)
    for name in TASK_FIELDS:
        if name not in cleaned:
            continue
        after = _history_value(session, name, getattr(task, name))
        if after != before[name]:
            session.add(
                TrackerTaskChange(
                    task_id=task.id,
                    user_id=actor_id,
                    at=at,
                    field=HISTORY_NAMES.get(name, name),
                    old_value=before[name],
                    new_value=after,
                )
            )
    if task.status.is_done and not was_done:
        task.done_at = at
    elif not task.status.is_done:
        task.done_at = None
    task.updated_at = at
    session.flush()
    return task


def set_task_status(
    session: Session,
    task: TrackerTask,
    status: TrackerStatus,
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> TrackerTask:
    return update_task(session, task, {"status_id": status.id}, actor_id=actor_id, at=at)


def delete_task(
    session: Session, task: TrackerTask, *, actor_id: int | None = None, at: datetime | None = None
) -> None:
    """Delete a task with its comments and history; its subtasks and epic children are let go,
    and that is recorded in their own history."""
    at = at or utcnow()
    dependants = session.scalars(
        _task_select().where(or_(TrackerTask.parent_id == task.id, TrackerTask.epic_id == task.id))
    ).all()
    for dependant in dependants:
        release = {name: None for name in ("parent_id", "epic_id") if getattr(dependant, name) == task.id}
        update_task(session, dependant, release, actor_id=actor_id, at=at)
    session.delete(task)
    session.flush()


def find_tasks(
    session: Session, task_filter: TaskFilter, *, offset: int = 0, limit: int = 25
) -> ResultPage[TrackerTask]:
    """Tasks matching the filter, in a stable order (ties broken by task id)."""
    query = _task_select()
    f = task_filter
    if f.project_id is not None:
        query = query.where(TrackerTask.project_id == f.project_id)
    if f.unassigned:
        query = query.where(TrackerTask.assignee_id.is_(None))
    elif f.assignee_id is not None:
        query = query.where(TrackerTask.assignee_id == f.assignee_id)
    if f.status_ids or f.status_names:
        conditions = []
        if f.status_ids:
            conditions.append(TrackerTask.status_id.in_(f.status_ids))
        if f.status_names:
            names = [name.strip().lower() for name in f.status_names]
            conditions.append(func.lower(TrackerStatus.name).in_(names))
        query = query.where(or_(*conditions))
    if f.categories:
        query = query.where(TrackerStatus.category.in_(sorted(f.categories)))
    if f.text and f.text.strip():
        query = query.where(_text_condition(f.text.strip()))
    if f.no_sprint:
        query = query.where(TrackerTask.sprint_id.is_(None))
    elif f.sprint_id is not None:
        query = query.where(TrackerTask.sprint_id == f.sprint_id)
    if f.epic_id is not None:
        query = query.where(TrackerTask.epic_id == f.epic_id)
    if f.parent_id is not None:
        query = query.where(TrackerTask.parent_id == f.parent_id)
    if f.type is not None:
        query = query.where(TrackerTask.type == f.type)
    if f.updated_since is not None:
        query = query.where(TrackerTask.updated_at >= f.updated_since)
    if f.blocked:
        query = query.where(_blocked_condition())
    return _page(session, query.order_by(*_task_order(f.sort, f.descending)), offset, limit)


def board_columns(
    session: Session, project: TrackerProject, *, sprint_id: int | None = None, per_column: int = 50
) -> list[tuple[TrackerStatus, ResultPage[TrackerTask]]]:
    """The project's board: each status with its first `per_column` tasks (by priority) and its total.

    The tasks of every column and their totals come in one statement (a window function ranks
    the tasks within their status), whatever the number of columns.
    """
    conditions = [TrackerTask.project_id == project.id]
    if sprint_id is not None:
        conditions.append(TrackerTask.sprint_id == sprint_id)
    rank = case(PRIORITY_RANK, value=TrackerTask.priority, else_=0)
    ranked = (
        select(
            TrackerTask.id.label("task_id"),
            func.row_number()
            .over(partition_by=TrackerTask.status_id, order_by=(rank.desc(), TrackerTask.id.desc()))
            .label("position"),
            func.count().over(partition_by=TrackerTask.status_id).label("total"),
        )
        .where(*conditions)
        .subquery()
    )
    rows = session.execute(
        _task_select()
        .add_columns(ranked.c.total)
        .join(ranked, ranked.c.task_id == TrackerTask.id)
        .where(ranked.c.position <= per_column)
        .order_by(TrackerTask.status_id, ranked.c.position)
    ).all()
    by_status: dict[int, ResultPage[TrackerTask]] = {}
    for task, total in rows:
        by_status.setdefault(task.status_id, ResultPage(items=[], total=total)).items.append(task)
    return [
        (status, by_status.get(status.id, ResultPage(items=[], total=0)))
        for status in project_statuses(session, project)
    ]


def list_epics(
    session: Session, project: TrackerProject, *, offset: int = 0, limit: int = 100
) -> ResultPage[TrackerTask]:
    return find_tasks(
        session,
        TaskFilter(project_id=project.id, type="epic", sort="key", descending=False),
        offset=offset,
        limit=limit,
    )


def sprint_tasks(session: Session, sprint: TrackerSprint) -> list[TrackerTask]:
    return list(
        session.scalars(
            _task_select().where(TrackerTask.sprint_id == sprint.id).order_by(TrackerTask.number)
        ).unique()
    )


def task_history(session: Session, task: TrackerTask) -> list[TrackerTaskChange]:
    return list(
        session.scalars(
            select(TrackerTaskChange)
            .options(joinedload(TrackerTaskChange.user))
            .where(TrackerTaskChange.task_id == task.id)
            .order_by(TrackerTaskChange.at, TrackerTaskChange.id)
        )
    )


# --- comments ---------------------------------------------------------------------------------


def add_comment(
    session: Session, task: TrackerTask, *, body: str, author_id: int | None, at: datetime | None = None
) -> TrackerComment:
    """Comment on a task in Markdown (the task counts as updated).

    Raises InvalidTrackerInput for an empty or too long body.
    """
    problems: dict[str, str] = {}
    text = _clean_text(body, "body", problems)
    if not text and not problems:
        problems["body"] = "Write a comment."
    if problems or text is None:
        raise InvalidTrackerInput(problems)
    at = at or utcnow()
    comment = TrackerComment(task_id=task.id, author_id=author_id, body=text, created_at=at)
    session.add(comment)
    task.updated_at = at
    session.flush()
    return comment


def list_comments(
    session: Session, task: TrackerTask, *, offset: int = 0, limit: int = 50
) -> ResultPage[TrackerComment]:
    """A task's comments, oldest first."""
    query = (
        select(TrackerComment)
        .options(joinedload(TrackerComment.author))
        .where(TrackerComment.task_id == task.id)
        .order_by(TrackerComment.created_at, TrackerComment.id)
    )
    return _page(session, query, offset, limit)


# --- people -----------------------------------------------------------------------------------


def assignable_users(session: Session, *, text: str | None = None) -> list[User]:
    """The instance's active users: everyone can be assigned tasks in every project."""
    query = select(User).where(User.is_active)
    if text and text.strip():
        needle = text.strip().lower()
        query = query.where(
            or_(
                func.lower(User.display_name).contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),
            )
        )
    return list(session.scalars(query.order_by(func.lower(User.display_name), User.id)))


# --- internals --------------------------------------------------------------------------------


def _page(session: Session, query: Select, offset: int, limit: int) -> ResultPage:
    offset = max(0, offset)
    limit = max(1, limit)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.offset(offset).limit(limit)).unique())
    return ResultPage(items=items, total=total)


def _task_select() -> Select:
    return (
        select(TrackerTask)
        .join(TrackerTask.project)
        .join(TrackerTask.status)
        .options(
            contains_eager(TrackerTask.project),
            contains_eager(TrackerTask.status),
            joinedload(TrackerTask.assignee),
            joinedload(TrackerTask.reporter),
            joinedload(TrackerTask.sprint),
            joinedload(TrackerTask.epic).joinedload(TrackerTask.project),
            joinedload(TrackerTask.parent).joinedload(TrackerTask.project),
        )
    )


def _blocked_condition():
    blocker = aliased(TrackerTask)
    blocker_status = aliased(TrackerStatus)
    return (
        select(TrackerTaskLink.id)
        .join(blocker, blocker.id == TrackerTaskLink.source_id)
        .join(blocker_status, blocker_status.id == blocker.status_id)
        .where(
            TrackerTaskLink.target_id == TrackerTask.id,
            TrackerTaskLink.kind == "blocks",
            blocker_status.category != "done",
        )
        .exists()
    )


def _text_condition(text: str):
    needle = text.lower()
    conditions = [
        func.lower(TrackerTask.title).contains(needle, autoescape=True),
        func.lower(TrackerTask.description).contains(needle, autoescape=True),
    ]
    match = TASK_KEY_PATTERN.match(text)
    if match:
        conditions.append(
            (TrackerProject.key == match.group(1).upper()) & (TrackerTask.number == int(match.group(2)))
        )
    return or_(*conditions)


def _task_order(sort: str, descending: bool) -> list:
    if sort not in SORTS:
        raise InvalidTrackerInput({"sort": f"Sort by one of: {', '.join(SORTS)}."})

    def directed(column):
        return column.desc() if descending else column.asc()

    if sort == "key":
        return [directed(TrackerProject.key), directed(TrackerTask.number)]
    if sort == "priority":
        rank = case(PRIORITY_RANK, value=TrackerTask.priority, else_=0)
        return [directed(rank), directed(TrackerTask.id)]
    if sort == "due":
        # Tasks without a due date come last either way.
        return [
            TrackerTask.due_date.is_(None).asc(),
            directed(TrackerTask.due_date),
            directed(TrackerTask.id),
        ]
    column = TrackerTask.created_at if sort == "created" else TrackerTask.updated_at
    return [directed(column), directed(TrackerTask.id)]


def _normalized_text(value: Any) -> Any:
    """Text as it would be stored: line endings unified, surrounding blank space dropped."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip() or None
    return value


def _clean_name(value: str | None, name: str, limit: int, problems: dict[str, str], missing: str) -> str:
    value = (value or "").strip()
    if not value:
        problems[name] = missing
    elif len(value) > limit:
        problems[name] = f"Use at most {limit} characters."
    return value


def _clean_text(value: str | None, name: str, problems: dict[str, str]) -> str | None:
    """Markdown text: surrounding blank space is dropped, an empty text is None."""
    value = _normalized_text(value)
    if value is not None and len(value) > MAX_TEXT:
        problems[name] = f"Use at most {MAX_TEXT:,} characters."
    return value


def _clean_number(value: Any, name: str, limit: float, problems: dict[str, str]) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems[name] = "Enter a number."
        return None
    if not math.isfinite(number) or number < 0:
        problems[name] = "Enter zero or a positive number."
    elif number > limit:
        problems[name] = f"Enter at most {limit:,}."
    return number


@dataclass(frozen=True)
class _Target:
    """What a task field is checked against: its project, and the task itself (None: a new task)."""

    session: Session
    project: TrackerProject
    task: TrackerTask | None


def _validated(
    session: Session, project: TrackerProject, task: TrackerTask | None, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Check and clean the given task fields for `task` (None: a new task) in `project`.

    Raises InvalidTrackerInput naming every field that is wrong, so a form shows them all at once.
    """
    target = _Target(session, project, task)
    problems: dict[str, str] = {}
    cleaned = {
        name: check(target, values[name], problems) for name, check in _CHECKS.items() if name in values
    }
    new_type = cleaned.get("type", task.type if task is not None else "task")
    epic_id = cleaned.get("epic_id", task.epic_id if task is not None else None)
    if new_type == "epic" and epic_id is not None and "epic" not in problems and "type" not in problems:
        problems["epic"] = "An epic can't belong to another epic."
    if problems:
        raise InvalidTrackerInput(problems)
    return cleaned


# Each check takes the target, the given value and the problems so far (keyed by the form's field
# name), and returns the value to store; a problem it finds goes into `problems`.


def _check_type(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    task = target.task
    if value not in TASK_TYPES:
        problems["type"] = f"Choose one of: {', '.join(TASK_TYPES)}."
    elif task is not None and task.type == "epic" and value != "epic":
        children = target.session.scalar(
            select(func.count(TrackerTask.id)).where(TrackerTask.epic_id == task.id)
        )
        if children:
            problems["type"] = f"This epic holds {children} task(s); move them out of the epic first."
    return value


def _check_priority(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    if value not in PRIORITIES:
        problems["priority"] = f"Choose one of: {', '.join(PRIORITIES)}."
    return value


def _check_status(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    status = target.session.get(TrackerStatus, value) if value is not None else None
    if status is None or status.project_id != target.project.id:
        problems["status"] = f"Choose one of the statuses of {target.project.key}."
    return value


def _check_assignee(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    if value is not None:
        user = target.session.get(User, value)
        if user is None or not user.is_active:
            problems["assignee"] = "Choose an active member of the team."
    return value


def _check_due(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        problems["due"] = "Enter a date."
    return value


def _check_epic(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    if value is not None:
        epic = target.session.get(TrackerTask, value)
        if epic is None or epic.project_id != target.project.id or epic.type != "epic":
            problems["epic"] = f"Choose an epic of {target.project.key}."
        elif target.task is not None and epic.id == target.task.id:
            problems["epic"] = "A task can't be its own epic."
    return value


def _check_sprint(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    if value is not None:
        sprint = target.session.get(TrackerSprint, value)
        if sprint is None or sprint.project_id != target.project.id:
            problems["sprint"] = f"Choose a sprint of {target.project.key}."
        elif sprint.state == SprintState.CLOSED:
            problems["sprint"] = f"{sprint.name} is closed; choose a running or planned sprint."
    return value


def _check_parent(target: _Target, value: Any, problems: dict[str, str]) -> Any:
    if value is None:
        return value
    parent = target.session.get(TrackerTask, value)
    if parent is None or parent.project_id != target.project.id:
        problems["parent"] = f"Choose a task of {target.project.key}."
        return value
    if target.task is None:
        return value
    # Walk up from the new parent: meeting the task itself would close a loop.
    seen: set[int] = set()
    current: TrackerTask | None = parent
    while current is not None and current.id not in seen:
        if current.id == target.task.id:
            problems["parent"] = "A task can't be inside itself or one of its subtasks."
            return value
        seen.add(current.id)
        current = target.session.get(TrackerTask, current.parent_id) if current.parent_id else None
    return value


_CHECKS: dict[str, Callable[[_Target, Any, dict[str, str]], Any]] = {
    "title": lambda _, value, problems: _clean_name(value, "title", MAX_TITLE, problems, "Enter a title."),
    "description": lambda _, value, problems: _clean_text(value, "description", problems),
    "type": _check_type,
    "priority": _check_priority,
    "status_id": _check_status,
    "assignee_id": _check_assignee,
    "due_date": _check_due,
    "estimate_hours": lambda _, value, problems: _clean_number(
        value, "estimate_hours", MAX_ESTIMATE_HOURS, problems
    ),
    "story_points": lambda _, value, problems: _clean_number(
        value, "story_points", MAX_STORY_POINTS, problems
    ),
    "parent_id": _check_parent,
    "epic_id": _check_epic,
    "sprint_id": _check_sprint,
}


def _history_value(session: Session, name: str, value: Any) -> str | None:
    """A field's value as the history shows it: names and keys rather than ids."""
    if value is None:
        return None
    if name == "status_id":
        status = session.get(TrackerStatus, value)
        return status.name if status else str(value)
    if name == "assignee_id":
        user = session.get(User, value)
        return user.display_name if user else str(value)
    if name in ("parent_id", "epic_id"):
        other = session.get(TrackerTask, value)
        return other.key if other else str(value)
    if name == "sprint_id":
        sprint = session.get(TrackerSprint, value)
        return sprint.name if sprint else str(value)
    if name == "due_date":
        return value.isoformat()
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def format_number(value: float | None) -> str:
    """3.0 -> "3", 2.5 -> "2.5": how estimates and points read."""
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")
