"""Tracker rows -> domain objects, as pure functions."""

from __future__ import annotations

from portal.core.models import (
    PRIORITIES,
    TrackerComment,
    TrackerField,
    TrackerProject,
    TrackerSprint,
    TrackerStatus,
    TrackerTask,
    TrackerTaskChange,
    TrackerWorklog,
)
from portal.core.models import SPRINT_STATES as TRACKER_SPRINT_STATES
from portal.core.models import STATUS_CATEGORIES as TRACKER_STATUS_CATEGORIES
from portal.core.models import User as UserRecord
from portal.core.tracker import service, work

from .. import errors
from ..base import (
    MAX_DATABASE_ID,
    Comment,
    Epic,
    FieldDef,
    FieldType,
    HistoryEntry,
    LinkKind,
    LinkType,
    Priority,
    PriorityLevel,
    Project,
    Sprint,
    SprintState,
    Status,
    StatusCategory,
    Task,
    TaskLink,
    User,
    Worklog,
    is_number,
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
    if not is_number(text) or int(text) > MAX_DATABASE_ID:
        raise errors.InvalidInput(
            f"{field} must be a number", field_errors={field: f"{text[:40]!r} is not a number"}
        )
    return int(text)


# The tracker's link kinds as the domain's, each with how it reads from its source and target.
LINK_TYPES = (
    LinkType(id="blocks", name="Blocks", outward="blocks", inward="is blocked by", kind=LinkKind.BLOCKS),
    LinkType(id="relates", name="Relates", outward="relates to", inward="relates to", kind=LinkKind.RELATES),
    LinkType(
        id="duplicates",
        name="Duplicates",
        outward="duplicates",
        inward="is duplicated by",
        kind=LinkKind.DUPLICATES,
    ),
)
LINK_KIND_READINGS = {
    ("blocks", True): LinkKind.BLOCKS,
    ("blocks", False): LinkKind.BLOCKED_BY,
    ("relates", True): LinkKind.RELATES,
    ("relates", False): LinkKind.RELATES,
    ("duplicates", True): LinkKind.DUPLICATES,
    ("duplicates", False): LinkKind.DUPLICATED_BY,
}
FIELD_TYPES = {
    "text": FieldType.TEXT,
    "number": FieldType.NUMBER,
    "date": FieldType.DATE,
    "option": FieldType.OPTION,
}
# The task's own fields, listed by list_fields as not settable through `fields` (tools have arguments).
STANDARD_FIELDS = (
    FieldDef.standard("title", "Title", FieldType.TEXT, required=True),
    FieldDef.standard("description", "Description", FieldType.MARKDOWN),
    FieldDef.standard("type", "Type", FieldType.OPTION, allowed=tuple(service.TASK_TYPES)),
    FieldDef.standard("status", "Status", FieldType.OPTION),
    FieldDef.standard(
        "priority", "Priority", FieldType.OPTION, allowed=tuple(p for p in service.PRIORITIES if p != "none")
    ),
    FieldDef.standard("assignee", "Assignee", FieldType.USER),
    FieldDef.standard("due", "Due date", FieldType.DATE),
    FieldDef.standard("estimate_hours", "Estimate hours", FieldType.NUMBER),
    FieldDef.standard("story_points", "Story points", FieldType.NUMBER),
    FieldDef.standard("parent", "Parent", FieldType.OTHER),
    FieldDef.standard("epic", "Epic", FieldType.OTHER),
    FieldDef.standard("sprint", "Sprint", FieldType.OTHER),
)
CUSTOM_FIELD_PREFIX = "cf_"


def custom_field_id(field: TrackerField) -> str:
    return f"{CUSTOM_FIELD_PREFIX}{field.id}"


def parse_field(field: TrackerField) -> FieldDef:
    return FieldDef(
        id=custom_field_id(field),
        name=field.name,
        type=FIELD_TYPES.get(field.type, FieldType.OTHER),
        allowed=tuple(field.allowed or ()),
    )


def parse_link(slug: str, base_url: str, view: work.LinkView) -> TaskLink:
    link, other = view.link, view.other
    this = link.source if view.outward else link.target
    return TaskLink(
        ref=make_ref(slug, link.id),
        id=str(link.id),
        kind=LINK_KIND_READINGS[(link.kind, view.outward)],
        label=view.phrase,
        task_ref=make_ref(slug, this.key),
        other_ref=make_ref(slug, other.key),
        other_key=other.key,
        other_title=other.title,
        other_done=other.status.is_done,
        url=f"{base_url}/tasks/{this.key}#links",
    )


def parse_worklog(slug: str, base_url: str, worklog: TrackerWorklog) -> Worklog:
    return Worklog(
        ref=make_ref(slug, worklog.id),
        id=str(worklog.id),
        task_ref=make_ref(slug, worklog.task.key),
        hours=worklog.seconds / 3600,
        started=day_start(worklog.started_on),
        author=parse_user(slug, worklog.user) if worklog.user is not None else None,
        comment=worklog.comment,
        created_at=worklog.created_at,
        extra={
            "seconds": worklog.seconds,
            "url": f"{base_url}/tasks/{worklog.task.key}#worklog-{worklog.id}",
        },
    )


def parse_change(slug: str, change: TrackerTaskChange) -> HistoryEntry:
    return HistoryEntry(
        at=change.at,
        field=change.field,
        old=change.old_value,
        new=change.new_value,
        author=parse_user(slug, change.user) if change.user is not None else None,
    )
