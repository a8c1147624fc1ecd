"""ClickUp JSON -> domain objects, as pure functions (rich-text comments are in comments.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from ..base import (
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
from ..dates import parse_millis

APP_URL = "https://app.clickup.com"
NO_EPICS = (
    "ClickUp has no epics in its API v2. Group work with Lists, Folders or parent tasks (subtasks) instead."
)
NO_HISTORY = (
    "ClickUp does not support reading a task's history: its API v2 has no activity or change log "
    "(the Activity of a task is shown only in ClickUp itself). Open the task in ClickUp to see it; "
    "get_task gives when the task was created, last updated and done."
)
DONE_STATUS_TYPES = frozenset({"done", "closed"})

# ClickUp's priorities are fixed: (id, name, level).
PRIORITIES: tuple[tuple[str, str, PriorityLevel], ...] = (
    ("1", "urgent", PriorityLevel.HIGHEST),
    ("2", "high", PriorityLevel.HIGH),
    ("3", "normal", PriorityLevel.MEDIUM),
    ("4", "low", PriorityLevel.LOW),
)
PRIORITY_LEVELS = {priority_id: level for priority_id, _name, level in PRIORITIES}

STATUS_TYPE_CATEGORIES = {
    "open": StatusCategory.TODO,
    "custom": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
    "closed": StatusCategory.DONE,
}


# --- time -----------------------------------------------------------------------


def parse_due(value: Any, tz: tzinfo = UTC) -> date | None:
    """A due date in milliseconds -> the calendar date it falls on in the user's time zone."""
    moment = parse_millis(value)
    return moment.astimezone(tz).date() if moment else None


# --- people, statuses, priorities ------------------------------------------------------


def parse_user(slug: str, data: dict[str, Any]) -> User:
    """A ClickUp user: the flat shape, or a Workspace member's {"user": {...}}."""
    data = data.get("user", data) if isinstance(data.get("user"), dict) else data
    user_id = str(data["id"])
    name = data.get("username") or data.get("email") or user_id
    extra = {key: data[key] for key in ("initials", "color", "timezone") if data.get(key)}
    return User(
        ref=make_ref(slug, user_id), id=user_id, name=name, email=data.get("email") or None, extra=extra
    )


def status_category(status_type: Any) -> StatusCategory:
    return STATUS_TYPE_CATEGORIES.get(str(status_type or "").lower(), StatusCategory.UNKNOWN)


def parse_status(slug: str, data: dict[str, Any]) -> Status:
    """A list's status or a task's status. ClickUp sets a task's status by this name."""
    name = data["status"]
    status_id = str(data.get("id") or name)
    return Status(
        ref=make_ref(slug, status_id),
        id=status_id,
        name=name,
        category=status_category(data.get("type")),
        extra={key: data[key] for key in ("type", "color", "orderindex") if key in data},
    )


def parse_priority(data: dict[str, Any] | None) -> Priority:
    """A task's priority object (or null) -> Priority; 1 urgent .. 4 low."""
    if not data:
        return Priority(id=None, name="none", level=PriorityLevel.NONE)
    priority_id = str(data.get("id") or "")
    name = data.get("priority") or priority_id
    level = PRIORITY_LEVELS.get(priority_id, PriorityLevel.UNKNOWN)
    return Priority(id=priority_id or None, name=name, level=level, extra={"color": data.get("color")})


def clickup_priorities() -> list[Priority]:
    return [Priority(id=priority_id, name=name, level=level) for priority_id, name, level in PRIORITIES]


# --- the hierarchy: spaces, folders, lists --------------------------------------------------


@dataclass(frozen=True)
class SpaceInfo:
    id: str
    name: str
    sprints: bool  # the Sprints ClickApp is on
    points: bool  # the Sprint Points ClickApp is on


@dataclass(frozen=True)
class ListPlace:
    """Where a ClickUp List sits, and what the model needs of it."""

    list_id: str
    list_name: str
    space_id: str
    space_name: str
    folder_id: str | None  # None for a folderless List
    folder_name: str | None
    sprint: bool
    start: datetime | None = None
    due: datetime | None = None
    content: str | None = None
    statuses: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    @property
    def path(self) -> str:
        return " / ".join(part for part in (self.space_name, self.folder_name, self.list_name) if part)


def _enabled(features: dict[str, Any], name: str) -> bool:
    feature = features.get(name)
    return bool(isinstance(feature, dict) and feature.get("enabled"))


def parse_space(data: dict[str, Any]) -> SpaceInfo:
    features = data.get("features") or {}
    return SpaceInfo(
        id=str(data["id"]),
        name=data.get("name") or str(data["id"]),
        sprints=_enabled(features, "sprints"),
        points=_enabled(features, "points"),
    )


def named_for_sprints(folder: dict[str, Any]) -> bool:
    """Whether a (shown) folder is named for sprints, as ClickUp's default "Sprint Folder" is."""
    return (
        bool(folder.get("id"))
        and not folder.get("hidden")
        and "sprint" in str(folder.get("name", "")).lower()
    )


def is_sprint_folder(space: SpaceInfo, folder: dict[str, Any]) -> bool:
    """Whether a folder holds sprints.

    API v2 marks no folder as a sprint folder, so: the Space has the Sprints
    ClickApp, and the folder is named for sprints (ClickUp's default "Sprint
    Folder") or every List in it has both a start and a due date.
    """
    if not space.sprints:
        return False
    lists = [lst for lst in folder.get("lists") or [] if isinstance(lst, dict)]
    if not lists:
        return False
    if named_for_sprints(folder):
        return True
    return all(lst.get("start_date") and lst.get("due_date") for lst in lists)


def parse_list_place(
    data: dict[str, Any],
    *,
    space_id: str,
    space_name: str,
    folder_id: str | None,
    folder_name: str | None,
    sprint: bool,
) -> ListPlace:
    return ListPlace(
        list_id=str(data["id"]),
        list_name=data.get("name") or str(data["id"]),
        space_id=space_id,
        space_name=space_name,
        folder_id=folder_id,
        folder_name=folder_name,
        sprint=sprint,
        start=parse_millis(data.get("start_date")),
        due=parse_millis(data.get("due_date")),
        content=data.get("content") or None,
        statuses=tuple(data.get("statuses") or ()),
    )


def place_from_list(data: dict[str, Any], sprint: bool = False) -> ListPlace:
    """A ListPlace from GET /list/{id} or a folderless-lists item (they name their space and folder)."""
    space = data.get("space") or {}
    folder = data.get("folder") or {}
    # A folderless List lives in a hidden folder of its Space.
    shown = bool(folder.get("id")) and not folder.get("hidden")
    return parse_list_place(
        data,
        space_id=str(space.get("id") or ""),
        space_name=space.get("name") or "",
        folder_id=str(folder["id"]) if shown else None,
        folder_name=folder.get("name") if shown else None,
        sprint=sprint,
    )


def places_in_folder(space: SpaceInfo, folder: dict[str, Any]) -> list[ListPlace]:
    """The Lists a GET /space/{id}/folder entry embeds."""
    sprint = is_sprint_folder(space, folder)
    return [
        parse_list_place(
            lst,
            space_id=space.id,
            space_name=space.name,
            folder_id=str(folder["id"]),
            folder_name=folder.get("name"),
            sprint=sprint,
        )
        for lst in folder.get("lists") or []
        if isinstance(lst, dict) and not lst.get("archived")
    ]


def list_url(team_id: str, list_id: str) -> str:
    return f"{APP_URL}/{team_id}/v/li/{list_id}"


def parse_project(slug: str, place: ListPlace, team_id: str) -> Project:
    extra: dict[str, Any] = {"space_id": place.space_id, "space_name": place.space_name}
    if place.folder_id:
        extra.update(folder_id=place.folder_id, folder_name=place.folder_name)
    if place.sprint:
        extra["sprint"] = True
    return Project(
        ref=make_ref(slug, place.list_id),
        id=place.list_id,
        key=place.list_id,  # Lists have no key; their id is what links and the API use
        name=place.path,
        url=list_url(team_id, place.list_id),
        description=place.content,
        extra=extra,
    )


def sprint_state(start: datetime | None, end: datetime | None, now: datetime) -> SprintState:
    """A sprint List's state from its dates; ClickUp's API v2 reports no sprint state of its own."""
    if start is None or end is None:
        return SprintState.UNKNOWN
    if now < start:
        return SprintState.FUTURE
    if now <= end:
        return SprintState.ACTIVE
    return SprintState.CLOSED


def parse_sprint(slug: str, place: ListPlace, team_id: str, now: datetime) -> Sprint:
    extra: dict[str, Any] = {"space_id": place.space_id, "space_name": place.space_name}
    if place.folder_id:
        extra.update(folder_id=place.folder_id, folder_name=place.folder_name)
    state = sprint_state(place.start, place.due, now)
    return Sprint(
        ref=make_ref(slug, place.list_id),
        id=place.list_id,
        name=place.list_name,
        state=state,
        url=list_url(team_id, place.list_id),
        start=place.start,
        end=place.due,
        completed_at=place.due if state == SprintState.CLOSED else None,
        goal=place.content,
        extra=extra,
    )


# --- tasks ----------------------------------------------------------------------------------


def task_type(custom_item_id: Any) -> str:
    if custom_item_id in (None, 0):
        return "task"
    if custom_item_id == 1:
        return "milestone"
    return f"custom type {custom_item_id}"


def may_be_in_a_sprint(data: dict[str, Any]) -> bool:
    """Whether a task body could place the task in a sprint, so the hierarchy must be read to tell.

    Sprint Lists live in sprint folders: a task whose home List is folderless (in its Space's
    hidden folder) and that is in no other List is in no sprint.
    """
    folder = data.get("folder") or {}
    in_folder = bool(folder.get("id")) and not folder.get("hidden")
    return in_folder or bool(data.get("locations"))


def is_done(data: dict[str, Any]) -> bool:
    """Whether a task body's status is of a done type (done or closed)."""
    status = data.get("status")
    return isinstance(status, dict) and str(status.get("type") or "").lower() in DONE_STATUS_TYPES


def blocker_ids(data: dict[str, Any]) -> list[str]:
    """The tasks this one waits on (its dependencies whose `depends_on` is another task)."""
    task_id = str(data.get("id"))
    ids = []
    for dependency in data.get("dependencies") or []:
        if not isinstance(dependency, dict):
            continue
        waiting, blocker = str(dependency.get("task_id") or ""), str(dependency.get("depends_on") or "")
        if waiting == task_id and blocker and blocker != task_id and blocker not in ids:
            ids.append(blocker)
    return ids


def _option_name(options: list[Any], value: Any) -> Any:
    """A drop-down's value (the option's orderindex, or its id) -> the option's name."""
    for option in options:
        if not isinstance(option, dict):
            continue
        if value == option.get("id") or (
            isinstance(value, int) and not isinstance(value, bool) and value == option.get("orderindex")
        ):
            return option.get("name") or option.get("label")
    return value


def custom_field_value(data: dict[str, Any]) -> Any:
    """A custom field's value on a task, as people read it (option names, user names, dates); None when unset."""
    if "value" not in data or data["value"] in (None, "", []):
        return None
    value = data["value"]
    kind = data.get("type")
    options = (data.get("type_config") or {}).get("options") or []
    if kind == "drop_down":
        return _option_name(options, value)
    if kind == "labels" and isinstance(value, list):
        return [_option_name(options, item) for item in value]
    if kind == "users" and isinstance(value, list):
        return [user.get("username") or user.get("email") for user in value if isinstance(user, dict)]
    if kind == "date":
        moment = parse_millis(value)
        return moment.date().isoformat() if moment else None
    if kind == "checkbox":
        return value in (True, "true")
    if kind in ("number", "currency", "emoji"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return value


def custom_field_values(fields: Any) -> dict[str, Any]:
    """A task's set custom fields by name, as people read them."""
    values: dict[str, Any] = {}
    for data in fields or []:
        if isinstance(data, dict) and data.get("name"):
            value = custom_field_value(data)
            if value is not None:
                values[data["name"]] = value
    return values


def parse_task(
    slug: str, data: dict[str, Any], *, tz: tzinfo = UTC, sprint_list_ids: Iterable[str] = ()
) -> Task:
    """A ClickUp task body (GET /task/{id}, list pages, create and update answers) -> Task.

    `tz` is the user's zone, for the calendar date of the due date;
    `sprint_list_ids` are the sprint Lists of the task's Space.
    """
    task_id = str(data["id"])
    home = data.get("list") or {}
    home_id = str(home["id"]) if home.get("id") else None
    other_ids = [
        str(loc["id"]) for loc in data.get("locations") or [] if isinstance(loc, dict) and loc.get("id")
    ]
    sprint_ids = set(sprint_list_ids)
    sprint_id = next((lid for lid in [home_id, *other_ids] if lid and lid in sprint_ids), None)
    assignees = [parse_user(slug, user) for user in data.get("assignees") or []]
    if "markdown_description" in data:
        description = data.get("markdown_description")
    else:
        description = data.get("text_content") or data.get("description")
    estimate = data.get("time_estimate")
    points = data.get("points")
    folder = data.get("folder") or {}
    space = data.get("space") or {}
    extra: dict[str, Any] = {
        "assignee_ids": [user.id for user in assignees],
        "list_id": home_id,
        "list_name": home.get("name"),
        "space_id": str(space["id"]) if space.get("id") else None,
    }
    if folder.get("id") and not folder.get("hidden"):
        extra.update(folder_id=str(folder["id"]), folder_name=folder.get("name"))
    if other_ids:
        extra["other_list_ids"] = other_ids
    if data.get("custom_id"):
        extra["custom_id"] = data["custom_id"]
    if data.get("start_date"):
        extra["start"] = parse_millis(data["start_date"])
    waiting_on = blocker_ids(data)
    if waiting_on:
        extra["waiting_on"] = waiting_on
    fields = custom_field_values(data.get("custom_fields"))
    if fields:
        extra["fields"] = fields
    return Task(
        ref=make_ref(slug, task_id),
        id=task_id,
        key=data.get("custom_id") or task_id,
        title=data.get("name") or "",
        url=data.get("url") or f"{APP_URL}/t/{task_id}",
        status=parse_status(slug, data["status"]) if isinstance(data.get("status"), dict) else None,
        project_ref=make_ref(slug, home_id) if home_id else None,
        description=description if isinstance(description, str) and description.strip() else None,
        type=task_type(data.get("custom_item_id")),
        priority=parse_priority(data.get("priority")),
        assignee=assignees[0] if assignees else None,
        reporter=parse_user(slug, data["creator"]) if isinstance(data.get("creator"), dict) else None,
        due=parse_due(data.get("due_date"), tz),
        created_at=parse_millis(data.get("date_created")),
        updated_at=parse_millis(data.get("date_updated")),
        done_at=parse_millis(data.get("date_done")) or parse_millis(data.get("date_closed")),
        estimate_hours=int(estimate) / 3_600_000 if estimate is not None else None,
        story_points=float(points) if points is not None else None,
        parent_ref=make_ref(slug, data["parent"]) if data.get("parent") else None,
        sprint_ref=make_ref(slug, sprint_id) if sprint_id else None,
        labels=[tag["name"] for tag in data.get("tags") or [] if isinstance(tag, dict) and tag.get("name")],
        extra=extra,
    )


# --- errors -------------------------------------------------------------------------------------


def error_and_code(body: Any) -> tuple[str | None, str | None]:
    """ClickUp's error body {"err": ..., "ECODE": ...} -> (message, code)."""
    if not isinstance(body, dict):
        return None, None
    message = body.get("err") if isinstance(body.get("err"), str) else None
    code = body.get("ECODE") if isinstance(body.get("ECODE"), str) else None
    return message, code


def parse_error(body: Any) -> tuple[str | None, dict[str, str]]:
    """ClickUp's error as one message with its code: "Team not authorized (OAUTH_027)"."""
    message, code = error_and_code(body)
    if message and code:
        return f"{message} ({code})", {}
    return message or code, {}
