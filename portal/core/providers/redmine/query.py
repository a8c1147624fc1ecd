"""What we send Redmine: issue filters, and ids checked before they enter a path."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from .. import errors
from ..base import ME, Status, TaskQuery, TaskSort, is_number
from ..dates import utc_stamp

SORT_FIELDS = {
    TaskSort.UPDATED: "updated_on",
    TaskSort.CREATED: "created_on",
    TaskSort.PRIORITY: "priority",
    TaskSort.DUE: "due_date",
    TaskSort.KEY: "id",
}

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_QUERY_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[A-Za-z0-9_]*\])*$")
# Parameters this server sets itself (paging), or that would change who asks or what comes back.
_RESERVED_KEYS = {"offset", "limit", "page", "per_page", "key", "format", "include"}
NATIVE_QUERY_HELP = (
    "Give a Redmine saved query's id (the number in .../issues?query_id=12) or an issue filter as a "
    "query string, as in Redmine's own URLs: status_id=open&assigned_to_id=me&tracker_id=2."
)


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
    if query.blocked:
        # Redmine's relation filter: blocked by any open issue.
        params["blocked"] = "*o"
    return params


def native_params(native_query: str) -> list[tuple[str, str]]:
    """The /issues.json parameters of a Redmine native query, passed through whole.

    A number is a saved query's id; anything else is a query string (a pasted
    `.../issues?...` URL counts by its query part). Raises InvalidInput for text that is
    neither, and for the parameters we set ourselves (paging) or that would change who asks.
    """
    text = native_query.strip()
    if is_number(text):
        return [("query_id", text)]
    if "?" in text:
        text = text.split("?", 1)[1]
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        if not pairs:
            raise ValueError("empty")
    except ValueError:
        raise errors.InvalidInput(
            f"{native_query[:80]!r} is not a Redmine query. {NATIVE_QUERY_HELP}",
            field_errors={"native_query": "not a saved query id or a query string"},
        ) from None
    for key, _ in pairs:
        if not _QUERY_KEY.match(key):
            raise errors.InvalidInput(
                f"{key[:40]!r} is not a Redmine query parameter. {NATIVE_QUERY_HELP}",
                field_errors={"native_query": key[:40]},
            )
        if key.split("[", 1)[0] in _RESERVED_KEYS:
            raise errors.InvalidInput(
                f"A native query can't set {key.split('[', 1)[0]!r}: paging and what each task holds are "
                "set by this server (use the cursor to page).",
                field_errors={"native_query": key},
            )
    return pairs
