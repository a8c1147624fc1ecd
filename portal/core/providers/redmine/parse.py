"""Redmine JSON -> domain objects, as pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .. import vocabulary
from ..base import (
    Comment,
    Priority,
    Project,
    Sprint,
    Status,
    StatusCategory,
    Task,
    User,
    make_ref,
)
from ..dates import day_end, day_start, parse_date, parse_timestamp
from ..lineage import PRIORITY_LEVELS, identified_project, numbered_task, numbered_user, version_state

# Open status names that clearly say "not started" or "being worked on".
TODO_STATUS_NAMES = frozenset({"new", "open", "to do", "todo", "backlog", "reopened", "not started"})
IN_PROGRESS_STATUS_NAMES = frozenset(
    {"in progress", "doing", "started", "in development", "in work", "working"}
)

# The labels Redmine puts in front of its validation messages, mapped to our field names.
ERROR_FIELD_LABELS = {
    "Subject": "title",
    "Description": "description",
    "Tracker": "type",
    "Priority": "priority",
    "Assignee": "assignee_id",
    "Due date": "due",
    "Start date": "start_date",
    "Estimated time": "estimate_hours",
    "Parent task": "parent_id",
    "Target version": "sprint_id",
    "Status": "status",
    "Category": "labels",
    "Project": "project_id",
}

ISSUE_EXTRA_KEYS = (
    "start_date",
    "done_ratio",
    "is_private",
    "spent_hours",
    "total_spent_hours",
    "total_estimated_hours",
)


def parse_hours(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def parse_user(raw: Mapping[str, Any], *, slug: str, base_url: str) -> User:
    """A user from /users/current.json or /users/{id}.json, or a reference like {"id": 5, "name": "Ana"}."""
    first = (raw.get("firstname") or "").strip()
    last = (raw.get("lastname") or "").strip()
    name = raw.get("name") or " ".join(part for part in (first, last) if part) or raw.get("login") or ""
    extra = {key: raw[key] for key in ("login", "admin", "status") if key in raw}
    return numbered_user(
        raw, slug=slug, base_url=base_url, name=str(name), email=raw.get("mail"), extra=extra
    )


def status_category(name: str, is_closed: bool | None) -> StatusCategory:
    """Closed statuses are DONE; open ones only where the name clearly says, else UNKNOWN."""
    return vocabulary.status_category(
        name, is_closed, todo=TODO_STATUS_NAMES, in_progress=IN_PROGRESS_STATUS_NAMES
    )


def parse_status(raw: Mapping[str, Any], *, slug: str) -> Status:
    """A status from /issue_statuses.json, an issue's `status` or its `allowed_statuses`."""
    is_closed = raw.get("is_closed")
    return Status(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        category=status_category(str(raw.get("name") or ""), is_closed),
        extra={"is_closed": is_closed} if is_closed is not None else {},
    )


def parse_priority(raw: Mapping[str, Any]) -> Priority:
    """A priority from /enumerations/issue_priorities.json or an issue's `priority`."""
    name = str(raw.get("name") or "")
    extra = {key: raw[key] for key in ("is_default", "active") if key in raw}
    return Priority(
        id=str(raw["id"]),
        name=name,
        level=vocabulary.priority_level(name, PRIORITY_LEVELS),
        extra=extra,
    )


def parse_project(raw: Mapping[str, Any], *, slug: str, base_url: str) -> Project:
    extra: dict[str, Any] = {}
    for key in ("status", "is_public", "homepage", "created_on", "updated_on"):
        if raw.get(key) not in (None, ""):
            extra[key] = raw[key]
    if raw.get("parent"):
        extra["parent_ref"] = make_ref(slug, raw["parent"]["id"])
        extra["parent_name"] = raw["parent"].get("name")
    description = raw.get("description") or None
    return identified_project(raw, slug=slug, base_url=base_url, description=description, extra=extra)


def _issue_extra(raw: Mapping[str, Any], closed_on: datetime | None) -> dict[str, Any]:
    extra: dict[str, Any] = {key: raw[key] for key in ISSUE_EXTRA_KEYS if raw.get(key) is not None}
    if closed_on is not None:
        extra["closed_on"] = closed_on
    if raw.get("tracker"):
        extra["tracker_id"] = str(raw["tracker"]["id"])
    if raw.get("category"):
        extra["category_id"] = str(raw["category"]["id"])
    if raw.get("fixed_version"):
        extra["sprint_name"] = raw["fixed_version"].get("name")
    if raw.get("custom_fields"):
        extra["custom_fields"] = {field["name"]: field.get("value") for field in raw["custom_fields"]}
    return extra


def parse_issue(
    raw: Mapping[str, Any],
    *,
    slug: str,
    base_url: str,
    known_statuses: Mapping[str, Status] | None = None,
) -> Task:
    """An issue from /issues.json or /issues/{id}.json.

    `known_statuses` (by native id) supplies the category when the issue's status
    does not say whether it is closed (Redmine before 5.0).
    """
    issue_id = str(raw["id"])
    status = parse_status(raw["status"], slug=slug) if raw.get("status") else None
    if (
        status is not None
        and "is_closed" not in raw["status"]
        and known_statuses
        and status.id in known_statuses
    ):
        status = known_statuses[status.id]
    closed_on = parse_timestamp(raw.get("closed_on"))

    def person(key: str) -> User | None:
        return parse_user(raw[key], slug=slug, base_url=base_url) if raw.get(key) else None

    def ref_of(key: str) -> str | None:
        return make_ref(slug, raw[key]["id"]) if raw.get(key) else None

    return numbered_task(
        raw,
        slug=slug,
        url=f"{base_url}/issues/{issue_id}",
        status=status,
        project_ref=ref_of("project"),
        description=raw.get("description"),
        type=raw["tracker"].get("name") if raw.get("tracker") else None,
        priority=parse_priority(raw["priority"]) if raw.get("priority") else None,
        assignee=person("assigned_to"),
        reporter=person("author"),
        due=parse_date(raw.get("due_date")),
        created_at=parse_timestamp(raw.get("created_on")),
        updated_at=parse_timestamp(raw.get("updated_on")),
        # closed_on survives a reopening: it only says when the task was done while it still is
        done_at=closed_on if status is not None and status.category == StatusCategory.DONE else None,
        estimate_hours=parse_hours(raw.get("estimated_hours")),
        parent_ref=ref_of("parent"),
        sprint_ref=ref_of("fixed_version"),
        labels=[raw["category"]["name"]] if raw.get("category") else [],
        extra=_issue_extra(raw, closed_on),
    )


def parse_journal(raw: Mapping[str, Any], *, issue_id: str, slug: str, base_url: str) -> Comment:
    """A journal entry (with notes) of /issues/{id}.json?include=journals as a comment."""
    journal_id = str(raw["id"])
    extra: dict[str, Any] = {"issue_id": issue_id}
    if raw.get("private_notes"):
        extra["private"] = True
    return Comment(
        ref=make_ref(slug, journal_id),
        id=journal_id,
        body=str(raw.get("notes") or ""),
        author=parse_user(raw["user"], slug=slug, base_url=base_url) if raw.get("user") else None,
        created_at=parse_timestamp(raw.get("created_on")),
        updated_at=parse_timestamp(raw.get("updated_on")),
        url=f"{base_url}/issues/{issue_id}#change-{journal_id}",
        extra=extra,
    )


def parse_comments(issue: Mapping[str, Any], *, slug: str, base_url: str) -> list[Comment]:
    """The journal entries of an issue that carry notes; field-change-only entries are not comments."""
    issue_id = str(issue["id"])
    return [
        parse_journal(journal, issue_id=issue_id, slug=slug, base_url=base_url)
        for journal in issue.get("journals") or []
        if (journal.get("notes") or "").strip()
    ]


def _version_start(raw: Mapping[str, Any]) -> datetime | None:
    """A "Start date"-like custom field where the site has one, else when the version was created."""
    for field in raw.get("custom_fields") or []:
        if "start" in str(field.get("name", "")).lower():
            start = parse_date(field.get("value"))
            if start is not None:
                return day_start(start)
    return parse_timestamp(raw.get("created_on"))


def parse_version(raw: Mapping[str, Any], *, slug: str, base_url: str, now: datetime | None = None) -> Sprint:
    """A version (from /projects/{id}/versions.json or /versions/{id}.json) as a sprint.

    The due date ends the sprint at the end of that day (UTC).
    """
    start = _version_start(raw)
    due = parse_date(raw.get("due_date"))
    status = raw.get("status")
    extra: dict[str, Any] = {"status": status}
    for key in ("sharing", "wiki_page_title", "estimated_hours", "spent_hours"):
        if raw.get(key) not in (None, ""):
            extra[key] = raw[key]
    if due is not None:
        extra["due_date"] = due
    return Sprint(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        state=version_state(status, start, now or datetime.now(UTC)),
        url=f"{base_url}/versions/{raw['id']}",
        start=start,
        end=day_end(due),
        goal=raw.get("description") or None,
        project_ref=make_ref(slug, raw["project"]["id"]) if raw.get("project") else None,
        extra=extra,
    )


def parse_memberships(raw: Mapping[str, Any], *, slug: str, base_url: str) -> list[tuple[User, list[str]]]:
    """Users (not groups) of /projects/{id}/memberships.json, each with its role ids."""
    members = []
    for membership in raw.get("memberships") or []:
        if not membership.get("user"):
            continue  # a group membership
        role_ids = [str(role["id"]) for role in membership.get("roles") or []]
        members.append((parse_user(membership["user"], slug=slug, base_url=base_url), role_ids))
    return members


def parse_error(body: Any) -> tuple[str | None, dict[str, str]]:
    """Redmine's `{"errors": ["Subject cannot be blank", ...]}`: the message and errors by field."""
    if not isinstance(body, Mapping):
        return None, {}
    raw_errors = body.get("errors")
    if isinstance(raw_errors, str):
        raw_errors = [raw_errors]
    if not isinstance(raw_errors, list):
        return None, {}
    # Redmine before 2.0 sent [attribute, message] pairs
    messages = [" ".join(map(str, entry)) if isinstance(entry, list) else str(entry) for entry in raw_errors]
    by_field: dict[str, list[str]] = {}
    labels = sorted(ERROR_FIELD_LABELS, key=len, reverse=True)
    for message in messages:
        label = next((label for label in labels if message.startswith(label + " ")), None)
        if label is not None:
            by_field.setdefault(ERROR_FIELD_LABELS[label], []).append(message)
    field_errors = {field: "; ".join(texts) for field, texts in by_field.items()}
    return ("; ".join(messages) or None), field_errors
