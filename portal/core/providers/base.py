"""The domain model and the adapter interface every PM provider implements.

Every object carries a `ref` (`<connection slug>:<native id>`), a browser `url`
on the vendor's site, and an `extra` dict for what the model has no field for.
Vendor statuses, priorities and sprint states map onto the enums below, with an
explicit UNKNOWN rather than a guess.

Adapters are synchronous (they do blocking HTTP or database work); the worker
runs them in threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from .unset import UNSET
from .work import (
    BACKLOG,
    FieldDef,
    FieldType,
    HistoryEntry,
    LinkKind,
    LinkType,
    MoveOutcome,
    SprintChanges,
    SprintDraft,
    TaskLink,
    Worklog,
    WorklogDraft,
    WorklogQuery,
)

__all__ = [  # the sprint-work types live in work.py; adapters import them from here like the rest
    "BACKLOG",
    "UNSET",
    "FieldDef",
    "FieldType",
    "HistoryEntry",
    "LinkKind",
    "LinkType",
    "MoveOutcome",
    "SprintChanges",
    "SprintDraft",
    "TaskLink",
    "Worklog",
    "WorklogDraft",
    "WorklogQuery",
]

T = TypeVar("T")


class StatusCategory(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    UNKNOWN = "unknown"


class PriorityLevel(StrEnum):
    LOWEST = "lowest"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    HIGHEST = "highest"
    NONE = "none"  # the task has no priority set
    UNKNOWN = "unknown"  # the vendor's value has no counterpart here


class SprintState(StrEnum):
    FUTURE = "future"
    ACTIVE = "active"
    CLOSED = "closed"
    UNKNOWN = "unknown"


# The largest id our integer id columns hold on every database (PostgreSQL INTEGER; SQLite's is wider).
MAX_DATABASE_ID = 2**31 - 1


MAX_NUMBER_DIGITS = 19  # more than any id, offset or size handled here (2**63 has 19 digits)


def is_number(text: str) -> bool:
    """ASCII digits only, at most MAX_NUMBER_DIGITS of them, so that int() of it is safe and cheap.

    str.isdigit() also accepts '²' and other digits that int() refuses; and int() refuses text of more
    than 4,300 digits (after quadratic work below that), which an agent or a vendor can send.
    """
    return text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS


def make_ref(slug: str, native_id: str | int) -> str:
    return f"{slug}:{native_id}"


@dataclass
class User:
    """A person on the vendor's side (an account, or a group where the vendor assigns to groups)."""

    ref: str
    id: str
    name: str
    email: str | None = None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Status:
    """A workflow status with the category it counts in (UNKNOWN where the vendor does not say)."""

    ref: str
    id: str
    name: str
    category: StatusCategory
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Priority:
    """A priority as the vendor names it, with its level; `id` is None where the vendor has none."""

    id: str | None
    name: str
    level: PriorityLevel
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Project:
    """Where tasks live: a JIRA or Redmine project, an OpenProject workspace, a ClickUp List."""

    ref: str
    id: str
    key: str
    name: str
    url: str
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Task:
    """A work item. `description` is Markdown; None in list results that did not fetch it."""

    ref: str
    id: str  # the native id used in refs (a JIRA issue key, a Redmine issue number ...)
    key: str  # what people call it: "PROJ-12", "#123"
    title: str
    url: str
    status: Status | None = None
    project_ref: str | None = None
    description: str | None = None
    type: str | None = None
    priority: Priority | None = None
    assignee: User | None = None
    reporter: User | None = None
    due: date | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    done_at: datetime | None = None  # when it last entered a done status, where the vendor tells
    estimate_hours: float | None = None
    story_points: float | None = None
    parent_ref: str | None = None
    epic_ref: str | None = None
    sprint_ref: str | None = None
    labels: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Comment:
    """A comment on a task; `body` is Markdown."""

    ref: str
    id: str
    body: str
    author: User | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sprint:
    """A sprint, or what stands for one (a Redmine or OpenProject version, a ClickUp sprint List)."""

    ref: str
    id: str
    name: str
    state: SprintState
    url: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    completed_at: datetime | None = None
    goal: str | None = None
    project_ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Epic:
    """A task of an epic type, as the parent of other tasks."""

    ref: str
    id: str
    key: str
    title: str
    url: str
    status: Status | None = None
    description: str | None = None
    project_ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, task: Task, extra: dict[str, Any] | None = None) -> Epic:
        """The epic that a task of an epic type is (with the task's extra, unless `extra` is given)."""
        shared = {f.name: getattr(task, f.name) for f in fields(cls) if f.name != "extra"}
        return cls(**shared, extra=dict(task.extra if extra is None else extra))


@dataclass
class Page(Generic[T]):
    """One page of results; `next_cursor` is the adapter's own opaque continuation."""

    items: list[T]
    next_cursor: str | None = None
    total: int | None = None


@dataclass(frozen=True)
class PageRequest:
    limit: int = 25
    cursor: str | None = None


ME = "@me"
"""TaskQuery.assignee value meaning the connection's own user."""


class TaskSort(StrEnum):
    UPDATED = "updated"
    CREATED = "created"
    PRIORITY = "priority"
    DUE = "due"
    KEY = "key"


@dataclass(frozen=True)
class TaskQuery:
    """Filters for list_tasks. Unset fields don't filter.

    `assignee` is a native user id or ME; `statuses` come from list_statuses or
    available_statuses; `categories` keeps tasks whose status is in one of them
    (open tasks are {TODO, IN_PROGRESS}).
    """

    project_id: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    statuses: tuple[Status, ...] = ()
    categories: frozenset[StatusCategory] = frozenset()
    text: str | None = None
    sprint_id: str | None = None
    epic_id: str | None = None
    updated_since: datetime | None = None
    sort: TaskSort = TaskSort.UPDATED
    descending: bool = True
    # Only tasks blocked now: with a BLOCKED_BY link to a task that is not done.
    blocked: bool = False
    # The vendor's own query, passed through whole and never spliced into ours: JQL for
    # JIRA, a JSON filter array for OpenProject, a saved query id (or query string) for
    # Redmine, a view id for ClickUp. With it, no other filter is set (the tools refuse that).
    native_query: str | None = None


@dataclass(frozen=True)
class TaskDraft:
    """A new task. Ids are native; priority comes from list_priorities."""

    title: str
    description: str | None = None
    type: str | None = None
    priority: Priority | None = None
    assignee_id: str | None = None
    due: date | None = None
    estimate_hours: float | None = None
    story_points: float | None = None
    parent_id: str | None = None
    epic_id: str | None = None
    sprint_id: str | None = None
    labels: tuple[str, ...] = ()
    # The vendor's own fields by FieldDef.id, values already checked against list_fields
    # (OPTION/OPTIONS as allowed names, USER/USERS as native user ids, dates as date).
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskChanges:
    """Changes to a task: UNSET leaves a field alone, None clears it."""

    title: Any = UNSET
    description: Any = UNSET
    priority: Any = UNSET  # Priority | None
    due: Any = UNSET  # date | None
    estimate_hours: Any = UNSET  # float | None
    story_points: Any = UNSET  # float | None
    parent_id: Any = UNSET  # str | None
    epic_id: Any = UNSET  # str | None
    sprint_id: Any = UNSET  # str | None
    fields: Any = UNSET  # dict[str, Any]: by FieldDef.id, as TaskDraft.fields; a None value clears one

    def changed(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if value is not UNSET}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a successful connection test."""

    user: User
    site: str  # the host or workspace the user is connected to
    summary: str  # "Connected to acme.atlassian.net as Ana Silva, ana@acme.com"
    workspaces: tuple[tuple[str, str], ...] = ()  # (id, name) choices, where the vendor has them


@dataclass(frozen=True)
class ConnectionConfig:
    """What an adapter is built from: the decrypted connection, never persisted as such."""

    slug: str
    base_url: str
    token: str = field(repr=False)
    username: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    user_id: int | None = None  # the owner, for the built-in tracker


@runtime_checkable
class ProviderAdapter(Protocol):
    """What every provider implements. Ids are native ids (the part of a ref after the slug).

    Every method raises only ProviderError subclasses (errors.py), never a vendor's
    or a library's own exception. Any call that reaches the vendor may raise:
    AuthenticationFailed (the credentials were rejected), PermissionDenied (valid
    credentials that may not do this), RateLimited (beyond the wait we allow),
    Unavailable and its kinds Unreachable, TLSFailure and TimedOut, AddressNotAllowed
    (the outbound address guard), and NotThisProduct (the URL answers as something
    else). Each method's docstring names what it raises beyond those. A paged
    method raises InvalidInput for a cursor this connection did not issue.
    """

    provider_type: ClassVar[str]  # "jira", "openproject", "clickup", "redmine", "local"
    needs_username: ClassVar[bool]  # JIRA needs the account email beside the token
    base_url_example: ClassVar[str]  # shown in forms: "https://your-site.atlassian.net"
    slug: str

    def check(self) -> CheckResult:
        """Ask the vendor (never a cache) who the credentials belong to, and describe it.

        Raises InvalidInput when a chosen option does not fit (a ClickUp Workspace the token can't see).
        """
        ...

    def current_user(self) -> User:
        """The connection's own user (from the connection's metadata when known)."""
        ...

    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        """The projects this account sees, those whose name contains `text` when given."""
        ...

    def get_project(self, project_id: str) -> Project:
        """One project; NotFound when there is none this account sees."""
        ...

    def list_statuses(self, project_id: str) -> list[Status]:
        """The statuses a project's tasks can have; NotFound for an unknown project where statuses are per project."""
        ...

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        """The priorities a task can have (in the project); NotFound for an unknown project."""
        ...

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        """People tasks in the project can be assigned to (all visible people without a project).

        Raises NotFound for an unknown project, PermissionDenied where the vendor lists
        everyone only to administrators (Redmine).
        """
        ...

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        """The tasks that match `query`, sorted as it says.

        Raises InvalidInput for a malformed id in the query, NotSupported for a filter or
        sort the vendor lacks (an epic where there are no epics), NotFound for an unknown
        project or sprint where the vendor says so.
        """
        ...

    def get_task(self, task_id: str) -> Task:
        """One task in full, its description included; NotFound when there is none."""
        ...

    def available_statuses(self, task_id: str) -> list[Status]:
        """Statuses this task can move to now (workflow transitions where the vendor has them).

        Raises NotFound for an unknown task.
        """
        ...

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        """Create a task and return it as the vendor stored it.

        Raises InvalidInput when the vendor or we refuse a value (with `field_errors`),
        NotSupported for a field the vendor lacks (story points on Redmine, labels on
        OpenProject), NotFound for an unknown project. Nothing is created then.
        """
        ...

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        """Change the fields given (None clears one) and return the task as stored.

        Raises what create_task raises, NotFound for an unknown task, and Conflict when
        the task keeps changing underneath (OpenProject's lock version, twice).
        """
        ...

    def set_task_status(self, task_id: str, status: Status) -> Task:
        """Move the task to `status` (one of available_statuses) and verify it took.

        Raises InvalidInput when the workflow allows no such move (naming the statuses it
        allows), Conflict when the vendor accepted the move but the task is elsewhere.
        """
        ...

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        """Assign the task to a person (None: unassign); InvalidInput when they can't take it."""
        ...

    def delete_task(self, task_id: str) -> None:
        """Delete the task; NotFound when there is none."""
        ...

    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        """A task's comments; NotFound for an unknown task."""
        ...

    def add_comment(self, task_id: str, body: str) -> Comment:
        """Comment on a task in Markdown; InvalidInput for an empty comment, NotFound for an unknown task."""
        ...

    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        """A project's sprints, in `state` when given.

        Raises NotSupported where the project has no sprints (a ClickUp Space without
        the Sprints ClickApp), NotFound for an unknown project.
        """
        ...

    def get_sprint(self, sprint_id: str) -> Sprint:
        """One sprint; NotFound when there is none."""
        ...

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        """Every task in the sprint, with story points, estimates and done_at filled where known.

        Raises NotFound for an unknown sprint.
        """
        ...

    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        """A project's epics; NotSupported where the vendor has none (Redmine, ClickUp)."""
        ...

    def get_epic(self, epic_id: str) -> Epic:
        """One epic; NotFound when the task is none or not an epic, NotSupported as list_epics."""
        ...

    # --- sprint work -------------------------------------------------------------------
    # Each of these raises NotSupported, naming the vendor and what to use instead, where
    # the vendor's API lacks the capability (ClickUp has no task history; Redmine versions
    # can't be "started"), and NotFound for an unknown task, sprint or project.

    def create_sprint(self, project_id: str, draft: SprintDraft) -> Sprint:
        """Create a future sprint in the project and return it as stored.

        Raises InvalidInput for an empty name or an end before the start.
        """
        ...

    def update_sprint(self, sprint_id: str, changes: SprintChanges) -> Sprint:
        """Change a sprint's fields, start it (state ACTIVE) or close it (state CLOSED).

        Closing moves the sprint's open tasks to `changes.move_open_to` first. Raises
        InvalidInput for a move the vendor forbids (starting a closed sprint, a second
        active sprint where only one may run, closing with open tasks and no
        `move_open_to`), naming what is allowed.
        """
        ...

    def move_to_sprint(self, task_ids: list[str], sprint_id: str) -> list[MoveOutcome]:
        """Move tasks into a sprint (a native id) or out of every sprint (BACKLOG).

        One outcome per task, in the order given; a task that can't move (unknown, in
        another project) gets its error there and the others still move. Raises NotFound
        for an unknown sprint (nothing moves then).
        """
        ...

    def list_link_types(self) -> list[LinkType]:
        """The kinds of link this connection offers (the generic ones mapped onto the vendor's)."""
        ...

    def list_links(self, task_id: str) -> list[TaskLink]:
        """A task's links to other tasks, as read from it."""
        ...

    def link_tasks(
        self, task_id: str, other_id: str, link_type: LinkType, *, outward: bool = True
    ) -> TaskLink:
        """Link two tasks and return the link as read from `task_id`.

        `link_type` comes from list_link_types; `outward` True makes `task_id` the source
        (it "blocks" the other), False the target (it "is blocked by" the other). Raises
        InvalidInput for a link of a task to itself, Conflict for a link that exists.
        """
        ...

    def unlink_tasks(self, link_id: str) -> None:
        """Remove a link (the id of a TaskLink); NotFound when there is none."""
        ...

    def log_work(self, task_id: str, draft: WorklogDraft) -> Worklog:
        """Log time on a task; InvalidInput for hours that are not positive."""
        ...

    def list_worklogs(self, task_id: str, page: PageRequest) -> Page[Worklog]:
        """Time logged on a task, oldest first."""
        ...

    def search_worklogs(self, query: WorklogQuery, page: PageRequest) -> Page[Worklog]:
        """Time one person logged over a range of days (within a project when given), oldest first."""
        ...

    def task_history(self, task_id: str, page: PageRequest) -> Page[HistoryEntry]:
        """What changed on a task, oldest first: one entry per changed field."""
        ...

    def list_fields(self, project_id: str, task_type: str | None = None) -> list[FieldDef]:
        """The fields a task of the project (and type, where fields depend on it) can have.

        Standard fields are listed with settable=False (tools set them by their own
        arguments); custom fields with their type and allowed values.
        """
        ...

    def close(self) -> None:
        """Release pooled connections; raises nothing."""
        ...
