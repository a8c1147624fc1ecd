"""Tracker rows -> domain objects, as pure functions."""

from __future__ import annotations

from portal.core.models import (
    PRIORITIES,
    TrackerComment,
    TrackerProject,
    TrackerSprint,
    TrackerStatus,
    TrackerTask,
)
from portal.core.models import SPRINT_STATES as TRACKER_SPRINT_STATES
from portal.core.models import STATUS_CATEGORIES as TRACKER_STATUS_CATEGORIES
from portal.core.models import User as UserRecord
from portal.core.tracker import service

from .. import errors
from ..base import (
    Comment,
    Epic,
    Priority,
    PriorityLevel,
    Project,
    Sprint,
    SprintState,
    Status,
    StatusCategory,
    Task,
    User,
    make_ref,
)
from ..dates import day_end, day_start

# The tracker stores the enums' values, so each stored string maps straight onto its member.
PRIORITY_LEVELS: dict[str, PriorityLevel] = {
    level.value: level for level in PriorityLevel if level.value in PRIORITIES
}
PRIORITY_BY_LEVEL = {level: name for name, level in PRIORITY_LEVELS.items()}
STATUS_CATEGORIES: dict[str, StatusCategory] = {
    name: StatusCategory(name) for name in TRACKER_STATUS_CATEGORIES
}
SPRINT_STATES: dict[str, SprintState] = {name: SprintState(name) for name in TRACKER_SPRINT_STATES}

# The service's field names, as the domain model and TaskDraft/TaskChanges call them.
FIELD_NAMES = {
    "status": "status",
    "assignee": "assignee_id",
    "due": "due",
    "parent": "parent_id",
    "epic": "epic_id",
    "sprint": "sprint_id",
}


def parse_user(slug: str, user: UserRecord) -> User:
    return User(ref=make_ref(slug, user.id), id=str(user.id), name=user.display_name, email=user.email)


def parse_priority(name: str) -> Priority | None:
    """A task's priority; None when it has none."""
    if name == "none":
        return None
    return Priority(id=name, name=name.capitalize(), level=PRIORITY_LEVELS.get(name, PriorityLevel.UNKNOWN))


def parse_status(slug: str, status: TrackerStatus) -> Status:
    return Status(
        ref=make_ref(slug, status.id),
        id=str(status.id),
        name=status.name,
        category=STATUS_CATEGORIES.get(status.category, StatusCategory.UNKNOWN),
        extra={"position": status.position},
    )


def parse_project(slug: str, base_url: str, project: TrackerProject) -> Project:
    return Project(
        ref=make_ref(slug, project.key),
        id=project.key,
        key=project.key,
        name=project.name,
        url=f"{base_url}/projects/{project.key}",
        description=project.description,
    )


def parse_task(slug: str, base_url: str, task: TrackerTask) -> Task:
    key = task.key
    return Task(
        ref=make_ref(slug, key),
        id=key,
        key=key,
        title=task.title,
        url=f"{base_url}/tasks/{key}",
        status=parse_status(slug, task.status),
        project_ref=make_ref(slug, task.project.key),
        description=task.description,
        type=task.type,
        priority=parse_priority(task.priority),
        assignee=parse_user(slug, task.assignee) if task.assignee is not None else None,
        reporter=parse_user(slug, task.reporter) if task.reporter is not None else None,
        due=task.due_date,
        created_at=task.created_at,
        updated_at=task.updated_at,
        done_at=task.done_at,
        estimate_hours=task.estimate_hours,
        story_points=task.story_points,
        parent_ref=make_ref(slug, task.parent.key) if task.parent is not None else None,
        epic_ref=make_ref(slug, task.epic.key) if task.epic is not None else None,
        sprint_ref=make_ref(slug, task.sprint_id) if task.sprint_id is not None else None,
    )


def parse_epic(slug: str, base_url: str, task: TrackerTask) -> Epic:
    return Epic.of(parse_task(slug, base_url, task))


def parse_sprint(slug: str, base_url: str, sprint: TrackerSprint) -> Sprint:
    return Sprint(
        ref=make_ref(slug, sprint.id),
        id=str(sprint.id),
        name=sprint.name,
        state=SPRINT_STATES.get(sprint.state, SprintState.UNKNOWN),
        url=f"{base_url}/projects/{sprint.project.key}/tasks?sprint={sprint.id}",
        start=day_start(sprint.start_date),  # whole UTC days: a sprint covers its end day
        end=day_end(sprint.end_date),
        completed_at=sprint.completed_at,
        goal=sprint.goal,
        project_ref=make_ref(slug, sprint.project.key),
    )


def parse_comment(slug: str, base_url: str, task_key: str, comment: TrackerComment) -> Comment:
    return Comment(
        ref=make_ref(slug, comment.id),
        id=str(comment.id),
        body=comment.body,
        author=parse_user(slug, comment.author) if comment.author is not None else None,
        created_at=comment.created_at,
        url=f"{base_url}/tasks/{task_key}#comment-{comment.id}",
        extra={"task_ref": make_ref(slug, task_key)},
    )


def invalid_input(exc: service.InvalidTrackerInput) -> errors.InvalidInput:
    """The tracker's refusal as the provider error, with field names as TaskDraft calls them."""
    fields = {FIELD_NAMES.get(name, name): message for name, message in exc.field_errors.items()}
    return errors.InvalidInput("The team tracker refused the values given", field_errors=fields)


def native_int(value: str | None, field: str) -> int | None:
    """A numeric native id (None for none); InvalidInput naming `field` for anything else."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.isdigit():
        raise errors.InvalidInput(
            f"{field} must be a number", field_errors={field: f"{text[:40]!r} is not a number"}
        )
    return int(text)
