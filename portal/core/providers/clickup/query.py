"""What we send ClickUp: paths under the API root, task list parameters and filters, and the
bodies of creates and updates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from urllib.parse import quote

from .. import errors
from ..base import (
    Priority,
    PriorityLevel,
    StatusCategory,
    Task,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    TaskSort,
    make_ref,
)
from ..dates import to_millis
from .parse import NO_EPICS, PRIORITY_LEVELS

TASK_ORDER = {
    TaskSort.UPDATED: "updated",
    TaskSort.CREATED: "created",
    TaskSort.DUE: "due_date",
    TaskSort.KEY: "id",
}


def api_root(base_url: str) -> str:
    """The API v2 root for a base URL given with or without /api or /api/v2."""
    root = base_url.strip().rstrip("/")
    if root.endswith("/api/v2"):
        return root + "/"
    if root.endswith("/api"):
        return root + "/v2/"
    return root + "/api/v2/"


def path(*parts: str) -> str:
    """A path under the API root; ids are quoted so none can step outside it."""
    return "/".join(quote(str(part), safe="") for part in parts)


def flag(value: bool) -> str:
    return "true" if value else "false"


def due_millis(day: date, tz: tzinfo = UTC) -> int:
    """A calendar date -> milliseconds at noon in the user's time zone.

    Noon keeps the date the same for anyone within eleven hours of that zone,
    so ClickUp shows the date that was meant.
    """
    return to_millis(datetime(day.year, day.month, day.day, 12, tzinfo=tz))


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


def keep_all(task: Task) -> bool:
    return True


def task_filter(query: TaskQuery, slug: str) -> Callable[[Task], bool]:
    """What ClickUp can't filter on, checked on our side: text, unassigned, categories, sprint and List."""
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
        project_ref = make_ref(slug, query.project_id)
        checks.append(lambda t: t.project_ref == project_ref)
    if not checks:
        return keep_all
    return lambda task: all(check(task) for check in checks)


def task_list_params(query: TaskQuery, assignee: str | None, *, in_list: bool) -> list[tuple[str, str]]:
    """The parameters of a task list (GET /list/{id}/task or /team/{id}/task), paging aside.

    `assignee` is ClickUp's user number; `in_list` when a List (a project or a sprint) is
    asked, whose tasks planned in from other Lists are wanted too. Raises NotSupported for a
    sort ClickUp lacks and for an epic filter.
    """
    if query.epic_id:
        raise errors.NotSupported(NO_EPICS)
    order_by = TASK_ORDER.get(query.sort)
    if order_by is None:
        raise errors.NotSupported(
            "ClickUp's API cannot sort tasks by priority; sort by updated, created, due or key."
        )
    params: list[tuple[str, str]] = [
        ("order_by", order_by),
        ("reverse", flag(query.descending)),
        ("subtasks", "true"),
        ("include_markdown_description", "true"),
    ]
    if in_list:
        params.append(("include_timl", "true"))  # tasks planned into this List from elsewhere
    if assignee is not None:
        params.append(("assignees[]", assignee))
    if query.statuses:
        params.extend(("statuses[]", status.name) for status in query.statuses)
        params.append(("include_closed", "true"))
    else:
        closed_wanted = not query.categories or StatusCategory.DONE in query.categories
        params.append(("include_closed", flag(closed_wanted)))
    if query.updated_since:
        params.append(("date_updated_gt", str(to_millis(query.updated_since))))
    return params
