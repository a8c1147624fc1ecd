"""OpenProject HAL+JSON -> domain objects, as pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from .. import vocabulary
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
from ..dates import day_start, parse_date, parse_timestamp
from ..lineage import PRIORITY_LEVELS, identified_project, numbered_task, numbered_user, version_state

EPIC_TYPE_NAME = "epic"

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
    "to": "other_id",  # a relation's other end
    "entity": "task_id",  # a time entry's work package
    "workPackage": "task_id",
    "spentOn": "started",
}

CUSTOM_FIELD = re.compile(r"customField\d+")
# "Status changed from New to Closed" / "Status set to Closed" (the raw text of an activity detail).
STATUS_DETAIL = re.compile(r"^Status (?:changed from .* to|set to) (?P<target>.+)$", re.DOTALL)
DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


# --- pure parsers: OpenProject HAL+JSON -> domain objects -------------------------------------


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


def links_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """A HAL object's `_links` (empty when it has none)."""
    links = raw.get("_links")
    return links if isinstance(links, Mapping) else {}


def raw_text(formattable: Any) -> str | None:
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
    name = str(name or raw.get("login") or raw["id"])
    return numbered_user(raw, slug=slug, base_url=base_url, name=name, email=raw.get("email"), extra=extra)


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
    return vocabulary.status_category(
        name, is_closed, todo=TODO_STATUS_NAMES, in_progress=IN_PROGRESS_STATUS_NAMES, is_default=is_default
    )


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
    return vocabulary.priority_level(name, PRIORITY_LEVELS)


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
    extra: dict[str, Any] = {}
    for key in ("active", "public", "createdAt", "updatedAt"):
        if raw.get(key) is not None:
            extra[key] = raw[key]
    if raw.get("_type"):
        extra["workspace_type"] = raw["_type"]
    parent_id = link_id(links_of(raw).get("parent"))
    if parent_id:
        extra["parent_ref"] = make_ref(slug, parent_id)
    description = raw_text(raw.get("description")) or None
    return identified_project(raw, slug=slug, base_url=base_url, description=description, extra=extra)


def is_epic_type(type_name: Any) -> bool:
    return isinstance(type_name, str) and type_name.strip().lower() == EPIC_TYPE_NAME


def sprint_link(raw: Mapping[str, Any]) -> Any:
    """The link naming a work package's sprint: `sprint` where the server has sprints, else `version`."""
    links = links_of(raw)
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
    links = links_of(raw)
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
    custom = parse_custom_values(raw)
    if custom:
        extra["fields"] = custom
    story_points = raw.get("storyPoints")
    return numbered_task(
        raw,
        slug=slug,
        url=f"{base_url}/work_packages/{task_id}",
        status=status_from_link(links.get("status"), slug=slug, statuses=statuses),
        project_ref=make_ref(slug, project_id) if project_id else None,
        description=raw_text(raw.get("description")),
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


def parse_custom_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A work package's custom field values by field id, as people read them.

    Options and people are named by their titles (a list for several); long text is its
    Markdown source; other values are as OpenProject gives them. Empty fields are left out.
    """
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if CUSTOM_FIELD.fullmatch(key):
            shown = raw_text(value) if isinstance(value, Mapping) else value
            if shown not in (None, ""):
                values[key] = shown
    for key, link in links_of(raw).items():
        if not CUSTOM_FIELD.fullmatch(key):
            continue
        if isinstance(link, list):
            titles = [
                str(item.get("title")) for item in link if isinstance(item, Mapping) and item.get("href")
            ]
            if titles:
                values[key] = titles
        elif isinstance(link, Mapping) and link.get("href"):
            values[key] = str(link.get("title") or link_id(link))
    return values


def parse_epic(raw: Mapping[str, Any], *, slug: str, base_url: str, statuses: Mapping[str, Status]) -> Epic:
    """A work package of the type Epic."""
    task = parse_work_package(raw, slug=slug, base_url=base_url, statuses=statuses)
    return Epic.of(task, extra={"type": task.type, **task.extra})


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
    return bool((raw_text(activity.get("comment")) or "").strip())


def parse_comment(raw: Mapping[str, Any], *, slug: str, base_url: str, task_id: str) -> Comment:
    """An activity that carries a comment; the body is the comment's Markdown source."""
    links = links_of(raw)
    author = parse_user_link(links.get("user"), slug=slug, base_url=base_url)
    extra = {key: raw[key] for key in ("version", "internal") if raw.get(key) is not None}
    return Comment(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        body=raw_text(raw.get("comment")) or "",
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
            raw = raw_text(detail) or ""
            if status_change_target(raw, names) is not None:
                created = parse_timestamp(activity.get("createdAt"))
                if created is not None and (done_at is None or created >= done_at):
                    done_at = created
    return done_at


def parse_sprint(raw: Mapping[str, Any], *, slug: str, base_url: str) -> Sprint:
    """An OpenProject sprint (`/api/v3/sprints`); start and end are the dates at 00:00 UTC."""
    links = links_of(raw)
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
        start=day_start(start),
        end=day_start(finish),
        goal=raw_text(raw.get("description")) or None,
        project_ref=make_ref(slug, project_id) if project_id else None,
        extra=extra,
    )


def parse_version(raw: Mapping[str, Any], *, slug: str, base_url: str, today: date) -> Sprint:
    """A version standing in for a sprint on servers without sprints."""
    links = links_of(raw)
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
        start=day_start(start),
        end=day_start(end),
        goal=raw_text(raw.get("description")) or None,
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


def parse_error(body: Any) -> tuple[str | None, dict[str, str]]:
    """The message and field errors of an OpenProject error (single or MultipleErrors)."""
    if not isinstance(body, Mapping) or body.get("_type") != "Error":
        return None, {}
    message = body.get("message") if isinstance(body.get("message"), str) else None
    field_errors: dict[str, str] = {}
    embedded = body.get("_embedded") or {}
    listed = embedded.get("errors")
    singles = listed if isinstance(listed, list) else [body]
    for error in singles:
        if not isinstance(error, Mapping):
            continue
        attribute = ((error.get("_embedded") or {}).get("details") or {}).get("attribute")
        if attribute:
            field_errors[_error_field(attribute)] = str(error.get("message") or "invalid")
    return message, field_errors
