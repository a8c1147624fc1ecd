"""OpenProject, through API v3 (HAL+JSON; Basic auth as user `apikey` with the API token as password).

How OpenProject maps onto the domain model:
- Projects are workspaces (`/api/v3/workspaces`, OpenProject 17) or projects on older
  servers; the native id is the numeric id, the key the identifier.
- Tasks are work packages (`#123`); the task type is the work package type. Descriptions
  and comments are the Markdown `raw` text of OpenProject's formattable fields.
- Statuses are global; a status flagged `isClosed` is DONE, "New"-like names are TODO,
  "In progress"-like names IN_PROGRESS, and other open statuses UNKNOWN rather than a
  guess. Which statuses a work package may move to comes from its form (the workflow).
- Sprints are OpenProject sprints (`/api/v3/sprints`) or, on servers without them,
  versions. Epics are work packages of the type "Epic"; a task's epic is its parent
  when that parent is an Epic. Story points are `storyPoints`, estimates `estimatedTime`.
- done_at is derived from the activities (the last change into a closed status), and
  only in sprint_tasks, where a burndown needs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import requests
from requests.auth import HTTPBasicAuth

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
from .paging import page_of

VENDOR = "OpenProject"
API_USER = "apikey"  # OpenProject's Basic-auth user name for API tokens
MAX_PAGE_SIZE = 100  # what we ask for when reading a whole collection
MAX_USER_PAGE_SIZE = 1000  # OpenProject's default ceiling for pageSize
MAX_COLLECTION_PAGES = 50  # whole-collection reads stop after 5,000 elements
EPIC_TYPE_NAME = "epic"

# OpenProject's default priority names (and common renames); others are UNKNOWN.
PRIORITY_LEVELS = {
    "lowest": PriorityLevel.LOWEST,
    "low": PriorityLevel.LOW,
    "normal": PriorityLevel.MEDIUM,
    "medium": PriorityLevel.MEDIUM,
    "high": PriorityLevel.HIGH,
    "highest": PriorityLevel.HIGHEST,
    "urgent": PriorityLevel.HIGHEST,
    "immediate": PriorityLevel.HIGHEST,
}

# Open status names that clearly say "not started" or "being worked on" (OpenProject's defaults
# and common renames). A status flagged isDefault is where new work packages start: TODO.
TODO_STATUS_NAMES = frozenset(
    {"new", "open", "to do", "todo", "backlog", "specified", "confirmed", "to be scheduled", "scheduled"}
)
IN_PROGRESS_STATUS_NAMES = frozenset(
    {"in progress", "in development", "developed", "in testing", "tested", "test failed", "in review"}
)

SPRINT_STATES = {
    "urn:openproject-org:api:v3:sprints:status:in_planning": SprintState.FUTURE,
    "urn:openproject-org:api:v3:sprints:status:active": SprintState.ACTIVE,
    "urn:openproject-org:api:v3:sprints:status:completed": SprintState.CLOSED,
}

# OpenProject's attribute names in error details, mapped to our field names.
ERROR_ATTRIBUTE_FIELDS = {
    "subject": "title",
    "description": "description",
    "type": "type",
    "priority": "priority",
    "assignee": "assignee_id",
    "dueDate": "due",
    "startDate": "start_date",
    "estimatedTime": "estimate_hours",
    "storyPoints": "story_points",
    "parent": "parent_id",
    "sprint": "sprint_id",
    "version": "sprint_id",
    "status": "status",
    "project": "project_id",
    "comment": "body",
}

SORT_FIELDS = {
    TaskSort.UPDATED: "updatedAt",
    TaskSort.CREATED: "createdAt",
    TaskSort.PRIORITY: "priority",
    TaskSort.DUE: "dueDate",
    TaskSort.KEY: "id",
}

# "Status changed from New to Closed" / "Status set to Closed" (the raw text of an activity detail).
STATUS_DETAIL = re.compile(r"^Status (?:changed from .* to|set to) (?P<target>.+)$", re.DOTALL)
DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


# --- pure parsers: OpenProject HAL+JSON -> domain objects -------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """OpenProject timestamps ("2026-02-06T09:30:49.157Z") as timezone-aware UTC datetimes."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # API v3 writes UTC; an offset-less value is UTC too
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def parse_duration_hours(value: Any) -> float | None:
    """An ISO 8601 duration ("PT5H30M", "P1DT2H") in hours; None when absent or not a duration.

    Days count 24 hours and weeks 7 days, as the standard reads; OpenProject itself writes hours.
    """
    if not value or not isinstance(value, str):
        return None
    match = DURATION.match(value.strip())
    if match is None or value.strip() in ("P", "PT"):
        return None
    parts = {name: float(amount) for name, amount in match.groupdict().items() if amount is not None}
    hours = (
        parts.get("weeks", 0.0) * 7 * 24
        + parts.get("days", 0.0) * 24
        + parts.get("hours", 0.0)
        + parts.get("minutes", 0.0) / 60
        + parts.get("seconds", 0.0) / 3600
    )
    return round(hours, 6)


def format_duration_hours(hours: float) -> str:
    """Hours as the ISO 8601 duration OpenProject expects: 5.5 -> "PT5H30M"."""
    if hours < 0:
        raise ValueError("a duration can't be negative")
    seconds = round(hours * 3600)
    whole_hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "PT"
    if whole_hours or not (minutes or seconds):
        text += f"{whole_hours}H"
    if minutes:
        text += f"{minutes}M"
    if seconds:
        text += f"{seconds}S"
    return text


def link_id(link: Any) -> str | None:
    """The id at the end of a HAL link's href ("/api/v3/users/5" -> "5"); None for an empty link."""
    if not isinstance(link, Mapping):
        return None
    href = link.get("href")
    if not href or not isinstance(href, str):
        return None
    return href.rstrip("/").rsplit("/", 1)[-1] or None


def _links(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    links = raw.get("_links")
    return links if isinstance(links, Mapping) else {}


def _raw_text(formattable: Any) -> str | None:
    """The Markdown source of a formattable field ({"format": "markdown", "raw": ...})."""
    if isinstance(formattable, Mapping):
        raw = formattable.get("raw")
        return raw if isinstance(raw, str) else None
    return None


def parse_user(raw: Mapping[str, Any], *, slug: str, base_url: str) -> User:
    """A principal (User, Group or PlaceholderUser) from /users/{id}, principals or available assignees."""
    name = raw.get("name") or " ".join(part for part in (raw.get("firstName"), raw.get("lastName")) if part)
    extra = {key: raw[key] for key in ("login", "admin", "status") if raw.get(key) is not None}
    if raw.get("_type") and raw["_type"] != "User":
        extra["kind"] = raw["_type"]
    return User(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=str(name or raw.get("login") or raw["id"]),
        email=raw.get("email") or None,
        url=f"{base_url}/users/{raw['id']}",
        extra=extra,
    )


def parse_user_link(link: Any, *, slug: str, base_url: str) -> User | None:
    """A user from a work package's `assignee`/`author` link: id from the href, name from the title."""
    user_id = link_id(link)
    if user_id is None:
        return None
    extra = {}
    href = str(link.get("href"))
    if "/users/" not in href:  # groups and placeholder users can be assigned too
        extra["kind"] = href.rstrip("/").rsplit("/", 2)[-2]
    return User(
        ref=make_ref(slug, user_id),
        id=user_id,
        name=str(link.get("title") or user_id),
        url=f"{base_url}/users/{user_id}" if not extra else None,
        extra=extra,
    )


def status_category(name: str, is_closed: bool | None, is_default: bool | None = None) -> StatusCategory:
    """Closed statuses are DONE; open ones only where the name or the default flag clearly says."""
    if is_closed:
        return StatusCategory.DONE
    normalized = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    if normalized in TODO_STATUS_NAMES:
        return StatusCategory.TODO
    if normalized in IN_PROGRESS_STATUS_NAMES or "progress" in normalized:
        return StatusCategory.IN_PROGRESS
    if is_closed is not None and is_default:
        return StatusCategory.TODO
    return StatusCategory.UNKNOWN


def parse_status(raw: Mapping[str, Any], *, slug: str) -> Status:
    """A status from /api/v3/statuses or a form's allowed values."""
    is_closed = raw.get("isClosed")
    name = str(raw.get("name") or "")
    extra = {key: raw[key] for key in ("isClosed", "isDefault", "color", "position") if key in raw}
    return Status(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=name,
        category=status_category(name, is_closed, raw.get("isDefault")),
        extra=extra,
    )


def status_from_link(link: Any, *, slug: str, statuses: Mapping[str, Status]) -> Status | None:
    """The status a link points at, from the known statuses; UNKNOWN when it isn't among them."""
    status_id = link_id(link)
    if status_id is None:
        return None
    if status_id in statuses:
        return statuses[status_id]
    return Status(
        ref=make_ref(slug, status_id),
        id=status_id,
        name=str(link.get("title") or status_id),
        category=StatusCategory.UNKNOWN,
    )


def priority_level(name: str) -> PriorityLevel:
    return PRIORITY_LEVELS.get(" ".join(name.lower().split()), PriorityLevel.UNKNOWN)


def parse_priority(raw: Mapping[str, Any]) -> Priority:
    """A priority from /api/v3/priorities."""
    name = str(raw.get("name") or "")
    extra = {key: raw[key] for key in ("isDefault", "isActive", "position") if key in raw}
    return Priority(id=str(raw["id"]), name=name, level=priority_level(name), extra=extra)


def priority_from_link(link: Any) -> Priority:
    """A work package's priority from its link; NONE when the link is empty."""
    priority_id = link_id(link)
    if priority_id is None:
        return Priority(id=None, name="", level=PriorityLevel.NONE)
    name = str(link.get("title") or "")
    return Priority(id=priority_id, name=name, level=priority_level(name))


def parse_project(raw: Mapping[str, Any], *, slug: str, base_url: str) -> Project:
    """A project (or another workspace: program, portfolio) from workspaces or projects endpoints."""
    identifier = str(raw.get("identifier") or raw["id"])
    extra: dict[str, Any] = {}
    for key in ("active", "public", "createdAt", "updatedAt"):
        if raw.get(key) is not None:
            extra[key] = raw[key]
    if raw.get("_type"):
        extra["workspace_type"] = raw["_type"]
    parent_id = link_id(_links(raw).get("parent"))
    if parent_id:
        extra["parent_ref"] = make_ref(slug, parent_id)
    return Project(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        key=identifier,
        name=str(raw.get("name") or identifier),
        url=f"{base_url}/projects/{identifier}",
        description=_raw_text(raw.get("description")) or None,
        extra=extra,
    )


def is_epic_type(type_name: Any) -> bool:
    return isinstance(type_name, str) and type_name.strip().lower() == EPIC_TYPE_NAME


def sprint_link(raw: Mapping[str, Any]) -> Any:
    """The link naming a work package's sprint: `sprint` where the server has sprints, else `version`."""
    links = _links(raw)
    return links["sprint"] if "sprint" in links else links.get("version")


def parse_work_package(
    raw: Mapping[str, Any],
    *,
    slug: str,
    base_url: str,
    statuses: Mapping[str, Status],
    epic_ids: Iterable[str] = (),
) -> Task:
    """A work package as a Task; `epic_ids` are the ids (among its parents) known to be Epics."""
    links = _links(raw)
    task_id = str(raw["id"])
    parent_id = link_id(links.get("parent"))
    sprint_id = link_id(sprint_link(raw))
    project_id = link_id(links.get("project"))
    extra: dict[str, Any] = {}
    for key, name in (
        ("lockVersion", "lock_version"),
        ("startDate", "start_date"),
        ("percentageDone", "percentage_done"),
        ("spentTime", "spent_time"),
    ):
        if raw.get(key) is not None:
            extra[name] = raw[key]
    if raw.get("estimatedTime") and parse_duration_hours(raw["estimatedTime"]) is None:
        extra["estimated_time"] = raw["estimatedTime"]  # a duration we could not read
    if "sprint" in links and link_id(links.get("version")):
        extra["version"] = links["version"].get("title")
    story_points = raw.get("storyPoints")
    return Task(
        ref=make_ref(slug, task_id),
        id=task_id,
        key=f"#{task_id}",
        title=str(raw.get("subject") or ""),
        url=f"{base_url}/work_packages/{task_id}",
        status=status_from_link(links.get("status"), slug=slug, statuses=statuses),
        project_ref=make_ref(slug, project_id) if project_id else None,
        description=_raw_text(raw.get("description")),
        type=(links.get("type") or {}).get("title"),
        priority=priority_from_link(links.get("priority")),
        assignee=parse_user_link(links.get("assignee"), slug=slug, base_url=base_url),
        reporter=parse_user_link(links.get("author"), slug=slug, base_url=base_url),
        due=parse_date(raw.get("dueDate")),
        created_at=parse_timestamp(raw.get("createdAt")),
        updated_at=parse_timestamp(raw.get("updatedAt")),
        estimate_hours=parse_duration_hours(raw.get("estimatedTime")),
        story_points=float(story_points) if story_points is not None else None,
        parent_ref=make_ref(slug, parent_id) if parent_id else None,
        epic_ref=make_ref(slug, parent_id) if parent_id and parent_id in set(epic_ids) else None,
        sprint_ref=make_ref(slug, sprint_id) if sprint_id else None,
        extra=extra,
    )


def parse_epic(raw: Mapping[str, Any], *, slug: str, base_url: str, statuses: Mapping[str, Status]) -> Epic:
    """A work package of the type Epic."""
    task = parse_work_package(raw, slug=slug, base_url=base_url, statuses=statuses)
    return Epic(
        ref=task.ref,
        id=task.id,
        key=task.key,
        title=task.title,
        url=task.url,
        status=task.status,
        description=task.description,
        project_ref=task.project_ref,
        extra={"type": task.type, **task.extra},
    )


def parse_allowed_statuses(
    form: Mapping[str, Any], *, slug: str, statuses: Mapping[str, Status]
) -> list[Status]:
    """The statuses a work package's form allows (`_embedded.schema.status`)."""
    schema = ((form.get("_embedded") or {}).get("schema") or {}).get("status") or {}
    embedded = (schema.get("_embedded") or {}).get("allowedValues")
    if isinstance(embedded, list) and embedded:
        return [statuses.get(str(value["id"])) or parse_status(value, slug=slug) for value in embedded]
    allowed = []
    for link in (schema.get("_links") or {}).get("allowedValues") or []:
        status = status_from_link(link, slug=slug, statuses=statuses)
        if status is not None:
            allowed.append(status)
    return allowed


def is_comment(activity: Mapping[str, Any]) -> bool:
    return bool((_raw_text(activity.get("comment")) or "").strip())


def parse_comment(raw: Mapping[str, Any], *, slug: str, base_url: str, task_id: str) -> Comment:
    """An activity that carries a comment; the body is the comment's Markdown source."""
    links = _links(raw)
    author = parse_user_link(links.get("user"), slug=slug, base_url=base_url)
    extra = {key: raw[key] for key in ("version", "internal") if raw.get(key) is not None}
    return Comment(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        body=_raw_text(raw.get("comment")) or "",
        author=author,
        created_at=parse_timestamp(raw.get("createdAt")),
        updated_at=parse_timestamp(raw.get("updatedAt")),
        url=f"{base_url}/work_packages/{task_id}/activity",
        extra=extra,
    )


def status_change_target(detail: str, status_names: Iterable[str]) -> str | None:
    """The status an activity detail moved to ("Status changed from New to Closed" -> "Closed").

    Only one of `status_names` is accepted, so a name that itself contains " to " is read whole.
    Details are written in the user's language; non-English ones are not recognised.
    """
    text = " ".join(detail.split()).rstrip(".")
    match = STATUS_DETAIL.match(text)
    if match is None:
        return None
    for name in sorted(status_names, key=len, reverse=True):
        if text.endswith(f" to {name}"):
            return name
    return None


def parse_done_at(
    activities: Sequence[Mapping[str, Any]], closed_status_names: Iterable[str]
) -> datetime | None:
    """When a work package last moved into a closed status, from its activities."""
    names = list(closed_status_names)
    done_at = None
    for activity in activities:
        for detail in activity.get("details") or []:
            raw = _raw_text(detail) or ""
            if status_change_target(raw, names) is not None:
                created = parse_timestamp(activity.get("createdAt"))
                if created is not None and (done_at is None or created >= done_at):
                    done_at = created
    return done_at


def _day_start(value: date | None) -> datetime | None:
    return datetime.combine(value, time.min, tzinfo=UTC) if value else None


def parse_sprint(raw: Mapping[str, Any], *, slug: str, base_url: str) -> Sprint:
    """An OpenProject sprint (`/api/v3/sprints`); start and end are the dates at 00:00 UTC."""
    links = _links(raw)
    status_href = (links.get("status") or {}).get("href")
    project_id = link_id(links.get("definingWorkspace"))
    start, finish = parse_date(raw.get("startDate")), parse_date(raw.get("finishDate"))
    extra: dict[str, Any] = {"kind": "sprint"}
    if start:
        extra["start_date"] = start.isoformat()
    if finish:
        extra["finish_date"] = finish.isoformat()
    if (links.get("status") or {}).get("title"):
        extra["status"] = links["status"]["title"]
    return Sprint(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=str(raw.get("name") or raw["id"]),
        state=SPRINT_STATES.get(str(status_href), SprintState.UNKNOWN),
        start=_day_start(start),
        end=_day_start(finish),
        goal=_raw_text(raw.get("description")) or None,
        project_ref=make_ref(slug, project_id) if project_id else None,
        extra=extra,
    )


def version_state(status: Any, start: date | None, today: date) -> SprintState:
    """A version's state: closed ones CLOSED; open or locked ones FUTURE before their start, else ACTIVE."""
    if status == "closed":
        return SprintState.CLOSED
    if status in ("open", "locked"):
        return SprintState.FUTURE if start and start > today else SprintState.ACTIVE
    return SprintState.UNKNOWN


def parse_version(raw: Mapping[str, Any], *, slug: str, base_url: str, today: date) -> Sprint:
    """A version standing in for a sprint on servers without sprints."""
    links = _links(raw)
    project_id = link_id(links.get("definingProject"))
    start, end = parse_date(raw.get("startDate")), parse_date(raw.get("endDate"))
    extra: dict[str, Any] = {"kind": "version", "status": raw.get("status"), "sharing": raw.get("sharing")}
    if start:
        extra["start_date"] = start.isoformat()
    if end:
        extra["end_date"] = end.isoformat()
    return Sprint(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=str(raw.get("name") or raw["id"]),
        state=version_state(raw.get("status"), start, today),
        url=f"{base_url}/versions/{raw['id']}",
        start=_day_start(start),
        end=_day_start(end),
        goal=_raw_text(raw.get("description")) or None,
        project_ref=make_ref(slug, project_id) if project_id else None,
        extra=extra,
    )


def collection_elements(body: Any) -> list[Mapping[str, Any]]:
    """The elements of a HAL collection (`_embedded.elements`)."""
    if not isinstance(body, Mapping):
        return []
    elements = (body.get("_embedded") or {}).get("elements")
    return [element for element in elements or [] if isinstance(element, Mapping)]


def _error_field(attribute: Any) -> str:
    name = str(attribute)
    name = name[:1].lower() + name[1:]
    return ERROR_ATTRIBUTE_FIELDS.get(name, name)


def parse_error_body(body: Any) -> tuple[str | None, dict[str, str]]:
    """The message and field errors of an OpenProject error (single or MultipleErrors)."""
    if not isinstance(body, Mapping) or body.get("_type") != "Error":
        return None, {}
    message = body.get("message") if isinstance(body.get("message"), str) else None
    field_errors: dict[str, str] = {}
    embedded = body.get("_embedded") or {}
    singles = embedded.get("errors") if isinstance(embedded.get("errors"), list) else [body]
    for error in singles:
        if not isinstance(error, Mapping):
            continue
        attribute = ((error.get("_embedded") or {}).get("details") or {}).get("attribute")
        if attribute:
            field_errors[_error_field(attribute)] = str(error.get("message") or "invalid")
    return message, field_errors


def describe_openproject_error(response: requests.Response) -> tuple[str | None, dict[str, str]]:
    try:
        body = response.json()
    except ValueError:
        return None, {}
    return parse_error_body(body)


# --- paging ------------------------------------------------------------------------------------


def _page_number(page: PageRequest) -> int:
    """OpenProject's `offset` is a 1-based page number; our cursor is that number."""
    if page.cursor is None:
        return 1
    if not page.cursor.isdigit() or int(page.cursor) < 1:
        raise errors.InvalidInput(f"{page.cursor!r} is not a page cursor of this OpenProject connection.")
    return int(page.cursor)


def _page_size(page: PageRequest) -> int:
    return max(1, min(page.limit, MAX_USER_PAGE_SIZE))


def _next_page(body: Mapping[str, Any], number: int, requested_size: int) -> str | None:
    # The server may cap pageSize; its own figure tells where the next page starts.
    size = int(body.get("pageSize") or requested_size)
    total = int(body.get("total") or 0)
    return str(number + 1) if number * size < total else None


def _filter(name: str, operator: str, values: list[str] | None) -> dict[str, Any]:
    return {name: {"operator": operator, "values": values}}


def _href(kind: str, native_id: str) -> str:
    return f"/api/v3/{kind}/{quote(str(native_id), safe='')}"


class OpenProjectAdapter:
    """OpenProject's API v3 behind the ProviderAdapter protocol."""

    provider_type: ClassVar[str] = "openproject"
    needs_username: ClassVar[bool] = False
    base_url_example: ClassVar[str] = "https://openproject.example.com"

    def __init__(self, config: ConnectionConfig, policy: HttpPolicy, **context: Any):
        self.slug = config.slug
        self.base_url = config.base_url.rstrip("/")
        self._config = config
        self._policy = policy
        self._client: ProviderHttp | None = None
        # What this server offers, learnt on first use: None until known.
        self._has_workspaces: bool | None = None  # /api/v3/workspaces (OpenProject 17)
        self._has_sprints: bool | None = None  # /api/v3/sprints; versions stand in without it
        # Statuses change only when an administrator edits them; kept for this adapter's life.
        self._statuses: dict[str, Status] | None = None

    @property
    def _http(self) -> ProviderHttp:
        # Built on first use, so that a refused address surfaces from the call, as a ProviderError.
        if self._client is None:
            self._client = ProviderHttp(
                self.base_url,
                vendor=VENDOR,
                policy=self._policy,
                auth=HTTPBasicAuth(API_USER, self._config.token),
                describe_error=describe_openproject_error,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- identity ----------------------------------------------------------------------

    def check(self) -> CheckResult:
        user = self.current_user()
        site = urlsplit(self.base_url).netloc
        contact = user.email or user.extra.get("login") or user.id
        return CheckResult(user=user, site=site, summary=f"Connected to {site} as {user.name}, {contact}")

    def current_user(self) -> User:
        try:
            body = self._http.get("api/v3/users/me")
        except errors.NotFound:
            raise errors.NotThisProduct(
                f"{urlsplit(self.base_url).netloc} has no OpenProject API at {self.base_url}/api/v3. "
                "Check the base URL (include the path when OpenProject is installed under one)."
            ) from None
        if not isinstance(body, Mapping) or body.get("_type") != "User" or "id" not in body:
            raise errors.NotThisProduct(
                "The server answered, but not as OpenProject's API would. Check the base URL."
            )
        return parse_user(body, slug=self.slug, base_url=self.base_url)

    # --- projects, statuses, priorities, people --------------------------------------------

    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        number, size = _page_number(page), _page_size(page)
        params: dict[str, Any] = {"offset": number, "pageSize": size, "sortBy": json.dumps([["id", "asc"]])}
        if text:
            params["filters"] = json.dumps([_filter("name_and_identifier", "~", [text])])
        body = self._workspace_collection(params)
        projects = [
            parse_project(raw, slug=self.slug, base_url=self.base_url) for raw in collection_elements(body)
        ]
        return Page(projects, _next_page(body, number, size), body.get("total"))

    def get_project(self, project_id: str) -> Project:
        if project_id.isdigit() and self._has_workspaces is not False:
            # Through the workspaces collection, so programs and portfolios listed above resolve too.
            params = {"filters": json.dumps([_filter("id", "=", [project_id])]), "pageSize": 1}
            try:
                body = self._http.get("api/v3/workspaces", params=params)
            except errors.NotFound:
                self._has_workspaces = False  # a collection can't be missing: the server predates workspaces
            else:
                self._has_workspaces = True
                found = collection_elements(body)
                if not found:
                    raise errors.NotFound(
                        f"OpenProject found no project {project_id} visible to this account."
                    )
                return parse_project(found[0], slug=self.slug, base_url=self.base_url)
        raw = self._http.get(f"api/v3/projects/{quote(project_id, safe='')}")
        return parse_project(raw, slug=self.slug, base_url=self.base_url)

    def list_statuses(self, project_id: str) -> list[Status]:
        # OpenProject's statuses are global; the workflow per type and role limits the moves.
        return list(self._status_table().values())

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        body = self._http.get("api/v3/priorities")
        return [parse_priority(raw) for raw in collection_elements(body) if raw.get("isActive", True)]

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        if project_id:
            body = self._in_workspace("GET", project_id, "available_assignees")
        else:
            body = self._http.get(
                "api/v3/principals", params={"filters": json.dumps([_filter("type", "=", ["User"])])}
            )
        users = [parse_user(raw, slug=self.slug, base_url=self.base_url) for raw in collection_elements(body)]
        if text:
            needle = text.lower()
            users = [
                user
                for user in users
                if needle in user.name.lower()
                or needle in (user.email or "").lower()
                or needle in str(user.extra.get("login") or "").lower()
            ]
        return users

    # --- tasks -------------------------------------------------------------------------

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        number, size = _page_number(page), _page_size(page)
        filters = self._task_filters(query)
        if filters is None:  # the status and category filters exclude every status
            return Page([], None, 0)
        params = {
            "filters": json.dumps(filters),
            "sortBy": json.dumps(
                [[SORT_FIELDS[query.sort], "desc" if query.descending else "asc"], ["id", "asc"]]
            ),
            "offset": number,
            "pageSize": size,
        }
        if query.project_id:
            body = self._in_workspace("GET", query.project_id, "work_packages", params=params)
        else:
            body = self._http.get("api/v3/work_packages", params=params)
        tasks = self._tasks_from(collection_elements(body))
        return Page(tasks, _next_page(body, number, size), body.get("total"))

    def get_task(self, task_id: str) -> Task:
        return self._tasks_from([self._get_work_package(task_id)])[0]

    def available_statuses(self, task_id: str) -> list[Status]:
        return self._allowed_statuses(task_id, self._get_work_package(task_id))

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        if draft.labels:
            raise errors.NotSupported("OpenProject work packages have no labels.")
        payload: dict[str, Any] = {"subject": draft.title}
        links: dict[str, Any] = {}
        if draft.description is not None:
            payload["description"] = {"raw": draft.description}
        if draft.type:
            links["type"] = {"href": self._type_href(project_id, draft.type)}
        if draft.priority is not None:
            links["priority"] = {"href": _priority_href(draft.priority)}
        if draft.assignee_id:
            links["assignee"] = {"href": _href("users", draft.assignee_id)}
        if draft.due is not None:
            payload["dueDate"] = draft.due.isoformat()
        if draft.estimate_hours is not None:
            payload["estimatedTime"] = _duration(draft.estimate_hours)
        if draft.story_points is not None:
            payload["storyPoints"] = _story_points(draft.story_points)
        parent_id = _parent_id(draft.parent_id, draft.epic_id)
        if parent_id:
            links["parent"] = {"href": _href("work_packages", parent_id)}
        if draft.sprint_id:
            links.update(self._sprint_links(draft.sprint_id))
        if links:
            payload["_links"] = links
        body = self._in_workspace("POST", project_id, "work_packages", json=payload)
        return self._tasks_from([body])[0]

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        changed = changes.changed()
        if not changed:
            return self.get_task(task_id)
        payload: dict[str, Any] = {}
        links: dict[str, Any] = {}
        if "title" in changed:
            payload["subject"] = changed["title"]
        if "description" in changed:
            payload["description"] = {"raw": changed["description"] or ""}
        if "priority" in changed:
            priority = changed["priority"]
            links["priority"] = {"href": _priority_href(priority) if priority is not None else None}
        if "due" in changed:
            payload["dueDate"] = changed["due"].isoformat() if changed["due"] is not None else None
        if "estimate_hours" in changed:
            hours = changed["estimate_hours"]
            payload["estimatedTime"] = _duration(hours) if hours is not None else None
        if "story_points" in changed:
            points = changed["story_points"]
            payload["storyPoints"] = _story_points(points) if points is not None else None
        if "parent_id" in changed or "epic_id" in changed:
            parent_id = _parent_id(changed.get("parent_id"), changed.get("epic_id"))
            links["parent"] = {"href": _href("work_packages", parent_id) if parent_id else None}
        if "sprint_id" in changed:
            links.update(self._sprint_links(changed["sprint_id"]))
        if links:
            payload["_links"] = links
        return self._tasks_from([self._patch_work_package(task_id, payload)])[0]

    def set_task_status(self, task_id: str, status: Status) -> Task:
        current = self._get_work_package(task_id)
        allowed = self._allowed_statuses(task_id, current)
        target = next((s for s in allowed if s.id == status.id), None) or next(
            (s for s in allowed if s.name.lower() == status.name.lower()), None
        )
        if target is None:
            names = ", ".join(s.name for s in allowed) or "none"
            raise errors.InvalidInput(
                f"OpenProject's workflow does not allow work package #{task_id} to move to {status.name!r}.",
                field_errors={"status": f"choose one of: {names}"},
            )
        payload = {"_links": {"status": {"href": _href("statuses", target.id)}}}
        # The PATCH answers with the saved work package: that is the read-back of the change.
        task = self._tasks_from([self._patch_work_package(task_id, payload, current)])[0]
        if task.status is None or task.status.id != target.id:
            shown = task.status.name if task.status else "no status"
            raise errors.Conflict(
                f"OpenProject kept work package #{task_id} in {shown} instead of moving it to {target.name}."
            )
        return task

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        href = _href("users", user_id) if user_id else None
        body = self._patch_work_package(task_id, {"_links": {"assignee": {"href": href}}})
        return self._tasks_from([body])[0]

    def delete_task(self, task_id: str) -> None:
        self._http.delete(_work_package_path(task_id))

    # --- comments ----------------------------------------------------------------------

    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        # The activities endpoint is not paged: it answers with the whole history.
        comments = [
            parse_comment(raw, slug=self.slug, base_url=self.base_url, task_id=task_id)
            for raw in self._activities(task_id)
            if is_comment(raw)
        ]
        return page_of(comments, page)

    def add_comment(self, task_id: str, body: str) -> Comment:
        created = self._http.post(
            f"{_work_package_path(task_id)}/activities", json={"comment": {"raw": body}}
        )
        if not isinstance(created, Mapping) or "id" not in created:
            raise errors.ProviderError("OpenProject accepted the comment but did not return it.")
        return parse_comment(created, slug=self.slug, base_url=self.base_url, task_id=task_id)

    # --- sprints and epics -------------------------------------------------------------------

    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        if self._uses_sprints():
            sprints = [
                parse_sprint(raw, slug=self.slug, base_url=self.base_url)
                for raw in self._read_all(f"api/v3/projects/{quote(project_id, safe='')}/sprints")
            ]
        else:
            body = self._in_workspace("GET", project_id, "versions")
            today = datetime.now(UTC).date()
            sprints = [
                parse_version(raw, slug=self.slug, base_url=self.base_url, today=today)
                for raw in collection_elements(body)
            ]
        if state is not None:
            sprints = [sprint for sprint in sprints if sprint.state == state]
        return page_of(sprints, page)

    def get_sprint(self, sprint_id: str) -> Sprint:
        if self._uses_sprints():
            raw = self._http.get(f"api/v3/sprints/{quote(sprint_id, safe='')}")
            return parse_sprint(raw, slug=self.slug, base_url=self.base_url)
        raw = self._http.get(f"api/v3/versions/{quote(sprint_id, safe='')}")
        return parse_version(raw, slug=self.slug, base_url=self.base_url, today=datetime.now(UTC).date())

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        filters = [_filter(self._sprint_filter_name(), "=", [sprint_id])]
        params = {"filters": json.dumps(filters), "sortBy": json.dumps([["id", "asc"]])}
        tasks = self._tasks_from(self._read_all("api/v3/work_packages", params))
        closed_names = [s.name for s in self._status_table().values() if s.category == StatusCategory.DONE]
        for task in tasks:
            if task.status is not None and task.status.category == StatusCategory.DONE:
                task.done_at = parse_done_at(self._activities(task.id), closed_names)
        return tasks

    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        type_ids = self._epic_type_ids(project_id)
        if not type_ids:
            return Page([], None, 0)
        number, size = _page_number(page), _page_size(page)
        params = {
            "filters": json.dumps([_filter("type", "=", type_ids)]),  # open and closed epics alike
            "sortBy": json.dumps([["id", "asc"]]),
            "offset": number,
            "pageSize": size,
        }
        body = self._in_workspace("GET", project_id, "work_packages", params=params)
        statuses = self._status_table()
        epics = [
            parse_epic(raw, slug=self.slug, base_url=self.base_url, statuses=statuses)
            for raw in collection_elements(body)
        ]
        return Page(epics, _next_page(body, number, size), body.get("total"))

    def get_epic(self, epic_id: str) -> Epic:
        raw = self._get_work_package(epic_id)
        if not is_epic_type((_links(raw).get("type") or {}).get("title")):
            raise errors.NotFound(f"OpenProject work package #{epic_id} is not an Epic.")
        return parse_epic(raw, slug=self.slug, base_url=self.base_url, statuses=self._status_table())

    # --- internals ---------------------------------------------------------------------

    def _workspace_collection(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """GET /api/v3/workspaces, or /api/v3/projects on servers before OpenProject 17."""
        if self._has_workspaces is not False:
            try:
                body = self._http.get("api/v3/workspaces", params=params)
            except errors.NotFound:
                # A collection can't be missing: the server predates workspaces.
                self._has_workspaces = False
            else:
                self._has_workspaces = True
                return body
        return self._http.get("api/v3/projects", params=params)

    def _in_workspace(self, method: str, project_id: str, suffix: str, **kwargs: Any) -> Any:
        """Call /api/v3/workspaces/{id}/<suffix>, or /api/v3/projects/{id}/<suffix> on older servers.

        A 404 on the workspaces path means an older server only when the projects path then
        answers; if it too is 404, the project itself is missing.
        """
        project = quote(project_id, safe="")
        if self._has_workspaces is not False:
            try:
                body = self._http.json(method, f"api/v3/workspaces/{project}/{suffix}", **kwargs)
            except errors.NotFound:
                if self._has_workspaces:
                    raise
            else:
                self._has_workspaces = True
                return body
        body = self._http.json(method, f"api/v3/projects/{project}/{suffix}", **kwargs)
        self._has_workspaces = False
        return body

    def _uses_sprints(self) -> bool:
        if self._has_sprints is None:
            try:
                self._http.get("api/v3/sprints", params={"pageSize": 1})
            except errors.NotFound:
                self._has_sprints = False
            else:
                self._has_sprints = True
        return self._has_sprints

    def _sprint_filter_name(self) -> str:
        return "sprint" if self._uses_sprints() else "version"

    def _sprint_links(self, sprint_id: str | None) -> dict[str, Any]:
        if self._uses_sprints():
            return {"sprint": {"href": _href("sprints", sprint_id) if sprint_id else None}}
        return {"version": {"href": _href("versions", sprint_id) if sprint_id else None}}

    def _read_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[Mapping[str, Any]]:
        """Every element of a paged collection."""
        elements: list[Mapping[str, Any]] = []
        for number in range(1, MAX_COLLECTION_PAGES + 1):
            body = self._http.get(
                path, params={**(params or {}), "offset": number, "pageSize": MAX_PAGE_SIZE}
            )
            elements.extend(collection_elements(body))
            if _next_page(body, number, MAX_PAGE_SIZE) is None:
                break
        return elements

    def _status_table(self) -> dict[str, Status]:
        if self._statuses is None:
            body = self._http.get("api/v3/statuses")
            self._statuses = {
                status.id: status
                for status in (parse_status(raw, slug=self.slug) for raw in collection_elements(body))
            }
        return self._statuses

    def _task_filters(self, query: TaskQuery) -> list[dict[str, Any]] | None:
        """The work-package filters for a query; None when nothing can match.

        Always a list (possibly empty): without `filters` OpenProject shows open work packages only.
        """
        filters: list[dict[str, Any]] = []
        if query.unassigned:
            filters.append(_filter("assignee", "!*", None))
        elif query.assignee:
            filters.append(_filter("assignee", "=", ["me" if query.assignee == ME else query.assignee]))
        if query.statuses or query.categories:
            status_filter = self._status_filter(query)
            if status_filter is None:
                return None
            filters.append(status_filter)
        if query.text:
            filters.append(_filter("search", "**", [query.text]))
        if query.sprint_id:
            filters.append(_filter(self._sprint_filter_name(), "=", [query.sprint_id]))
        if query.epic_id:
            filters.append(_filter("parent", "=", [query.epic_id]))
        if query.updated_since:
            since = query.updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            filters.append(_filter("updatedAt", "<>d", [since, ""]))
        return filters

    def _status_filter(self, query: TaskQuery) -> dict[str, Any] | None:
        table = self._status_table()
        ids = [s.id for s in query.statuses] if query.statuses else list(table)
        if query.categories:
            ids = [
                status_id
                for status_id in ids
                if (table[status_id].category if status_id in table else StatusCategory.UNKNOWN)
                in query.categories
            ]
        if not ids:
            return None
        open_ids = {status_id for status_id, s in table.items() if s.category != StatusCategory.DONE}
        if set(ids) == open_ids:
            return _filter("status", "o", None)
        if set(ids) == set(table) - open_ids:
            return _filter("status", "c", None)
        return _filter("status", "=", ids)

    def _tasks_from(self, elements: Sequence[Mapping[str, Any]]) -> list[Task]:
        statuses = self._status_table()
        parent_ids = {pid for raw in elements if (pid := link_id(_links(raw).get("parent")))}
        epic_ids = self._epics_among(parent_ids)
        return [
            parse_work_package(
                raw, slug=self.slug, base_url=self.base_url, statuses=statuses, epic_ids=epic_ids
            )
            for raw in elements
        ]

    def _epics_among(self, work_package_ids: set[str]) -> set[str]:
        """Which of these work packages are Epics (one request per hundred ids)."""
        ids = sorted(work_package_ids, key=lambda value: (len(value), value))
        epics: set[str] = set()
        for start in range(0, len(ids), MAX_PAGE_SIZE):
            chunk = ids[start : start + MAX_PAGE_SIZE]
            body = self._http.get(
                "api/v3/work_packages",
                params={
                    "filters": json.dumps([_filter("id", "=", chunk)]),
                    "offset": 1,
                    "pageSize": len(chunk),
                },
            )
            for raw in collection_elements(body):
                if is_epic_type((_links(raw).get("type") or {}).get("title")):
                    epics.add(str(raw["id"]))
        return epics

    def _epic_type_ids(self, project_id: str) -> list[str]:
        body = self._in_workspace("GET", project_id, "types")
        return [str(raw["id"]) for raw in collection_elements(body) if is_epic_type(raw.get("name"))]

    def _type_href(self, project_id: str, type_name: str) -> str:
        body = self._in_workspace("GET", project_id, "types")
        types = collection_elements(body)
        wanted = type_name.strip().lower()
        for raw in types:
            if str(raw.get("name") or "").strip().lower() == wanted or str(raw.get("id")) == type_name:
                return _href("types", str(raw["id"]))
        names = ", ".join(str(raw.get("name")) for raw in types) or "none"
        raise errors.InvalidInput(
            f"OpenProject project {project_id} has no type {type_name!r}.",
            field_errors={"type": f"choose one of: {names}"},
        )

    def _get_work_package(self, task_id: str) -> Mapping[str, Any]:
        return self._http.get(_work_package_path(task_id))

    def _patch_work_package(
        self, task_id: str, payload: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> Mapping[str, Any]:
        """PATCH with the current lockVersion; on a conflict, re-read and try once more."""
        if current is None:
            current = self._get_work_package(task_id)
        try:
            return self._http.patch(
                _work_package_path(task_id), json={**payload, "lockVersion": current.get("lockVersion")}
            )
        except errors.Conflict:
            # Someone saved in between: our fields are still what the caller asked for.
            current = self._get_work_package(task_id)
        return self._http.patch(
            _work_package_path(task_id), json={**payload, "lockVersion": current.get("lockVersion")}
        )

    def _allowed_statuses(self, task_id: str, current: Mapping[str, Any]) -> list[Status]:
        # The form only computes (it saves nothing), so it is safe to retry like a read.
        form = self._http.post(
            f"{_work_package_path(task_id)}/form",
            json={"lockVersion": current.get("lockVersion")},
            idempotent=True,
        )
        return parse_allowed_statuses(form, slug=self.slug, statuses=self._status_table())

    def _activities(self, task_id: str) -> list[Mapping[str, Any]]:
        return collection_elements(self._http.get(f"{_work_package_path(task_id)}/activities"))


def _work_package_path(task_id: str) -> str:
    return f"api/v3/work_packages/{quote(str(task_id), safe='')}"


def _priority_href(priority: Priority) -> str:
    if not priority.id:
        raise errors.InvalidInput(
            "Choose a priority from list_priorities.", field_errors={"priority": "this priority has no id"}
        )
    return _href("priorities", priority.id)


def _parent_id(parent_id: str | None, epic_id: str | None) -> str | None:
    """In OpenProject an epic is a parent; both given must agree."""
    if parent_id and epic_id and parent_id != epic_id:
        raise errors.InvalidInput(
            "In OpenProject a task's epic is its parent work package: give either a parent or an epic.",
            field_errors={"epic_id": "differs from parent_id"},
        )
    return parent_id or epic_id


def _duration(hours: float) -> str:
    try:
        return format_duration_hours(float(hours))
    except ValueError as exc:
        raise errors.InvalidInput(
            f"Invalid estimate: {exc}.", field_errors={"estimate_hours": str(exc)}
        ) from None


def _story_points(points: float) -> int:
    if not float(points).is_integer() or points < 0:
        raise errors.InvalidInput(
            "OpenProject story points are whole numbers.",
            field_errors={"story_points": "must be a whole number, 0 or more"},
        )
    return int(points)
