"""What we send JIRA: JQL built from a TaskQuery with every value quoted, the fields to fetch,
and the field values of creates and updates."""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from typing import Any
from urllib.parse import quote

from .. import errors
from ..adf import markdown_to_adf
from ..base import ME, Priority, Status, StatusCategory, TaskChanges, TaskDraft, TaskQuery, TaskSort

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
    return status.id if status.id.isdigit() else jql_string(status.name)


def sprint_number(sprint_id: str) -> int:
    """A JIRA sprint id, which is a number; raises InvalidInput for anything else."""
    if not str(sprint_id).isdigit():
        raise errors.InvalidInput(f"{sprint_id!r} is not a JIRA sprint id (a number).")
    return int(sprint_id)


def build_task_jql(query: TaskQuery, *, user_zone: tzinfo | None = None) -> str:
    """The JQL for a TaskQuery. `user_zone` is the JIRA user's time zone, in which JQL reads dates.

    Raises InvalidInput for a sprint id that is not a number.
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
    if not clauses:
        clauses.append(UNRESTRICTED_JQL)
    direction = "DESC" if query.descending else "ASC"
    order = [f"{JQL_SORT_FIELDS[query.sort]} {direction}"]
    if query.sort != TaskSort.KEY:
        order.append(f"key {direction}")
    return f"{' AND '.join(clauses)} ORDER BY {', '.join(order)}"


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
