"""JIRA JSON -> domain objects, as pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .. import vocabulary
from ..adf import adf_to_markdown
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
from ..dates import parse_date, parse_timestamp

SPRINT_FIELD_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"

# JIRA's three fixed status categories, by their stable keys ("undefined" and others: UNKNOWN).
STATUS_CATEGORY_BY_KEY = {
    "new": StatusCategory.TODO,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}
# The priority names JIRA ships: the current five-level scheme and the older
# Blocker..Trivial scheme of the same five levels. Renamed or added priorities are UNKNOWN.
PRIORITY_LEVEL_BY_NAME = {
    "highest": PriorityLevel.HIGHEST,
    "high": PriorityLevel.HIGH,
    "medium": PriorityLevel.MEDIUM,
    "low": PriorityLevel.LOW,
    "lowest": PriorityLevel.LOWEST,
    "blocker": PriorityLevel.HIGHEST,
    "critical": PriorityLevel.HIGH,
    "major": PriorityLevel.MEDIUM,
    "minor": PriorityLevel.LOW,
    "trivial": PriorityLevel.LOWEST,
}

SPRINT_STATE_BY_NAME = {
    "future": SprintState.FUTURE,
    "active": SprintState.ACTIVE,
    "closed": SprintState.CLOSED,
}


def parse_user(data: Any, slug: str, base_url: str) -> User | None:
    """A JIRA user (`User` or `UserDetails`); None for an absent user."""
    if not isinstance(data, Mapping) or not data.get("accountId"):
        return None
    account_id = str(data["accountId"])
    extra = {
        key: data[key] for key in ("accountType", "active", "timeZone", "locale") if data.get(key) is not None
    }
    return User(
        ref=make_ref(slug, account_id),
        id=account_id,
        name=data.get("displayName") or account_id,
        email=data.get("emailAddress") or None,
        url=f"{base_url}/jira/people/{quote(account_id, safe='')}",
        extra=extra,
    )


def parse_status(data: Any, slug: str) -> Status | None:
    """A JIRA status with its category mapped by the category's key."""
    if not isinstance(data, Mapping) or data.get("id") is None:
        return None
    category = data.get("statusCategory") or {}
    key = category.get("key") if isinstance(category, Mapping) else None
    status_id = str(data["id"])
    return Status(
        ref=make_ref(slug, status_id),
        id=status_id,
        name=data.get("name") or status_id,
        category=STATUS_CATEGORY_BY_KEY.get(key or "", StatusCategory.UNKNOWN),
        extra={"category_key": key} if key else {},
    )


def parse_project_statuses(data: Any, slug: str) -> list[Status]:
    """`/project/{key}/statuses` lists statuses per issue type; each status once, in order."""
    seen: dict[str, Status] = {}
    for issue_type in data if isinstance(data, list) else []:
        for raw in issue_type.get("statuses") or []:
            status = parse_status(raw, slug)
            if status is not None and status.id not in seen:
                seen[status.id] = status
    return list(seen.values())


def parse_priority(data: Any) -> Priority | None:
    if not isinstance(data, Mapping) or not data.get("name"):
        return None
    name = str(data["name"])
    return Priority(
        id=str(data["id"]) if data.get("id") is not None else None,
        name=name,
        level=vocabulary.priority_level(name, PRIORITY_LEVEL_BY_NAME),
        extra={"default": True} if data.get("isDefault") else {},
    )


def parse_project(data: Mapping[str, Any], slug: str, base_url: str) -> Project:
    key = str(data["key"])
    extra: dict[str, Any] = {"project_id": str(data.get("id", ""))}
    for source, target in (
        ("projectTypeKey", "project_type"),
        ("style", "style"),
        ("simplified", "team_managed"),
    ):
        if data.get(source) is not None:
            extra[target] = data[source]
    return Project(
        ref=make_ref(slug, key),
        id=key,
        key=key,
        name=data.get("name") or key,
        url=f"{base_url}/browse/{quote(key, safe='')}",
        description=data.get("description") or None,
        extra=extra,
    )


def parse_transition_targets(data: Any, slug: str) -> list[Status]:
    """The statuses an issue's available transitions lead to, each once."""
    targets: dict[str, Status] = {}
    for transition in (data or {}).get("transitions") or []:
        if transition.get("isAvailable") is False:
            continue
        status = parse_status(transition.get("to"), slug)
        if status is not None and status.id not in targets:
            status.extra["transition_id"] = str(transition.get("id"))
            status.extra["transition_name"] = transition.get("name")
            targets[status.id] = status
    return list(targets.values())


def parse_comment(data: Mapping[str, Any], slug: str, base_url: str, issue_key: str) -> Comment:
    comment_id = str(data["id"])
    return Comment(
        ref=make_ref(slug, comment_id),
        id=comment_id,
        body=adf_to_markdown(data.get("body")),
        author=parse_user(data.get("author"), slug, base_url),
        created_at=parse_timestamp(data.get("created")),
        updated_at=parse_timestamp(data.get("updated")),
        url=f"{base_url}/browse/{quote(issue_key, safe='')}?focusedCommentId={quote(comment_id, safe='')}",
        extra={"issue_key": issue_key},
    )


_LEGACY_SPRINT = re.compile(r"(\w+)=([^,\]]*)")


def _sprint_values(value: Any) -> list[Mapping[str, Any]]:
    """The sprint field's entries as dicts; the pre-2020 string form is read too."""
    entries: list[Mapping[str, Any]] = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, Mapping):
            entries.append(entry)
        elif isinstance(entry, str):
            attributes = dict(_LEGACY_SPRINT.findall(entry))
            if attributes.get("id"):
                entries.append({**attributes, "state": attributes.get("state", "").lower()})
    return entries


def current_sprint_id(value: Any) -> str | None:
    """The sprint an issue is in now: the active one, else a future one, else its last closed one."""
    entries = [entry for entry in _sprint_values(value) if entry.get("id") is not None]
    for state in ("active", "future"):
        for entry in entries:
            if str(entry.get("state", "")).lower() == state:
                return str(entry["id"])
    closed = sorted(entries, key=lambda entry: str(entry.get("completeDate") or entry.get("endDate") or ""))
    return str(closed[-1]["id"]) if closed else None


def parse_sprint(data: Mapping[str, Any], slug: str, base_url: str, project_ref: str | None = None) -> Sprint:
    sprint_id = str(data["id"])
    board_id = data.get("originBoardId")
    url = None
    if board_id is not None:
        url = (
            f"{base_url}/secure/RapidBoard.jspa?rapidView={board_id}"
            f"&view=reporting&chart=sprintRetrospective&sprint={sprint_id}"
        )
    return Sprint(
        ref=make_ref(slug, sprint_id),
        id=sprint_id,
        name=data.get("name") or sprint_id,
        state=SPRINT_STATE_BY_NAME.get(str(data.get("state", "")).lower(), SprintState.UNKNOWN),
        url=url,
        start=parse_timestamp(data.get("startDate")),
        end=parse_timestamp(data.get("endDate")),
        completed_at=parse_timestamp(data.get("completeDate")),
        goal=data.get("goal") or None,
        project_ref=project_ref,
        extra={"board_id": str(board_id)} if board_id is not None else {},
    )


def parse_estimation_field(config: Any) -> str | None:
    """The story-point field a board estimates in, from `/board/{id}/configuration`.

    Boards that estimate in original time (`timeoriginalestimate`) or by issue
    count have no story-point field.
    """
    estimation = (config or {}).get("estimation") or {}
    field = estimation.get("field") or {}
    field_id = field.get("fieldId") if isinstance(field, Mapping) else None
    if (
        estimation.get("type") == "field"
        and isinstance(field_id, str)
        and field_id.startswith("customfield_")
    ):
        return field_id
    return None


def board_location_project(config: Any) -> str | None:
    """The key of the project a board's configuration says it is located in (None for a user's board)."""
    location = (config or {}).get("location") if isinstance(config, Mapping) else None
    if isinstance(location, Mapping) and location.get("type") == "project" and location.get("key"):
        return str(location["key"]).upper()
    return None


def sprint_field_in_schema(schema: Any) -> str | None:
    """The sprint field's id among the field schemas an issue or a search answers with `expand=schema`."""
    for field_id, bean in (schema or {}).items() if isinstance(schema, Mapping) else ():
        if isinstance(bean, Mapping) and bean.get("custom") == SPRINT_FIELD_TYPE:
            return str(field_id)
    return None


def sprint_boards(value: Any) -> dict[str, str]:
    """Sprint id -> the id of the board it was made on, from a sprint field's entries."""
    return {
        str(entry["id"]): str(entry["boardId"])
        for entry in _sprint_values(value)
        if entry.get("id") is not None and entry.get("boardId") is not None
    }


def current_sprint_board(value: Any) -> str | None:
    """The board of the sprint an issue is in now (see current_sprint_id), where the field says."""
    current = current_sprint_id(value)
    return sprint_boards(value).get(current) if current else None


def find_sprint_field(fields: Any) -> str | None:
    """The id of the Jira Software sprint field in `/rest/api/3/field`, if the site has one."""
    for field in fields if isinstance(fields, list) else []:
        schema = field.get("schema") or {}
        if schema.get("custom") == SPRINT_FIELD_TYPE and field.get("id"):
            return str(field["id"])
    return None


def is_epic_type(issue_type: Any) -> bool:
    """Whether an issue type is an epic: hierarchy level 1 where JIRA says, else the name."""
    if not isinstance(issue_type, Mapping):
        return False
    level = issue_type.get("hierarchyLevel")
    if isinstance(level, int):
        return level == 1
    return str(issue_type.get("name", "")).lower() == "epic"


def _estimate_hours(fields: Mapping[str, Any]) -> float | None:
    seconds = fields.get("timeoriginalestimate")
    if not isinstance(seconds, int | float):
        tracking = fields.get("timetracking") or {}
        seconds = tracking.get("originalEstimateSeconds") if isinstance(tracking, Mapping) else None
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return seconds / 3600
    return None


def parse_issue(
    data: Mapping[str, Any],
    slug: str,
    base_url: str,
    *,
    sprint_field: str | None = None,
    story_points_field: str | None = None,
) -> Task:
    """A JIRA issue as a Task.

    A parent that is an epic (hierarchy level 1) becomes `epic_ref`; any other
    parent (a sub-task's story) becomes `parent_ref`. `description` stays None
    unless the description field was fetched.
    """
    key = str(data["key"])
    fields = data.get("fields") or {}
    project = fields.get("project") or {}
    parent = fields.get("parent") or {}
    parent_ref = epic_ref = None
    if parent.get("key"):
        if is_epic_type((parent.get("fields") or {}).get("issuetype")):
            epic_ref = make_ref(slug, parent["key"])
        else:
            parent_ref = make_ref(slug, parent["key"])
    sprint_ref = None
    extra: dict[str, Any] = {"issue_id": str(data.get("id", ""))}
    if sprint_field and fields.get(sprint_field):
        current = current_sprint_id(fields[sprint_field])
        sprint_ref = make_ref(slug, current) if current else None
        extra["sprint_refs"] = [make_ref(slug, entry["id"]) for entry in _sprint_values(fields[sprint_field])]
    story_points = None
    if story_points_field:
        value = fields.get(story_points_field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            story_points = float(value)
    issue_type = fields.get("issuetype") or {}
    status = parse_status(fields.get("status"), slug)
    # A workflow that sets no resolution still records when the status entered the done category.
    done_at = parse_timestamp(fields.get("resolutiondate"))
    if done_at is None and status is not None and status.category == StatusCategory.DONE:
        done_at = parse_timestamp(fields.get("statuscategorychangedate"))
    return Task(
        ref=make_ref(slug, key),
        id=key,
        key=key,
        title=fields.get("summary") or "",
        url=f"{base_url}/browse/{quote(key, safe='')}",
        status=status,
        project_ref=make_ref(slug, project["key"]) if project.get("key") else None,
        description=adf_to_markdown(fields.get("description")) if "description" in fields else None,
        type=issue_type.get("name"),
        priority=parse_priority(fields.get("priority")),
        assignee=parse_user(fields.get("assignee"), slug, base_url),
        reporter=parse_user(fields.get("reporter"), slug, base_url),
        due=parse_date(fields.get("duedate")),
        created_at=parse_timestamp(fields.get("created")),
        updated_at=parse_timestamp(fields.get("updated")),
        done_at=done_at,
        estimate_hours=_estimate_hours(fields),
        story_points=story_points,
        parent_ref=parent_ref,
        epic_ref=epic_ref,
        sprint_ref=sprint_ref,
        labels=[str(label) for label in fields.get("labels") or []],
        extra=extra,
    )


def parse_epic(data: Mapping[str, Any], slug: str, base_url: str) -> Epic:
    """An issue of an epic type as an Epic."""
    return Epic.of(parse_issue(data, slug, base_url))


def parse_error(body: Any) -> tuple[str | None, dict[str, str]]:
    """JIRA's `{"errorMessages": [...], "errors": {field: message}}` as (message, field errors)."""
    if not isinstance(body, Mapping):
        return None, {}
    messages = [str(message) for message in body.get("errorMessages") or [] if message]
    field_errors = {str(field): str(message) for field, message in (body.get("errors") or {}).items()}
    if not messages and isinstance(body.get("message"), str):
        messages = [body["message"]]  # some Agile endpoints answer {"message": ...}
    return ("; ".join(messages) or None), field_errors
