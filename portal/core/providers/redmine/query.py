"""What we send Redmine: issue filters, and ids checked before they enter a path."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .. import errors
from ..base import ME, Status, TaskQuery, TaskSort
from ..dates import utc_stamp

SORT_FIELDS = {
    TaskSort.UPDATED: "updated_on",
    TaskSort.CREATED: "created_on",
    TaskSort.PRIORITY: "priority",
    TaskSort.DUE: "due_date",
    TaskSort.KEY: "id",
}

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


def segment(native_id: str) -> str:
    """A native id checked to be safe inside a URL path (ids are numbers, identifiers are slugs).

    Raises NotFound for anything else: no such object can exist.
    """
    text = str(native_id).strip()
    if not _SEGMENT.match(text):
        raise errors.NotFound(f"{native_id!r} is not a Redmine id.")
    return text


def status_filter(query: TaskQuery, statuses: Callable[[], list[Status]]) -> str | None:
    """The `status_id` filter for a query; None when no status can match.

    `statuses()` lists the site's statuses; it is asked only when the query needs them.
    """
    if not query.statuses and not query.categories:
        return "*"  # Redmine shows open issues only unless told otherwise
    candidates = list(query.statuses) or statuses()
    if query.categories:
        known = {s.id: s for s in statuses()}
        candidates = [s for s in candidates if known.get(s.id, s).category in query.categories]
    if not candidates:
        return None
    return "|".join(sorted({s.id for s in candidates}, key=int))


def issue_filters(query: TaskQuery) -> dict[str, Any]:
    """The /issues.json parameters for a query, but for its statuses (status_filter) and paging.

    Raises NotSupported for an epic filter: Redmine has no epics.
    """
    if query.epic_id:
        raise errors.NotSupported("Redmine has no epics; filter by parent task or version instead.")
    direction = "desc" if query.descending else "asc"
    params: dict[str, Any] = {
        # the id breaks ties so that paging never shows an issue twice
        "sort": f"{SORT_FIELDS[query.sort]}:{direction},id:{direction}",
    }
    if query.project_id:
        params["project_id"] = query.project_id
    if query.unassigned:
        params["assigned_to_id"] = "!*"
    elif query.assignee:
        params["assigned_to_id"] = "me" if query.assignee == ME else query.assignee
    if query.text:
        params["subject"] = f"~{query.text}"
    if query.sprint_id:
        params["fixed_version_id"] = query.sprint_id
    if query.updated_since:
        params["updated_on"] = f">={utc_stamp(query.updated_since)}"
    return params
