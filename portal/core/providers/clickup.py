"""The ClickUp adapter (API v2, personal token).

How ClickUp's hierarchy maps onto the model:

- The connection works in one Workspace (a "team" in API v2): the `team_id`
  option, or the only Workspace the token sees. `check()` lists the choices.
- A project is a List (tasks live in Lists). Its name shows where it sits:
  "Space / Folder / List", or "Space / List" for a folderless List. Lists in a
  sprint folder are sprints, not projects.
- Statuses are the List's own status names; ClickUp status types map onto
  categories: open -> TODO, custom -> IN_PROGRESS, done and closed -> DONE.
- Priorities are ClickUp's fixed four: 1 urgent, 2 high, 3 normal, 4 low.
- Sprints exist where a Space has the Sprints ClickApp: each List in a sprint
  folder is a sprint, dated by the List's start and due dates. A task is in a
  sprint when its home List or one of its other Lists (Tasks in Multiple
  Lists) is a sprint List.
- Story points are the task's Sprint Points (`points`); estimates are
  `time_estimate` in milliseconds.
- ClickUp API v2 has no epics and no text search: text filters run here over
  a bounded number of vendor pages (see FILTER_SCAN_PAGES).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from . import errors
from .base import (
    ME,
    CheckResult,
    Comment,
    ConnectionConfig,
    Epic,
    Page,
    PageRequest,
    Priority,
    PriorityLevel,
    Project,
    Sprint,
    SprintState,
    Status,
    StatusCategory,
    Task,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    TaskSort,
    User,
    make_ref,
)
from .http import HttpPolicy, ProviderHttp

T = TypeVar("T")

APP_URL = "https://app.clickup.com"
VENDOR_PAGE_SIZE = 100  # ClickUp's fixed task page size
COMMENT_PAGE_SIZE = 25  # ClickUp answers comments 25 at a time, newest first
FILTER_SCAN_PAGES = 5
"""Vendor task pages (of 100) one list_tasks call reads while filtering on our side; the cursor goes on."""
CACHE_SECONDS = 120.0
"""How long the Workspace hierarchy (spaces, folders, lists, statuses) is reused within one adapter."""
TEAM_NOT_AUTHORIZED = "OAUTH_027"  # ClickUp's 401 for a Workspace or object the user may not see

NOT_CLICKUP = "The server answered, but not as the ClickUp API would. Check the base URL."
NO_EPICS = (
    "ClickUp has no epics in its API v2. Group work with Lists, Folders or parent tasks (subtasks) instead."
)

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

TASK_ORDER = {
    TaskSort.UPDATED: "updated",
    TaskSort.CREATED: "created",
    TaskSort.DUE: "due_date",
    TaskSort.KEY: "id",
}


# --- time -----------------------------------------------------------------------


def parse_millis(value: Any) -> datetime | None:
    """ClickUp's Unix milliseconds (a string or a number) -> an aware UTC datetime."""
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_due(value: Any, tz: tzinfo = UTC) -> date | None:
    """A due date in milliseconds -> the calendar date it falls on in the user's time zone."""
    moment = parse_millis(value)
    return moment.astimezone(tz).date() if moment else None


def due_millis(day: date, tz: tzinfo = UTC) -> int:
    """A calendar date -> milliseconds at noon in the user's time zone.

    Noon keeps the date the same for anyone within eleven hours of that zone,
    so ClickUp shows the date that was meant.
    """
    return to_millis(datetime(day.year, day.month, day.day, 12, tzinfo=tz))


def user_timezone(name: Any) -> tzinfo:
    """The zone ClickUp reports for the user, or UTC when it names none we know."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


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


def priority_number(priority: Priority | None, field_name: str = "priority") -> int | None:
    """Priority -> ClickUp's 1-4, None for "no priority"."""
    if priority is None or priority.level == PriorityLevel.NONE:
        return None
    if priority.id not in PRIORITY_LEVELS:
        raise errors.InvalidInput(
            "ClickUp priorities are urgent, high, normal and low.",
            field_errors={field_name: f"{priority.name!r} is not a ClickUp priority"},
        )
    return int(priority.id)


def user_number(user_id: str, field_name: str = "assignee_id") -> int:
    try:
        return int(user_id)
    except (TypeError, ValueError):
        raise errors.InvalidInput(
            "ClickUp user ids are numbers.",
            field_errors={field_name: f"{user_id!r} is not a ClickUp user id"},
        ) from None


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
    if "sprint" in str(folder.get("name", "")).lower():
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
    if place.content:
        extra["description"] = place.content
    return Sprint(
        ref=make_ref(slug, place.list_id),
        id=place.list_id,
        name=place.list_name,
        state=sprint_state(place.start, place.due, now),
        url=list_url(team_id, place.list_id),
        start=place.start,
        end=place.due,
        extra=extra,
    )


# --- tasks ----------------------------------------------------------------------------------


def task_type(custom_item_id: Any) -> str:
    if custom_item_id in (None, 0):
        return "task"
    if custom_item_id == 1:
        return "milestone"
    return f"custom type {custom_item_id}"


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


def create_task_body(draft: TaskDraft, tz: tzinfo = UTC) -> dict[str, Any]:
    """The POST /list/{id}/task body for a draft (sprint membership is a separate call)."""
    if draft.epic_id:
        raise errors.NotSupported(NO_EPICS)
    if draft.type not in (None, "", "task"):
        raise errors.NotSupported(
            f"Tasks of type {draft.type!r} can't be created here: "
            "ClickUp's custom task types are chosen in ClickUp."
        )
    body: dict[str, Any] = {"name": draft.title, "notify_all": False}
    if draft.description is not None:
        body["markdown_content"] = draft.description
    if draft.assignee_id:
        body["assignees"] = [user_number(draft.assignee_id)]
    number = priority_number(draft.priority)
    if number is not None:
        body["priority"] = number
    if draft.due is not None:
        body["due_date"] = due_millis(draft.due, tz)
        body["due_date_time"] = False
    if draft.estimate_hours is not None:
        body["time_estimate"] = round(draft.estimate_hours * 3_600_000)
    if draft.story_points is not None:
        body["points"] = draft.story_points
    if draft.parent_id:
        body["parent"] = draft.parent_id
    if draft.labels:
        body["tags"] = list(draft.labels)
    return body


def update_task_body(changes: TaskChanges, tz: tzinfo = UTC) -> dict[str, Any]:
    """The PUT /task/{id} body for `changes` (sprint membership is a separate call)."""
    changed = changes.changed()
    if changed.get("epic_id"):
        raise errors.NotSupported(NO_EPICS)
    body: dict[str, Any] = {}
    if "title" in changed:
        body["name"] = changed["title"]
    if "description" in changed:
        if changed["description"]:
            body["markdown_content"] = changed["description"]
        else:
            body["description"] = " "  # ClickUp clears a description given as a single space
    if "priority" in changed:
        body["priority"] = priority_number(changed["priority"])
    if "due" in changed:
        body["due_date"] = due_millis(changed["due"], tz) if changed["due"] else None
        body["due_date_time"] = False
    if "estimate_hours" in changed:
        hours = changed["estimate_hours"]
        body["time_estimate"] = round(hours * 3_600_000) if hours is not None else None
    if "story_points" in changed:
        body["points"] = changed["story_points"]
    if "parent_id" in changed:
        if not changed["parent_id"]:
            raise errors.NotSupported("ClickUp's API cannot turn a subtask back into a top-level task.")
        body["parent"] = changed["parent_id"]
    return body


# --- comments -----------------------------------------------------------------------------------


def _inline_markdown(text: str, attributes: dict[str, Any]) -> str:
    """One run of ClickUp rich text with its inline formats -> Markdown."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    if attributes.get("code"):
        core = f"`{core}`"
    else:
        if attributes.get("bold"):
            core = f"**{core}**"
        if attributes.get("italic"):
            core = f"*{core}*"
        if attributes.get("strike"):
            core = f"~~{core}~~"
    if isinstance(attributes.get("link"), str):
        core = f"[{core}]({attributes['link']})"
    return lead + core + trail


def _list_kind(block: dict[str, Any]) -> str | None:
    kind = block.get("list")
    if isinstance(kind, dict):
        kind = kind.get("list")
    return kind if isinstance(kind, str) else None


def comment_markdown(segments: list[dict[str, Any]]) -> str:
    """ClickUp's rich comment (a list of text runs; line formats ride on the newline) -> Markdown.

    Runs without formats pass through as written, so a comment posted as
    Markdown text reads back unchanged.
    """
    lines: list[tuple[str, dict[str, Any]]] = []
    current: list[str] = []
    for segment in segments:
        text = segment.get("text")
        if not isinstance(text, str):
            continue
        attributes = segment.get("attributes") or {}
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if piece:
                current.append(_inline_markdown(piece, attributes))
            if index < len(pieces) - 1:
                lines.append(("".join(current), attributes))
                current = []
    if current:
        lines.append(("".join(current), {}))

    out: list[str] = []
    in_code = False
    ordinal = 0
    for text, block in lines:
        if block.get("code-block"):
            if not in_code:
                out.append("```")
                in_code = True
            out.append(text)
            continue
        if in_code:
            out.append("```")
            in_code = False
        kind = _list_kind(block)
        ordinal = ordinal + 1 if kind == "ordered" else 0
        if kind == "ordered":
            out.append(f"{ordinal}. {text}")
        elif kind == "bullet":
            out.append(f"- {text}")
        elif kind in ("checked", "unchecked"):
            out.append(f"- [{'x' if kind == 'checked' else ' '}] {text}")
        elif isinstance(block.get("header"), int):
            out.append("#" * block["header"] + " " + text)
        elif block.get("blockquote"):
            out.append(f"> {text}")
        else:
            out.append(text)
    if in_code:
        out.append("```")
    return "\n".join(out).strip("\n")


def parse_comment(slug: str, data: dict[str, Any]) -> Comment:
    segments = data.get("comment")
    if isinstance(segments, list) and segments:
        body = comment_markdown(segments)
    else:
        body = str(data.get("comment_text") or "").strip("\n")
    user = data.get("user")
    comment_id = str(data["id"])
    return Comment(
        ref=make_ref(slug, comment_id),
        id=comment_id,
        body=body,
        author=parse_user(slug, user) if isinstance(user, dict) and user.get("id") is not None else None,
        created_at=parse_millis(data.get("date")),
        extra={"resolved": bool(data.get("resolved"))},
    )


# --- errors -------------------------------------------------------------------------------------


def clickup_error(response: requests.Response) -> tuple[str | None, str | None]:
    """ClickUp's error body {"err": ..., "ECODE": ...} -> (message, code)."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    message = body.get("err") if isinstance(body.get("err"), str) else None
    code = body.get("ECODE") if isinstance(body.get("ECODE"), str) else None
    return message, code


def describe_clickup_error(response: requests.Response) -> tuple[str | None, dict[str, str]]:
    message, code = clickup_error(response)
    if message and code:
        return f"{message} ({code})", {}
    return message or code, {}


# --- paging ---------------------------------------------------------------------------------------


def page_slice(items: list[T], page: PageRequest) -> Page[T]:
    """A page of an already complete list, with an offset cursor."""
    offset = _cursor_numbers(page.cursor, "o", 1)[0] if page.cursor else 0
    chunk = items[offset : offset + page.limit]
    after = offset + len(chunk)
    return Page(items=chunk, next_cursor=f"o:{after}" if after < len(items) else None, total=len(items))


def _cursor_numbers(cursor: str, kind: str, count: int) -> list[int]:
    parts = cursor.split(":")
    try:
        if parts[0] != kind or len(parts) != count + 1:
            raise ValueError(cursor)
        numbers = [int(part) for part in parts[1:]]
    except ValueError:
        raise errors.InvalidInput("This page cursor was not issued for this ClickUp listing.") from None
    if any(number < 0 for number in numbers):
        raise errors.InvalidInput("This page cursor was not issued for this ClickUp listing.")
    return numbers


def api_root(base_url: str) -> str:
    """The API v2 root for a base URL given with or without /api or /api/v2."""
    root = base_url.strip().rstrip("/")
    if root.endswith("/api/v2"):
        return root + "/"
    if root.endswith("/api"):
        return root + "/v2/"
    return root + "/api/v2/"


def _path(*parts: str) -> str:
    """A path under the API root; ids are quoted so none can step outside it."""
    return "/".join(quote(str(part), safe="") for part in parts)


def _flag(value: bool) -> str:
    return "true" if value else "false"


# --- the adapter -------------------------------------------------------------------------------------


class ClickUpAdapter:
    provider_type: ClassVar[str] = "clickup"
    needs_username: ClassVar[bool] = False
    base_url_example: ClassVar[str] = "https://api.clickup.com"

    def __init__(self, config: ConnectionConfig, policy: HttpPolicy, **context: Any):
        self.slug = config.slug
        self._config = config
        self._policy = policy
        self._client: ProviderHttp | None = None
        self._client_lock = threading.Lock()
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

    # --- plumbing ---------------------------------------------------------------
    @property
    def _http(self) -> ProviderHttp:
        # Built on first use, so a refused address surfaces from the call that needs it.
        with self._client_lock:
            if self._client is None:
                self._client = ProviderHttp(
                    api_root(self._config.base_url),
                    vendor="ClickUp",
                    policy=self._policy,
                    headers={"Authorization": self._config.token},  # a personal token goes in bare
                    describe_error=describe_clickup_error,
                )
            return self._client

    def _call(self, method: str, path: str, *, params: Any = None, body: Any = None) -> dict[str, Any]:
        # 401 comes back to us: ClickUp also answers 401 for a Workspace the user can't see.
        response = self._http.request(method, path, params=params, json=body, ok=(401,))
        if response.status_code == 401:
            message, code = clickup_error(response)
            if code == TEAM_NOT_AUTHORIZED:
                raise errors.PermissionDenied(
                    f"ClickUp refused this request (401): {message or 'Team not authorized'}. "
                    "The token's user is not in this Workspace or may not see this item.",
                    status=401,
                )
            raise self._http.error_for(response)
        decoded = self._http.decode(response)
        if decoded is None:  # 204 No Content
            return {}
        if not isinstance(decoded, dict):
            raise errors.NotThisProduct(NOT_CLICKUP)
        return decoded

    def _cached(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        self._cache[key] = (now + CACHE_SECONDS, value)
        return value

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # --- identity and workspace -----------------------------------------------------
    def _fetch_me(self) -> User:
        body = self._call("GET", "user")
        if not isinstance(body.get("user"), dict) or "id" not in body["user"]:
            raise errors.NotThisProduct(NOT_CLICKUP)
        return parse_user(self.slug, body["user"])

    def _fetch_teams(self) -> list[dict[str, Any]]:
        body = self._call("GET", "team")
        if not isinstance(body.get("teams"), list):
            raise errors.NotThisProduct(NOT_CLICKUP)
        return [team for team in body["teams"] if isinstance(team, dict) and team.get("id")]

    def _me(self) -> User:
        return self._cached(("me",), self._fetch_me)

    def _teams(self) -> list[dict[str, Any]]:
        return self._cached(("teams",), self._fetch_teams)

    def _timezone(self) -> tzinfo:
        return user_timezone(self._me().extra.get("timezone"))

    def _team_id(self) -> str:
        configured = self._config.options.get("team_id")
        if configured:
            return str(configured)
        teams = self._teams()
        if len(teams) == 1:
            return str(teams[0]["id"])
        names = ", ".join(f"{team.get('name')} ({team['id']})" for team in teams) or "none"
        raise errors.InvalidInput(
            "Choose the ClickUp Workspace this connection works in.",
            field_errors={"team_id": f"this token sees these Workspaces: {names}"},
        )

    def check(self) -> CheckResult:
        user = self._fetch_me()
        teams = self._fetch_teams()
        self._cache[("me",)] = (time.monotonic() + CACHE_SECONDS, user)
        self._cache[("teams",)] = (time.monotonic() + CACHE_SECONDS, teams)
        choices = tuple((str(team["id"]), str(team.get("name") or team["id"])) for team in teams)
        who = f"{user.name}, {user.email}" if user.email else user.name
        configured = self._config.options.get("team_id")
        chosen = None
        if configured:
            chosen = next((choice for choice in choices if choice[0] == str(configured)), None)
            if chosen is None:
                raise errors.InvalidInput(
                    "The chosen ClickUp Workspace is not one this token can see.",
                    field_errors={"team_id": f"Workspace {configured} is not among: {_names(choices)}"},
                )
        elif len(choices) == 1:
            chosen = choices[0]
        if chosen is not None:
            summary = f"Connected to ClickUp workspace {chosen[1]} as {who}"
            site = chosen[1]
        elif choices:
            summary = (
                f"Connected to ClickUp as {who}; this token sees {len(choices)} workspaces "
                f"({_names(choices)}): choose a workspace"
            )
            site = "app.clickup.com"
        else:
            summary = f"Connected to ClickUp as {who}, but this token sees no workspace"
            site = "app.clickup.com"
        return CheckResult(user=user, site=site, summary=summary, workspaces=choices)

    def current_user(self) -> User:
        return self._me()

    # --- hierarchy -------------------------------------------------------------------------
    def _spaces(self, team_id: str) -> dict[str, SpaceInfo]:
        def load() -> dict[str, SpaceInfo]:
            body = self._call("GET", _path("team", team_id, "space"), params={"archived": "false"})
            spaces = [parse_space(space) for space in body.get("spaces") or []]
            return {space.id: space for space in spaces}

        return self._cached(("spaces", team_id), load)

    def _folders(self, space_id: str) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            body = self._call("GET", _path("space", space_id, "folder"), params={"archived": "false"})
            return [folder for folder in body.get("folders") or [] if not folder.get("archived")]

        return self._cached(("folders", space_id), load)

    def _folderless(self, space_id: str) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            body = self._call("GET", _path("space", space_id, "list"), params={"archived": "false"})
            return [lst for lst in body.get("lists") or [] if not lst.get("archived")]

        return self._cached(("folderless", space_id), load)

    def _list_body(self, list_id: str, fresh: bool = False) -> dict[str, Any]:
        if fresh:
            self._cache.pop(("list", list_id), None)
        return self._cached(("list", list_id), lambda: self._call("GET", _path("list", list_id)))

    def _sprint_places(self, space: SpaceInfo) -> list[ListPlace]:
        if not space.sprints:
            return []
        places: list[ListPlace] = []
        for folder in self._folders(space.id):
            if is_sprint_folder(space, folder):
                places.extend(places_in_folder(space, folder))
        return places

    def _sprint_list_ids(self, team_id: str, space_id: str) -> frozenset[str]:
        if not team_id or not space_id:
            return frozenset()
        space = self._spaces(team_id).get(space_id)
        if space is None:
            return frozenset()
        return frozenset(place.list_id for place in self._sprint_places(space))

    def _places(self, team_id: str) -> list[ListPlace]:
        places: list[ListPlace] = []
        for space in self._spaces(team_id).values():
            for folder in self._folders(space.id):
                places.extend(places_in_folder(space, folder))
            places.extend(place_from_list(lst) for lst in self._folderless(space.id))
        return places

    def _space_of_list(self, list_body: dict[str, Any]) -> SpaceInfo | None:
        space_id = str((list_body.get("space") or {}).get("id") or "")
        return self._spaces(self._team_id()).get(space_id)

    # --- projects ------------------------------------------------------------------------------
    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        team_id = self._team_id()
        places = [place for place in self._places(team_id) if not place.sprint]
        if text:
            needle = text.lower()
            places = [place for place in places if needle in place.path.lower()]
        projects = [parse_project(self.slug, place, team_id) for place in places]
        return page_slice(projects, page)

    def get_project(self, project_id: str) -> Project:
        body = self._list_body(project_id, fresh=True)
        return parse_project(self.slug, place_from_list(body), self._team_id())

    def list_statuses(self, project_id: str) -> list[Status]:
        body = self._list_body(project_id)
        return [parse_status(self.slug, status) for status in body.get("statuses") or []]

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        return clickup_priorities()

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        if project_id:
            body = self._call("GET", _path("list", project_id, "member"))
            members = body.get("members") or []
        else:
            team_id = self._team_id()
            team = next((t for t in self._teams() if str(t["id"]) == team_id), None)
            if team is None:
                raise errors.NotFound(f"This ClickUp token does not see Workspace {team_id}.")
            members = team.get("members") or []
        users = [parse_user(self.slug, member) for member in members if isinstance(member, dict)]
        if text:
            needle = text.lower()
            users = [u for u in users if needle in u.name.lower() or needle in (u.email or "").lower()]
        return users

    # --- tasks ----------------------------------------------------------------------------------
    def _parse_tasks(self, raw: Iterable[dict[str, Any]], sprint_ref: str | None = None) -> list[Task]:
        tz = self._timezone()
        tasks = []
        for data in raw:
            space_id = str((data.get("space") or {}).get("id") or "")
            sprint_ids = self._sprint_list_ids(str(data.get("team_id") or ""), space_id)
            task = parse_task(self.slug, data, tz=tz, sprint_list_ids=sprint_ids)
            if sprint_ref:
                task.sprint_ref = sprint_ref
            tasks.append(task)
        return tasks

    def _raw_task(self, task_id: str) -> dict[str, Any]:
        return self._call("GET", _path("task", task_id), params={"include_markdown_description": "true"})

    def get_task(self, task_id: str) -> Task:
        return self._parse_tasks([self._raw_task(task_id)])[0]

    def _user_param(self, assignee: str) -> str:
        return self._me().id if assignee == ME else str(user_number(assignee, "assignee"))

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        """Tasks of a List, a sprint, or the whole Workspace, newest change first by default.

        ClickUp has no text search and no "unassigned" or status-category
        filter: those run here, reading at most FILTER_SCAN_PAGES vendor pages
        per call; the cursor carries on where the scan stopped. Page.total is None.
        """
        if query.epic_id:
            raise errors.NotSupported(NO_EPICS)
        order_by = TASK_ORDER.get(query.sort)
        if order_by is None:
            raise errors.NotSupported(
                "ClickUp's API cannot sort tasks by priority; sort by updated, created, due or key."
            )
        vendor_page, skip = _cursor_numbers(page.cursor, "t", 2) if page.cursor else (0, 0)

        sprint_ref = None
        if query.sprint_id:
            self._sprint_place(query.sprint_id)
            sprint_ref = make_ref(self.slug, query.sprint_id)
        params: list[tuple[str, str]] = [
            ("order_by", order_by),
            ("reverse", _flag(query.descending)),
            ("subtasks", "true"),
            ("include_markdown_description", "true"),
        ]
        scope = query.sprint_id or query.project_id
        if scope:
            path = _path("list", scope, "task")
            params.append(("include_timl", "true"))  # tasks planned into this List from elsewhere
        else:
            path = _path("team", self._team_id(), "task")
        if query.assignee:
            params.append(("assignees[]", self._user_param(query.assignee)))
        if query.statuses:
            params.extend(("statuses[]", status.name) for status in query.statuses)
            params.append(("include_closed", "true"))
        else:
            closed_wanted = not query.categories or StatusCategory.DONE in query.categories
            params.append(("include_closed", _flag(closed_wanted)))
        if query.updated_since:
            params.append(("date_updated_gt", str(to_millis(query.updated_since))))

        keep = self._task_filter(query)
        items: list[Task] = []
        scanned = 0
        while True:
            body = self._call("GET", path, params=[*params, ("page", str(vendor_page))])
            raw = body.get("tasks") or []
            last_page = body["last_page"] if isinstance(body.get("last_page"), bool) else not raw
            for index, task in enumerate(self._parse_tasks(raw[skip:], sprint_ref), start=skip):
                if not keep(task):
                    continue
                if len(items) == page.limit:
                    return Page(items=items, next_cursor=f"t:{vendor_page}:{index}")
                items.append(task)
            scanned += 1
            if last_page:
                return Page(items=items)
            vendor_page, skip = vendor_page + 1, 0
            if len(items) == page.limit or (keep is not _keep_all and scanned >= FILTER_SCAN_PAGES):
                return Page(items=items, next_cursor=f"t:{vendor_page}:0")

    def _task_filter(self, query: TaskQuery) -> Callable[[Task], bool]:
        checks: list[Callable[[Task], bool]] = []
        if query.text:
            needle = query.text.lower()
            checks.append(
                lambda t: (
                    needle in t.title.lower()
                    or needle in (t.description or "").lower()
                    or needle == t.key.lower()
                )
            )
        if query.unassigned:
            checks.append(lambda t: not t.extra.get("assignee_ids"))
        if query.categories:
            checks.append(lambda t: t.status is not None and t.status.category in query.categories)
        if query.sprint_id and query.project_id:
            project_ref = make_ref(self.slug, query.project_id)
            checks.append(lambda t: t.project_ref == project_ref)
        if not checks:
            return _keep_all
        return lambda task: all(check(task) for check in checks)

    def available_statuses(self, task_id: str) -> list[Status]:
        """Every status of the task's List: ClickUp has no workflow restricting moves."""
        raw = self._raw_task(task_id)
        return self.list_statuses(str(raw["list"]["id"]))

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        body = create_task_body(draft, self._timezone())
        if draft.sprint_id:
            self._sprint_place(draft.sprint_id)  # refuse before anything is created
        created = self._call("POST", _path("list", project_id, "task"), body=body)
        task_id = str(created["id"])
        if draft.sprint_id:
            self._call("POST", _path("list", draft.sprint_id, "task", task_id))
        return self.get_task(task_id)

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        body = update_task_body(changes, self._timezone())
        if body:
            self._call("PUT", _path("task", task_id), body=body)
        if "sprint_id" in changes.changed():
            self._move_to_sprint(self._raw_task(task_id), changes.sprint_id)
        return self.get_task(task_id)

    def _move_to_sprint(self, raw: dict[str, Any], sprint_id: str | None) -> None:
        """Put the task in sprint `sprint_id` (None: in no sprint) through its additional Lists."""
        task_id = str(raw["id"])
        home_id = str(raw["list"]["id"])
        space_id = str((raw.get("space") or {}).get("id") or "")
        sprint_ids = self._sprint_list_ids(str(raw.get("team_id") or ""), space_id)
        if home_id in sprint_ids and home_id != sprint_id:
            raise errors.NotSupported(
                "This task's home List is a sprint; ClickUp's API v2 cannot move a task out of its home List."
            )
        others = [str(loc["id"]) for loc in raw.get("locations") or [] if isinstance(loc, dict)]
        if sprint_id and sprint_id != home_id and sprint_id not in others:
            self._sprint_place(sprint_id)
            self._call("POST", _path("list", sprint_id, "task", task_id))
        for list_id in others:
            if list_id in sprint_ids and list_id != sprint_id:
                self._call("DELETE", _path("list", list_id, "task", task_id))

    def set_task_status(self, task_id: str, status: Status) -> Task:
        self._call("PUT", _path("task", task_id), body={"status": status.name})
        task = self.get_task(task_id)
        if task.status is None or task.status.name.lower() != status.name.lower():
            shown = task.status.name if task.status else "no status"
            raise errors.Conflict(
                f"ClickUp kept the task in {shown!r} instead of moving it to {status.name!r}."
            )
        return task

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        raw = self._raw_task(task_id)
        current = [int(user["id"]) for user in raw.get("assignees") or []]
        wanted = user_number(user_id, "user_id") if user_id else None
        change = {
            "add": [wanted] if wanted is not None and wanted not in current else [],
            "rem": [uid for uid in current if uid != wanted],
        }
        if change["add"] or change["rem"]:
            self._call("PUT", _path("task", task_id), body={"assignees": change})
        return self.get_task(task_id)

    def delete_task(self, task_id: str) -> None:
        self._call("DELETE", _path("task", task_id))

    # --- comments -------------------------------------------------------------------------------
    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        """Comments newest first. ClickUp pages by the date and id of the oldest comment seen."""
        start, start_id, skip = _cursor_numbers(page.cursor, "c", 3) if page.cursor else (0, 0, 0)
        items: list[Comment] = []
        while True:
            params = {"start": str(start), "start_id": str(start_id)} if start_id else None
            body = self._call("GET", _path("task", task_id, "comment"), params=params)
            raw = body.get("comments") or []
            batch = raw[skip:]
            room = page.limit - len(items)
            if len(batch) > room:
                items.extend(parse_comment(self.slug, c) for c in batch[:room])
                return Page(items=items, next_cursor=f"c:{start}:{start_id}:{skip + room}")
            items.extend(parse_comment(self.slug, c) for c in batch)
            if len(raw) < COMMENT_PAGE_SIZE:
                return Page(items=items)
            oldest = raw[-1]
            start, start_id, skip = int(oldest["date"]), int(oldest["id"]), 0
            if len(items) == page.limit:
                return Page(items=items, next_cursor=f"c:{start}:{start_id}:0")

    def add_comment(self, task_id: str, body: str) -> Comment:
        # API v2 takes comment text only; Markdown is kept as written and read back as such.
        created = self._call(
            "POST", _path("task", task_id, "comment"), body={"comment_text": body, "notify_all": False}
        )
        comment_id = str(created["id"])
        return Comment(
            ref=make_ref(self.slug, comment_id),
            id=comment_id,
            body=body,
            author=self._me(),
            created_at=parse_millis(created.get("date")),
        )

    # --- sprints --------------------------------------------------------------------------------
    def _sprint_place(self, sprint_id: str) -> ListPlace:
        body = self._list_body(sprint_id)
        space = self._space_of_list(body)
        if space is None or not space.sprints:
            raise errors.NotFound(
                f"ClickUp List {sprint_id} is not a sprint: its Space has no Sprints ClickApp."
            )
        place = next((p for p in self._sprint_places(space) if p.list_id == str(body["id"])), None)
        if place is None:
            raise errors.NotFound(f"ClickUp List {sprint_id} is not in a sprint folder.")
        return place

    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        """The sprints of the Space the project's List is in."""
        body = self._list_body(project_id)
        space = self._space_of_list(body)
        if space is None or not space.sprints:
            where = space.name if space else "this List's Space"
            raise errors.NotSupported(
                f"ClickUp Space {where!r} does not have the Sprints ClickApp turned on, so it has no sprints."
            )
        team_id = self._team_id()
        now = datetime.now(UTC)
        sprints = [parse_sprint(self.slug, place, team_id, now) for place in self._sprint_places(space)]
        if state is not None:
            sprints = [sprint for sprint in sprints if sprint.state == state]
        sprints.sort(key=lambda s: s.start or datetime.min.replace(tzinfo=UTC), reverse=True)
        return page_slice(sprints, page)

    def get_sprint(self, sprint_id: str) -> Sprint:
        place = self._sprint_place(sprint_id)
        return parse_sprint(self.slug, place, self._team_id(), datetime.now(UTC))

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        tasks: list[Task] = []
        cursor = None
        while True:
            result = self.list_tasks(
                TaskQuery(sprint_id=sprint_id), PageRequest(limit=VENDOR_PAGE_SIZE, cursor=cursor)
            )
            tasks.extend(result.items)
            cursor = result.next_cursor
            if not cursor:
                return tasks

    # --- epics ------------------------------------------------------------------------------------
    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        raise errors.NotSupported(NO_EPICS)

    def get_epic(self, epic_id: str) -> Epic:
        raise errors.NotSupported(NO_EPICS)


def _keep_all(task: Task) -> bool:
    return True


def _names(choices: Iterable[tuple[str, str]]) -> str:
    return ", ".join(name for _id, name in choices)
