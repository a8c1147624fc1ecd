"""What we send JIRA: JQL built from a TaskQuery with every value quoted, the fields to fetch,
and the field values of creates and updates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

from .. import errors
from ..adf import markdown_to_adf
from ..base import (
    ME,
    FieldType,
    Priority,
    Status,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    TaskSort,
    is_number,
)

# The fields a task list needs; a single task adds its description.
TASK_FIELDS: tuple[str, ...] = (
    "summary",
    "status",
    "priority",
    "assignee",
    "reporter",
    "project",
    "issuetype",
    "parent",
    "duedate",
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "labels",
    "timetracking",
    "timeoriginalestimate",
)
TASK_DETAIL_FIELDS: tuple[str, ...] = (*TASK_FIELDS, "description")
EPIC_FIELDS: tuple[str, ...] = ("summary", "status", "project", "issuetype")
EPIC_DETAIL_FIELDS: tuple[str, ...] = (*EPIC_FIELDS, "description")

# JIRA's category names in JQL, which accepts them (fixed by JIRA, not customisable).
JQL_CATEGORY_NAMES = {
    StatusCategory.TODO: "To Do",
    StatusCategory.IN_PROGRESS: "In Progress",
    StatusCategory.DONE: "Done",
}

JQL_SORT_FIELDS = {
    TaskSort.UPDATED: "updated",
    TaskSort.CREATED: "created",
    TaskSort.PRIORITY: "priority",
    TaskSort.DUE: "duedate",
    TaskSort.KEY: "key",
}

# The search endpoint refuses a query with no restriction; this one restricts nothing.
UNRESTRICTED_JQL = 'created >= "1970/01/01"'

ISSUE_KEY = re.compile(r"^(?P<project>[A-Za-z][A-Za-z0-9_]*)-\d+$")
MAX_SEARCH_PAGE = 100  # JIRA answers at most 100 issues a page when fields are named

_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


def path(value: str) -> str:
    """A native id as one URL path segment (never a path traversal)."""
    return quote(str(value), safe="")


def project_of_key(issue_key: str) -> str | None:
    """The project key an issue key names ("PROJ" of "PROJ-12"); None for a numeric id."""
    match = ISSUE_KEY.match(issue_key)
    return match.group("project") if match else None


def jql_string(value: str) -> str:
    """A JQL string literal: double-quoted, with backslashes and quotes escaped."""
    cleaned = re.sub(r"[\x00-\x1f]+", " ", value)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_text(value: str) -> str:
    """A literal for `text ~`: Lucene's special characters are escaped so they match themselves."""
    return jql_string("".join("\\" + char if char in _LUCENE_SPECIAL else char for char in value))


def _jql_status(status: Status) -> str:
    return status.id if is_number(status.id) else jql_string(status.name)


def sprint_number(sprint_id: str) -> int:
    """A JIRA sprint id, which is a number; raises InvalidInput for anything else."""
    if not is_number(str(sprint_id)):
        raise errors.InvalidInput(f"{sprint_id!r} is not a JIRA sprint id (a number).")
    return int(sprint_id)


def build_task_jql(
    query: TaskQuery, *, user_zone: tzinfo | None = None, blocked_phrase: str | None = None
) -> str:
    """The JQL for a TaskQuery. `user_zone` is the JIRA user's time zone, in which JQL reads dates.

    With `query.blocked`, `blocked_phrase` is the inward phrase of the site's blocking link
    type ("is blocked by"): JQL keeps the tasks with such a link, and the caller keeps those
    whose blocker is not done (JQL can't ask that). Raises InvalidInput for a sprint id that is
    not a number.
    """
    clauses: list[str] = []
    if query.project_id:
        clauses.append(f"project = {jql_string(query.project_id)}")
    if query.unassigned:
        clauses.append("assignee is EMPTY")
    elif query.assignee == ME:
        clauses.append("assignee = currentUser()")
    elif query.assignee:
        clauses.append(f"assignee = {jql_string(query.assignee)}")
    if query.statuses:
        clauses.append(f"status in ({', '.join(_jql_status(status) for status in query.statuses)})")
    categories = [
        JQL_CATEGORY_NAMES[c] for c in StatusCategory if c in query.categories and c in JQL_CATEGORY_NAMES
    ]
    if categories:
        clauses.append(f"statusCategory in ({', '.join(jql_string(name) for name in categories)})")
    if query.text:
        clauses.append(f"text ~ {jql_text(query.text)}")
    if query.sprint_id:
        clauses.append(f"sprint = {sprint_number(query.sprint_id)}")
    if query.epic_id:
        clauses.append(f"parent = {jql_string(query.epic_id)}")
    if query.updated_since:
        since = query.updated_since
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        local = since.astimezone(user_zone or UTC)
        # JQL dates have minute precision: round down so nothing updated in that minute is lost.
        clauses.append(f"updated >= {jql_string(local.strftime('%Y/%m/%d %H:%M'))}")
    if query.blocked and blocked_phrase:
        clauses.append(f"issueLinkType = {jql_string(blocked_phrase)}")
    if not clauses:
        clauses.append(UNRESTRICTED_JQL)
    direction = "DESC" if query.descending else "ASC"
    order = [f"{JQL_SORT_FIELDS[query.sort]} {direction}"]
    if query.sort != TaskSort.KEY:
        order.append(f"key {direction}")
    return f"{' AND '.join(clauses)} ORDER BY {', '.join(order)}"


def worklogs_jql(author: str, since: date, until: date, project_id: str | None) -> str:
    """The issues `author` (an account id, or ME) logged work on between two days.

    JQL reads worklog dates in the searching user's zone: the days are widened by one on
    each side, and the worklogs themselves are then kept by their UTC start.
    """
    who = "currentUser()" if author == ME else jql_string(author)
    clauses = [f"worklogAuthor = {who}"]
    if project_id:
        clauses.insert(0, f"project = {jql_string(project_id)}")
    clauses.append(f"worklogDate >= {jql_string((since - timedelta(days=1)).isoformat())}")
    clauses.append(f"worklogDate <= {jql_string((until + timedelta(days=1)).isoformat())}")
    return " AND ".join(clauses) + " ORDER BY key ASC"


def open_in_sprint_jql(sprint_id: int) -> str:
    """The issues of a sprint that are not done."""
    return f"sprint = {sprint_id} AND statusCategory != {jql_string('Done')} ORDER BY key ASC"


def keys_jql(keys: list[str]) -> str:
    return f"key in ({', '.join(jql_string(key) for key in keys)})"


def epics_jql(project_id: str) -> str:
    return f"project = {jql_string(project_id)} AND issuetype = Epic ORDER BY created DESC, key DESC"


# --- the values of writes ---------------------------------------------------------------------------


def one_parent(parent_id: str | None, epic_id: str | None) -> str | None:
    """JIRA has one parent field, for an epic and for a sub-task's parent alike.

    Raises InvalidInput when both are given and differ.
    """
    if parent_id and epic_id and parent_id != epic_id:
        raise errors.InvalidInput(
            "A JIRA issue has one parent: give either a parent task or an epic.",
            field_errors={"parent_id": "conflicts with epic_id"},
        )
    return parent_id or epic_id or None


def priority_value(priority: Priority) -> dict[str, str]:
    return {"id": priority.id} if priority.id else {"name": priority.name}


def jira_duration(hours: float) -> str:
    """Hours in JIRA's duration notation; whole minutes, since that is JIRA's precision.

    Raises InvalidInput for a negative estimate.
    """
    if hours < 0:
        raise errors.InvalidInput(
            "An estimate can't be negative.", field_errors={"estimate_hours": "below 0"}
        )
    return f"{round(hours * 60)}m"


def draft_fields(draft: TaskDraft) -> dict[str, Any]:
    """The issue fields of a draft that need no lookup (project, type, parent, sprint and points do)."""
    fields: dict[str, Any] = {"summary": draft.title}
    if draft.description:
        fields["description"] = markdown_to_adf(draft.description)
    if draft.priority is not None:
        fields["priority"] = priority_value(draft.priority)
    if draft.assignee_id:
        fields["assignee"] = {"accountId": draft.assignee_id}
    if draft.due is not None:
        fields["duedate"] = draft.due.isoformat()
    if draft.labels:
        fields["labels"] = list(draft.labels)
    if draft.estimate_hours is not None:
        fields["timetracking"] = {"originalEstimate": jira_duration(draft.estimate_hours)}
    return fields


def change_fields(changes: TaskChanges) -> dict[str, Any]:
    """The issue fields of changes that need no lookup (story points do; the sprint is another call).

    Raises NotSupported for clearing an estimate, InvalidInput for two different parents.
    """
    changed = changes.changed()
    fields: dict[str, Any] = {}
    if "title" in changed:
        fields["summary"] = changed["title"] or ""
    if "description" in changed:
        fields["description"] = markdown_to_adf(changed["description"]) if changed["description"] else None
    if "priority" in changed:
        fields["priority"] = priority_value(changed["priority"]) if changed["priority"] is not None else None
    if "due" in changed:
        fields["duedate"] = changed["due"].isoformat() if changed["due"] is not None else None
    if "estimate_hours" in changed:
        if changed["estimate_hours"] is None:
            raise errors.NotSupported(
                "Clearing a JIRA original estimate is not supported; set 0 hours instead."
            )
        fields["timetracking"] = {"originalEstimate": jira_duration(changed["estimate_hours"])}
    if "parent_id" in changed or "epic_id" in changed:
        parent_key = one_parent(changed.get("parent_id"), changed.get("epic_id"))
        # JIRA's documented way to clear a parent is an empty parent object.
        fields["parent"] = {"key": parent_key} if parent_key else {}
    return fields


# --- sprint work ------------------------------------------------------------------------------------


def jira_timestamp(moment: datetime) -> str:
    """A datetime as JIRA writes and reads them: `2026-01-05T09:30:00.000+0000` (UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def sprint_dates(start: date | None, end: date | None) -> dict[str, str | None]:
    """A sprint's whole days as JIRA's start and end: from the first to the last second, UTC.

    Raises InvalidInput for an end before the start.
    """
    if start is not None and end is not None and end < start:
        raise errors.InvalidInput(
            "A sprint can't end before it starts.",
            field_errors={"end": f"before the start, {start.isoformat()}"},
        )
    body: dict[str, str | None] = {}
    if start is not None:
        body["startDate"] = jira_timestamp(datetime.combine(start, time.min, tzinfo=UTC))
    if end is not None:
        body["endDate"] = jira_timestamp(datetime.combine(end, time(23, 59, 59), tzinfo=UTC))
    return body


def sprint_name(name: Any) -> str:
    """A sprint name as JIRA takes it; raises InvalidInput for an empty one."""
    if not isinstance(name, str) or not name.strip():
        raise errors.InvalidInput("A sprint needs a name.", field_errors={"name": "empty"})
    return name.strip()


def worklog_seconds(hours: float) -> int:
    """Hours as the whole seconds JIRA logs; InvalidInput below a minute, JIRA's least."""
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        raise errors.InvalidInput(
            "Logged time must be more than 0 hours.", field_errors={"hours": "not positive"}
        )
    seconds = round(hours * 3600)
    if seconds < 60:
        raise errors.InvalidInput("JIRA logs at least one minute.", field_errors={"hours": "under a minute"})
    return seconds


def field_value(kind: FieldType, value: Any) -> Any:
    """A custom field's value (as TaskDraft.fields holds it) in the shape JIRA's edit takes.

    None clears the field. Raises InvalidInput for a field of a type this server can't set.
    """
    if value is None:
        return None
    if kind in (FieldType.TEXT, FieldType.URL):
        return str(value)
    if kind == FieldType.MARKDOWN:
        return markdown_to_adf(str(value)) if str(value) else None
    if kind in (FieldType.NUMBER, FieldType.BOOLEAN):
        return value
    if kind == FieldType.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == FieldType.DATETIME:
        return jira_timestamp(value) if isinstance(value, datetime) else str(value)
    if kind == FieldType.OPTION:
        return {"value": str(value)}
    if kind == FieldType.OPTIONS:
        return [{"value": str(item)} for item in _several(value)]
    if kind == FieldType.USER:
        return {"accountId": str(value)}
    if kind == FieldType.USERS:
        return [{"accountId": str(item)} for item in _several(value)]
    if kind == FieldType.LABELS:
        return [str(item) for item in _several(value)]
    raise errors.InvalidInput("This JIRA field can't be set through `fields`.")


def _several(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
