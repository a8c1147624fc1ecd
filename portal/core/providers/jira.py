"""JIRA Cloud: the platform REST API v3 and the Jira Software (Agile) API 1.0.

How JIRA maps onto the domain model:

- Native ids: a project is its key (PROJ), a task or an epic its issue key
  (PROJ-12), a status and a priority their numeric ids, a user the Atlassian
  account id, a sprint its numeric id.
- Search goes only through `/rest/api/3/search/jql` (nextPageToken paging),
  always naming the fields wanted; the JQL is built from a TaskQuery with every
  value quoted.
- Statuses change only through workflow transitions.
- Story points live in whatever field a scrum board's estimation settings name
  (`/board/{id}/configuration`), and the sprint field is found by its custom
  type in the field list: neither custom field id is assumed.
- Descriptions and comments are ADF in v3; adf.py converts to and from Markdown.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from requests.auth import HTTPBasicAuth

from . import errors
from .adf import adf_to_markdown, markdown_to_adf
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
from .paging import offset_from

VENDOR = "JIRA"
SPRINT_FIELD_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"

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

# JIRA's three fixed status categories, by their stable keys ("undefined" and others: UNKNOWN).
STATUS_CATEGORY_BY_KEY = {
    "new": StatusCategory.TODO,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}
# Their names in JQL, which accepts category names (fixed by JIRA, not customisable).
JQL_CATEGORY_NAMES = {
    StatusCategory.TODO: "To Do",
    StatusCategory.IN_PROGRESS: "In Progress",
    StatusCategory.DONE: "Done",
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
RECONCILE_LIMIT = 50  # JIRA reconciles at most 50 issue ids per search


# --- pure parsing ------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """JIRA's `2026-01-05T09:00:00.000+0000` (or an ISO variant) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_due(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


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
        category=STATUS_CATEGORY_BY_KEY.get(key, StatusCategory.UNKNOWN),
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
        level=PRIORITY_LEVEL_BY_NAME.get(name.strip().lower(), PriorityLevel.UNKNOWN),
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


def find_sprint_field(fields: Any) -> str | None:
    """The id of the Jira Software sprint field in `/rest/api/3/field`, if the site has one."""
    for field in fields if isinstance(fields, list) else []:
        schema = field.get("schema") or {}
        if schema.get("custom") == SPRINT_FIELD_TYPE and field.get("id"):
            return str(field["id"])
    return None


def _is_epic_type(issue_type: Any) -> bool:
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
        if _is_epic_type((parent.get("fields") or {}).get("issuetype")):
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
        due=parse_due(fields.get("duedate")),
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
    key = str(data["key"])
    fields = data.get("fields") or {}
    project = fields.get("project") or {}
    return Epic(
        ref=make_ref(slug, key),
        id=key,
        key=key,
        title=fields.get("summary") or "",
        url=f"{base_url}/browse/{quote(key, safe='')}",
        status=parse_status(fields.get("status"), slug),
        description=adf_to_markdown(fields.get("description")) if "description" in fields else None,
        project_ref=make_ref(slug, project["key"]) if project.get("key") else None,
        extra={"issue_id": str(data.get("id", ""))},
    )


def describe_jira_error(response: requests.Response) -> tuple[str | None, dict[str, str]]:
    """JIRA's `{"errorMessages": [...], "errors": {field: message}}` as (message, field errors)."""
    try:
        body = response.json()
    except ValueError:
        return None, {}
    if not isinstance(body, Mapping):
        return None, {}
    messages = [str(message) for message in body.get("errorMessages") or [] if message]
    field_errors = {str(field): str(message) for field, message in (body.get("errors") or {}).items()}
    if not messages and isinstance(body.get("message"), str):
        messages = [body["message"]]  # some Agile endpoints answer {"message": ...}
    return ("; ".join(messages) or None), field_errors


# --- JQL -----------------------------------------------------------------------------

_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


def jql_string(value: str) -> str:
    """A JQL string literal: double-quoted, with backslashes and quotes escaped."""
    cleaned = re.sub(r"[\x00-\x1f]+", " ", value)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_text(value: str) -> str:
    """A literal for `text ~`: Lucene's special characters are escaped so they match themselves."""
    return jql_string("".join("\\" + char if char in _LUCENE_SPECIAL else char for char in value))


def _jql_status(status: Status) -> str:
    return status.id if status.id.isdigit() else jql_string(status.name)


def build_task_jql(query: TaskQuery, *, user_zone: ZoneInfo | None = None) -> str:
    """The JQL for a TaskQuery. `user_zone` is the JIRA user's time zone, in which JQL reads dates."""
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
        if not str(query.sprint_id).isdigit():
            raise errors.InvalidInput(f"{query.sprint_id!r} is not a JIRA sprint id (a number).")
        clauses.append(f"sprint = {query.sprint_id}")
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


def _path(value: str) -> str:
    """A native id as one URL path segment (never a path traversal)."""
    return quote(str(value), safe="")


# --- the adapter ---------------------------------------------------------------------


class JiraAdapter:
    """JIRA Cloud through REST v3 and Agile 1.0, with Basic auth (account email + API token)."""

    provider_type: ClassVar[str] = "jira"
    needs_username: ClassVar[bool] = True
    base_url_example: ClassVar[str] = "https://your-site.atlassian.net"

    def __init__(self, config: ConnectionConfig, policy: HttpPolicy, **context: Any):
        self.slug = config.slug
        self.base_url = config.base_url.rstrip("/")
        self._config = config
        self._policy = policy
        self._http: ProviderHttp | None = None
        self._me: Mapping[str, Any] | None = None
        self._sprint_field: str | None = None
        self._sprint_field_known = False
        self._projects: dict[str, Mapping[str, Any]] = {}
        self._scrum_boards: dict[str, list[Mapping[str, Any]]] = {}
        self._board_estimation: dict[str, str | None] = {}
        self._project_estimation: dict[str, str | None] = {}
        self._board_projects: dict[str, str | None] = {}
        # Issues written through this adapter; searches ask JIRA to reconcile them so
        # a list right after a write sees it (the search index lags behind).
        self._written_issue_ids: deque[int] = deque(maxlen=RECONCILE_LIMIT)

    def __repr__(self) -> str:
        return f"JiraAdapter(slug={self.slug!r}, base_url={self.base_url!r})"

    # --- plumbing ------------------------------------------------------------------
    @property
    def http(self) -> ProviderHttp:
        """The HTTP client, built on first use so constructing an adapter never fails."""
        if self._http is None:
            if not self._config.username:
                raise errors.AuthenticationFailed(
                    "JIRA Cloud needs the account's email address as the username beside the API token."
                )
            self._http = ProviderHttp(
                self.base_url,
                vendor=VENDOR,
                policy=self._policy,
                auth=HTTPBasicAuth(self._config.username, self._config.token),
                describe_error=describe_jira_error,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _remember_write(self, issue_id: Any) -> None:
        if str(issue_id).isdigit() and int(issue_id) not in self._written_issue_ids:
            self._written_issue_ids.append(int(issue_id))

    # --- identity --------------------------------------------------------------------
    def _myself(self) -> Mapping[str, Any]:
        if self._me is None:
            data = self.http.get("/rest/api/3/myself")
            if not isinstance(data, Mapping) or not data.get("accountId"):
                raise errors.NotThisProduct(
                    f"{urlsplit(self.base_url).netloc} answered, but not as JIRA Cloud would. Check the URL."
                )
            self._me = data
        return self._me

    def check(self) -> CheckResult:
        self._me = None  # a check always asks the server
        me = self._myself()
        user = parse_user(me, self.slug, self.base_url)
        assert user is not None
        site = urlsplit(self.base_url).netloc
        who = f"{user.name}, {user.email}" if user.email else user.name
        return CheckResult(user=user, site=site, summary=f"Connected to {site} as {who}")

    def current_user(self) -> User:
        user = parse_user(self._myself(), self.slug, self.base_url)
        assert user is not None
        return user

    def _user_zone(self) -> ZoneInfo:
        name = self._myself().get("timeZone")
        try:
            return ZoneInfo(name) if isinstance(name, str) and name else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    # --- projects ----------------------------------------------------------------------
    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        start = offset_from(page)
        params: dict[str, Any] = {
            "startAt": start,
            "maxResults": max(1, min(page.limit, 100)),
            "orderBy": "key",
            "expand": "description",
        }
        if text:
            params["query"] = text
        data = self.http.get("/rest/api/3/project/search", params=params)
        values = data.get("values") or []
        projects = [parse_project(raw, self.slug, self.base_url) for raw in values]
        last = data.get("isLast", True) or not values
        return Page(projects, next_cursor=None if last else str(start + len(values)), total=data.get("total"))

    def _project(self, project_id: str) -> Mapping[str, Any]:
        """The raw project (issue types included), cached by key."""
        cached = self._projects.get(project_id.upper())
        if cached is None:
            cached = self.http.get(f"/rest/api/3/project/{_path(project_id)}")
            self._projects[str(cached["key"]).upper()] = cached
            self._projects[project_id.upper()] = cached
        return cached

    def get_project(self, project_id: str) -> Project:
        self._projects.pop(project_id.upper(), None)
        return parse_project(self._project(project_id), self.slug, self.base_url)

    def list_statuses(self, project_id: str) -> list[Status]:
        data = self.http.get(f"/rest/api/3/project/{_path(project_id)}/statuses")
        return parse_project_statuses(data, self.slug)

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        # Atlassian's document marks /priority/search deprecated, but its successor (priority
        # schemes) can't be asked for one project's priorities; this is the endpoint that can.
        params: dict[str, Any] = {"maxResults": 100}
        if project_id:
            params["projectId"] = str(self._project(project_id)["id"])
        priorities: list[Priority] = []
        start = 0
        while True:
            data = self.http.get("/rest/api/3/priority/search", params={**params, "startAt": start})
            values = data.get("values") or []
            priorities.extend(p for raw in values if (p := parse_priority(raw)) is not None)
            start += len(values)
            if data.get("isLast", True) or not values:
                return priorities

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        # JIRA searches at most the first thousand matching users; one page covers them.
        params: dict[str, Any] = {"maxResults": 1000}
        if project_id:
            params["project"] = project_id
            if text:
                params["query"] = text
            data = self.http.get("/rest/api/3/user/assignable/search", params=params)
        elif text:
            data = self.http.get("/rest/api/3/user/search", params={**params, "query": text})
        else:
            data = self.http.get("/rest/api/3/users/search", params={**params, "startAt": 0})
        users = []
        for raw in data if isinstance(data, list) else []:
            # App and customer accounts can't take work; deactivated people neither.
            if raw.get("accountType", "atlassian") != "atlassian" or raw.get("active") is False:
                continue
            user = parse_user(raw, self.slug, self.base_url)
            if user is not None:
                users.append(user)
        return users

    # --- custom fields: sprint and story points -------------------------------------------
    def _sprint_field_id(self) -> str | None:
        if not self._sprint_field_known:
            self._sprint_field = find_sprint_field(self.http.get("/rest/api/3/field"))
            self._sprint_field_known = True
        return self._sprint_field

    def _project_scrum_boards(self, project_key: str) -> list[Mapping[str, Any]]:
        """The project's scrum boards, oldest first."""
        key = project_key.upper()
        if key not in self._scrum_boards:
            boards: list[Mapping[str, Any]] = []
            start = 0
            while True:
                data = self.http.get(
                    "/rest/agile/1.0/board",
                    params={
                        "projectKeyOrId": project_key,
                        "type": "scrum",
                        "startAt": start,
                        "maxResults": 50,
                    },
                )
                values = data.get("values") or []
                boards.extend(values)
                start += len(values)
                if data.get("isLast", True) or not values:
                    break
            boards.sort(key=lambda board: int(board.get("id", 0)))
            for board in boards:
                self._board_projects[str(board["id"])] = key
            self._scrum_boards[key] = boards
        return self._scrum_boards[key]

    def _board_estimation_field(self, board_id: str) -> str | None:
        if board_id not in self._board_estimation:
            config = self.http.get(f"/rest/agile/1.0/board/{_path(board_id)}/configuration")
            self._board_estimation[board_id] = parse_estimation_field(config)
        return self._board_estimation[board_id]

    def _story_points_field(self, project_key: str | None) -> str | None:
        """The story-point field of the project's first scrum board that estimates in one."""
        if not project_key:
            return None
        key = project_key.upper()
        if key not in self._project_estimation:
            field = None
            try:
                boards = self._project_scrum_boards(key)
            except (errors.NotFound, errors.PermissionDenied):
                # Without Jira Software, or without access to the boards, there are no story points.
                boards = []
            for board in boards:
                field = self._board_estimation_field(str(board["id"]))
                if field:
                    break
            self._project_estimation[key] = field
        return self._project_estimation[key]

    def _require_story_points_field(self, project_key: str | None) -> str:
        field = self._story_points_field(project_key)
        if field is None:
            raise errors.NotSupported(
                f"No scrum board of JIRA project {project_key} estimates in story points, so there is no "
                "story-point field to set."
            )
        return field

    # --- reading tasks ---------------------------------------------------------------------
    def _search(
        self, jql: str, fields: Sequence[str], limit: int, cursor: str | None = None
    ) -> tuple[list, str | None]:
        body: dict[str, Any] = {"jql": jql, "fields": list(dict.fromkeys(fields)), "maxResults": limit}
        if cursor:
            body["nextPageToken"] = cursor
        if self._written_issue_ids:
            body["reconcileIssues"] = list(self._written_issue_ids)
        # A search changes nothing, so it may be retried although it is a POST.
        data = self.http.post("/rest/api/3/search/jql", json=body, idempotent=True)
        token = data.get("nextPageToken")
        if data.get("isLast") is True:
            token = None
        return list(data.get("issues") or []), token

    def _task_fields(self, *, detail: bool, story_points_field: str | None) -> list[str]:
        fields = list(TASK_DETAIL_FIELDS if detail else TASK_FIELDS)
        sprint_field = self._sprint_field_id()
        fields.extend(field for field in (sprint_field, story_points_field) if field)
        return fields

    def _tasks_from(
        self, issues: list[Mapping[str, Any]], requested: Sequence[str], board_field: str | None = None
    ) -> list[Task]:
        """Parse issues, each with its project's story-point field (or the sprint board's).

        A field that was not requested (issues of another project in a cross-project
        list) is fetched for those issues with one more search.
        """
        sprint_field = self._sprint_field_id()
        field_by_key: dict[str, str | None] = {}
        missing: dict[str, list[str]] = {}
        for raw in issues:
            if board_field:
                field_by_key[raw["key"]] = board_field
                continue
            project_key = ((raw.get("fields") or {}).get("project") or {}).get("key")
            field = self._story_points_field(project_key)
            field_by_key[raw["key"]] = field
            if field and field not in requested:
                missing.setdefault(field, []).append(raw["key"])
        if missing:
            keys = sorted({key for group in missing.values() for key in group})
            extra, _ = self._search(
                f"key in ({', '.join(jql_string(key) for key in keys)})", list(missing), limit=len(keys)
            )
            values = {raw["key"]: raw.get("fields") or {} for raw in extra}
            for raw in issues:
                raw.setdefault("fields", {}).update(values.get(raw["key"], {}))
        return [
            parse_issue(
                raw,
                self.slug,
                self.base_url,
                sprint_field=sprint_field,
                story_points_field=field_by_key[raw["key"]],
            )
            for raw in issues
        ]

    def _sprint_board_field(self, sprint_id: str) -> tuple[Mapping[str, Any], str | None]:
        sprint = self.http.get(f"/rest/agile/1.0/sprint/{_path(sprint_id)}")
        board_id = sprint.get("originBoardId")
        return sprint, self._board_estimation_field(str(board_id)) if board_id is not None else None

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        if query.categories and not query.categories & set(JQL_CATEGORY_NAMES):
            # Only UNKNOWN asked for: JIRA files practically every status under one of its three
            # categories, so this matches nothing here, as it does for the other providers.
            return Page([], next_cursor=None)
        zone = self._user_zone() if query.updated_since else None
        jql = build_task_jql(query, user_zone=zone)
        board_field = None
        if query.sprint_id:
            _, board_field = self._sprint_board_field(query.sprint_id)
            story_points_field = board_field
        elif query.project_id:
            story_points_field = self._story_points_field(query.project_id)
        elif query.epic_id and (match := ISSUE_KEY.match(query.epic_id)):
            story_points_field = self._story_points_field(match.group("project"))
        else:
            story_points_field = None
        fields = self._task_fields(detail=False, story_points_field=story_points_field)
        limit = max(1, min(page.limit, MAX_SEARCH_PAGE))
        issues, token = self._search(jql, fields, limit, page.cursor)
        return Page(self._tasks_from(issues, fields, board_field), next_cursor=token)

    def _get_issue(self, task_id: str, fields: Sequence[str]) -> dict[str, Any]:
        return self.http.get(f"/rest/api/3/issue/{_path(task_id)}", params={"fields": ",".join(fields)})

    def get_task(self, task_id: str) -> Task:
        match = ISSUE_KEY.match(task_id)
        guess = self._story_points_field(match.group("project")) if match else None
        fields = self._task_fields(detail=True, story_points_field=guess)
        raw = self._get_issue(task_id, fields)
        actual = self._story_points_field(((raw.get("fields") or {}).get("project") or {}).get("key"))
        if actual and actual not in fields:  # a numeric id, or an issue moved to another project
            raw.setdefault("fields", {}).update(self._get_issue(task_id, [actual]).get("fields") or {})
        return parse_issue(
            raw, self.slug, self.base_url, sprint_field=self._sprint_field_id(), story_points_field=actual
        )

    def available_statuses(self, task_id: str) -> list[Status]:
        data = self.http.get(f"/rest/api/3/issue/{_path(task_id)}/transitions")
        return parse_transition_targets(data, self.slug)

    # --- writing tasks ----------------------------------------------------------------------
    def _issue_type_id(self, project: Mapping[str, Any], wanted: str | None, parent_id: str | None) -> str:
        types = [t for t in project.get("issueTypes") or [] if isinstance(t, Mapping)]
        if wanted:
            for issue_type in types:
                if str(issue_type.get("name", "")).lower() == wanted.strip().lower():
                    return str(issue_type["id"])
            names = ", ".join(str(t.get("name")) for t in types)
            raise errors.InvalidInput(
                f"JIRA project {project.get('key')} has no issue type {wanted!r}.",
                field_errors={"type": f"choose one of: {names}"},
            )
        if parent_id:
            parent = self._get_issue(parent_id, ["issuetype"])
            if not _is_epic_type((parent.get("fields") or {}).get("issuetype")):
                # Under a standard issue only a sub-task can live.
                for issue_type in types:
                    if issue_type.get("subtask"):
                        return str(issue_type["id"])
        standard = [t for t in types if not t.get("subtask") and t.get("hierarchyLevel", 0) == 0]
        for issue_type in standard:
            if str(issue_type.get("name", "")).lower() == "task":
                return str(issue_type["id"])
        if standard:
            return str(standard[0]["id"])
        raise errors.InvalidInput(f"JIRA project {project.get('key')} offers no issue type to create.")

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        project = self._project(project_id)
        parent_key = _one_parent(draft.parent_id, draft.epic_id)
        fields: dict[str, Any] = {
            "project": {"key": project["key"]},
            "summary": draft.title,
            "issuetype": {"id": self._issue_type_id(project, draft.type, parent_key)},
        }
        if draft.description:
            fields["description"] = markdown_to_adf(draft.description)
        if draft.priority is not None:
            fields["priority"] = _priority_value(draft.priority)
        if draft.assignee_id:
            fields["assignee"] = {"accountId": draft.assignee_id}
        if draft.due is not None:
            fields["duedate"] = draft.due.isoformat()
        if draft.labels:
            fields["labels"] = list(draft.labels)
        if draft.estimate_hours is not None:
            fields["timetracking"] = {"originalEstimate": _jira_duration(draft.estimate_hours)}
        if parent_key:
            fields["parent"] = {"key": parent_key}
        if draft.story_points is not None:
            fields[self._require_story_points_field(project["key"])] = draft.story_points
        if draft.sprint_id:
            sprint_field = self._require_sprint_field()
            fields[sprint_field] = _sprint_number(draft.sprint_id)
        created = self.http.post("/rest/api/3/issue", json={"fields": fields})
        self._remember_write(created.get("id"))
        return self.get_task(str(created["key"]))

    def _require_sprint_field(self) -> str:
        field = self._sprint_field_id()
        if field is None:
            raise errors.NotSupported("This JIRA site has no sprint field (Jira Software is not enabled).")
        return field

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        changed = changes.changed()
        fields: dict[str, Any] = {}
        if "title" in changed:
            fields["summary"] = changed["title"] or ""
        if "description" in changed:
            fields["description"] = (
                markdown_to_adf(changed["description"]) if changed["description"] else None
            )
        if "priority" in changed:
            fields["priority"] = (
                _priority_value(changed["priority"]) if changed["priority"] is not None else None
            )
        if "due" in changed:
            fields["duedate"] = changed["due"].isoformat() if changed["due"] is not None else None
        if "estimate_hours" in changed:
            if changed["estimate_hours"] is None:
                raise errors.NotSupported(
                    "Clearing a JIRA original estimate is not supported; set 0 hours instead."
                )
            fields["timetracking"] = {"originalEstimate": _jira_duration(changed["estimate_hours"])}
        if "story_points" in changed:
            match = ISSUE_KEY.match(task_id)
            project_key = (
                match.group("project") if match else self.get_task(task_id).project_ref.split(":", 1)[1]
            )
            fields[self._require_story_points_field(project_key)] = changed["story_points"]
        if "parent_id" in changed or "epic_id" in changed:
            parent_key = _one_parent(changed.get("parent_id"), changed.get("epic_id"))
            # JIRA's documented way to clear a parent is an empty parent object.
            fields["parent"] = {"key": parent_key} if parent_key else {}
        if fields:
            self.http.put(f"/rest/api/3/issue/{_path(task_id)}", json={"fields": fields})
        if "sprint_id" in changed:
            issues = {"issues": [task_id]}
            if changed["sprint_id"]:
                self.http.post(
                    f"/rest/agile/1.0/sprint/{_sprint_number(changed['sprint_id'])}/issue", json=issues
                )
            else:
                self.http.post("/rest/agile/1.0/backlog/issue", json=issues)
        task = self.get_task(task_id)
        self._remember_write(task.extra.get("issue_id"))
        return task

    def set_task_status(self, task_id: str, status: Status) -> Task:
        data = self.http.get(f"/rest/api/3/issue/{_path(task_id)}/transitions")
        transitions = [t for t in (data or {}).get("transitions") or [] if t.get("isAvailable") is not False]
        chosen = next((t for t in transitions if str((t.get("to") or {}).get("id")) == status.id), None)
        if chosen is None:
            chosen = next(
                (
                    t
                    for t in transitions
                    if str((t.get("to") or {}).get("name", "")).lower() == status.name.lower()
                ),
                None,
            )
        if chosen is None:
            reachable = (
                ", ".join(sorted({str((t.get("to") or {}).get("name")) for t in transitions})) or "none"
            )
            raise errors.InvalidInput(
                f"JIRA's workflow has no transition from {task_id}'s current status to {status.name!r}.",
                field_errors={"status": f"reachable now: {reachable}"},
            )
        self.http.post(
            f"/rest/api/3/issue/{_path(task_id)}/transitions", json={"transition": {"id": chosen["id"]}}
        )
        task = self.get_task(task_id)
        self._remember_write(task.extra.get("issue_id"))
        target_id = str((chosen.get("to") or {}).get("id"))
        if task.status is None or task.status.id != target_id:
            now = task.status.name if task.status else "an unknown status"
            raise errors.Conflict(
                f"JIRA accepted the transition to {status.name!r}, but {task_id} is now in {now!r} "
                "(a workflow rule may have moved it on)."
            )
        return task

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        self.http.put(f"/rest/api/3/issue/{_path(task_id)}/assignee", json={"accountId": user_id})
        task = self.get_task(task_id)
        self._remember_write(task.extra.get("issue_id"))
        return task

    def delete_task(self, task_id: str) -> None:
        self.http.delete(f"/rest/api/3/issue/{_path(task_id)}")

    # --- comments ------------------------------------------------------------------------------
    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        start = offset_from(page)
        data = self.http.get(
            f"/rest/api/3/issue/{_path(task_id)}/comment",
            params={"startAt": start, "maxResults": max(1, min(page.limit, 100)), "orderBy": "created"},
        )
        values = data.get("comments") or []
        comments = [parse_comment(raw, self.slug, self.base_url, task_id) for raw in values]
        total = data.get("total")
        more = values and isinstance(total, int) and start + len(values) < total
        return Page(comments, next_cursor=str(start + len(values)) if more else None, total=total)

    def add_comment(self, task_id: str, body: str) -> Comment:
        data = self.http.post(
            f"/rest/api/3/issue/{_path(task_id)}/comment", json={"body": markdown_to_adf(body)}
        )
        return parse_comment(data, self.slug, self.base_url, task_id)

    # --- sprints ------------------------------------------------------------------------------
    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        boards = self._project_scrum_boards(project_id)
        board_ids = {str(board["id"]) for board in boards}
        position, start = _board_cursor(page.cursor)
        project_ref = make_ref(self.slug, project_id.upper())
        params: dict[str, Any] = {"maxResults": max(1, min(page.limit, 50))}
        if state is not None and state != SprintState.UNKNOWN:
            params["state"] = state.value
        while position < len(boards):
            board_id = str(boards[position]["id"])
            data = self.http.get(
                f"/rest/agile/1.0/board/{board_id}/sprint", params={**params, "startAt": start}
            )
            values = data.get("values") or []
            sprints = [
                parse_sprint(raw, self.slug, self.base_url, project_ref)
                for raw in values
                # A sprint shared with another board of the project is listed once, by its own board.
                if str(raw.get("originBoardId", board_id)) == board_id
                or str(raw.get("originBoardId")) not in board_ids
            ]
            start += len(values)
            if data.get("isLast", True) or not values:
                position, start = position + 1, 0
            cursor = f"{position}:{start}" if position < len(boards) else None
            if sprints or cursor is None:
                return Page(sprints, next_cursor=cursor)
        return Page([], next_cursor=None)

    def _board_project(self, board_id: str) -> str | None:
        if board_id not in self._board_projects:
            board = self.http.get(f"/rest/agile/1.0/board/{_path(board_id)}")
            location = board.get("location") or {}
            self._board_projects[board_id] = location.get("projectKey")
        return self._board_projects[board_id]

    def get_sprint(self, sprint_id: str) -> Sprint:
        data = self.http.get(f"/rest/agile/1.0/sprint/{_path(sprint_id)}")
        board_id = data.get("originBoardId")
        project_key = self._board_project(str(board_id)) if board_id is not None else None
        project_ref = make_ref(self.slug, project_key) if project_key else None
        return parse_sprint(data, self.slug, self.base_url, project_ref)

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        sprint, board_field = self._sprint_board_field(sprint_id)
        fields = self._task_fields(detail=False, story_points_field=board_field)
        sprint_ref = make_ref(self.slug, str(sprint["id"]))
        issues: list[Mapping[str, Any]] = []
        start = 0
        while True:
            data = self.http.get(
                f"/rest/agile/1.0/sprint/{_path(sprint_id)}/issue",
                params={"startAt": start, "maxResults": 100, "fields": ",".join(fields)},
            )
            values = data.get("issues") or []
            issues.extend(values)
            start += len(values)
            total = data.get("total")
            if not values or not isinstance(total, int) or start >= total:
                break
        tasks = self._tasks_from(issues, fields, board_field)
        # In this sprint's burndown every task counts as this sprint's, whichever sprint it moved on to.
        return [replace(task, sprint_ref=sprint_ref) for task in tasks]

    # --- epics ----------------------------------------------------------------------------------
    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        jql = f"project = {jql_string(project_id)} AND issuetype = Epic ORDER BY created DESC, key DESC"
        limit = max(1, min(page.limit, MAX_SEARCH_PAGE))
        issues, token = self._search(jql, EPIC_FIELDS, limit, page.cursor)
        return Page([parse_epic(raw, self.slug, self.base_url) for raw in issues], next_cursor=token)

    def get_epic(self, epic_id: str) -> Epic:
        raw = self._get_issue(epic_id, EPIC_DETAIL_FIELDS)
        if not _is_epic_type((raw.get("fields") or {}).get("issuetype")):
            raise errors.NotFound(f"JIRA issue {epic_id} is not an epic.")
        return parse_epic(raw, self.slug, self.base_url)


# --- small conversions ------------------------------------------------------------------------


def _board_cursor(cursor: str | None) -> tuple[int, int]:
    """(board position, startAt) from a sprint-list cursor."""
    if not cursor:
        return 0, 0
    position, _, start = cursor.partition(":")
    if not (position.isdigit() and start.isdigit()):
        raise errors.InvalidInput(f"{cursor!r} is not a cursor this JIRA connection issued.")
    return int(position), int(start)


def _one_parent(parent_id: str | None, epic_id: str | None) -> str | None:
    """JIRA has one parent field, for an epic and for a sub-task's parent alike."""
    if parent_id and epic_id and parent_id != epic_id:
        raise errors.InvalidInput(
            "A JIRA issue has one parent: give either a parent task or an epic.",
            field_errors={"parent_id": "conflicts with epic_id"},
        )
    return parent_id or epic_id or None


def _priority_value(priority: Priority) -> dict[str, str]:
    return {"id": priority.id} if priority.id else {"name": priority.name}


def _sprint_number(sprint_id: str) -> int:
    if not str(sprint_id).isdigit():
        raise errors.InvalidInput(f"{sprint_id!r} is not a JIRA sprint id (a number).")
    return int(sprint_id)


def _jira_duration(hours: float) -> str:
    """Hours in JIRA's duration notation; whole minutes, since that is JIRA's precision."""
    if hours < 0:
        raise errors.InvalidInput(
            "An estimate can't be negative.", field_errors={"estimate_hours": "below 0"}
        )
    return f"{round(hours * 60)}m"
