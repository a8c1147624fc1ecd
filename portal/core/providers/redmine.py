"""Redmine, through its REST API (JSON, key in `X-Redmine-API-Key`).

How Redmine maps onto the domain model:
- Projects are Redmine projects: the native id is the numeric id, the key the identifier.
- Tasks are issues (`#123`); the task type is the tracker; labels are the issue
  category (Redmine allows at most one); done_at is `closed_on` while the issue is closed.
- Statuses are global (`/issue_statuses.json`); a closed status is DONE, "New"-like
  names are TODO, "In Progress"-like names IN_PROGRESS, and other open statuses
  (Resolved, Feedback ...) UNKNOWN rather than a guess. Which statuses an issue may
  move to comes from the workflow (`allowed_statuses`).
- Sprints are versions ("target versions"); Redmine has no epics and no story points.
- Comments are journal entries that carry notes.
- Descriptions and notes pass through untouched: they are Markdown when the Redmine
  text formatting setting is Markdown/CommonMark (Textile otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from . import errors
from .base import (
    ME,
    Capability,
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
    next_offset,
    offset_from,
    page_of,
)
from .http import HttpPolicy, ProviderHttp

VENDOR = "Redmine"
MAX_PAGE_SIZE = 100  # Redmine caps `limit` at 100
MAX_SPRINT_PAGES = 50  # sprint_tasks reads at most 5,000 issues

# Redmine's default priority names; other names (renamed or translated) are UNKNOWN.
PRIORITY_LEVELS = {
    "low": PriorityLevel.LOW,
    "normal": PriorityLevel.MEDIUM,
    "high": PriorityLevel.HIGH,
    "urgent": PriorityLevel.HIGHEST,
    "immediate": PriorityLevel.HIGHEST,
}

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

SORT_FIELDS = {
    TaskSort.UPDATED: "updated_on",
    TaskSort.CREATED: "created_on",
    TaskSort.PRIORITY: "priority",
    TaskSort.DUE: "due_date",
    TaskSort.KEY: "id",
}


# --- pure parsers: Redmine JSON -> domain objects ------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """Redmine timestamps ("2024-05-01T09:30:00Z") as timezone-aware UTC datetimes."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # Redmine writes UTC; an offset-less value is UTC too
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


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
    return User(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=str(name),
        email=raw.get("mail") or None,
        url=f"{base_url}/users/{raw['id']}",
        extra=extra,
    )


def status_category(name: str, is_closed: bool | None) -> StatusCategory:
    """Closed statuses are DONE; open ones only where the name clearly says, else UNKNOWN."""
    if is_closed:
        return StatusCategory.DONE
    normalized = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    if normalized in TODO_STATUS_NAMES:
        return StatusCategory.TODO
    if normalized in IN_PROGRESS_STATUS_NAMES or "progress" in normalized:
        return StatusCategory.IN_PROGRESS
    return StatusCategory.UNKNOWN


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
        level=PRIORITY_LEVELS.get(name.strip().lower(), PriorityLevel.UNKNOWN),
        extra=extra,
    )


def parse_project(raw: Mapping[str, Any], *, slug: str, base_url: str) -> Project:
    identifier = str(raw.get("identifier") or raw["id"])
    extra: dict[str, Any] = {}
    for key in ("status", "is_public", "homepage", "created_on", "updated_on"):
        if raw.get(key) not in (None, ""):
            extra[key] = raw[key]
    if raw.get("parent"):
        extra["parent_ref"] = make_ref(slug, raw["parent"]["id"])
        extra["parent_name"] = raw["parent"].get("name")
    return Project(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        key=identifier,
        name=str(raw.get("name") or identifier),
        url=f"{base_url}/projects/{identifier}",
        description=raw.get("description") or None,
        extra=extra,
    )


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

    extra: dict[str, Any] = {}
    for key in (
        "start_date",
        "done_ratio",
        "is_private",
        "spent_hours",
        "total_spent_hours",
        "total_estimated_hours",
    ):
        if raw.get(key) is not None:
            extra[key] = raw[key]
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
    return Task(
        ref=make_ref(slug, issue_id),
        id=issue_id,
        key=f"#{issue_id}",
        title=str(raw.get("subject") or ""),
        url=f"{base_url}/issues/{issue_id}",
        status=status,
        project_ref=make_ref(slug, raw["project"]["id"]) if raw.get("project") else None,
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
        parent_ref=make_ref(slug, raw["parent"]["id"]) if raw.get("parent") else None,
        sprint_ref=make_ref(slug, raw["fixed_version"]["id"]) if raw.get("fixed_version") else None,
        labels=[raw["category"]["name"]] if raw.get("category") else [],
        extra=extra,
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
            try:
                start = parse_date(field.get("value"))
            except ValueError:
                continue
            if start is not None:
                return datetime.combine(start, time.min, tzinfo=UTC)
    return parse_timestamp(raw.get("created_on"))


def parse_version(raw: Mapping[str, Any], *, slug: str, base_url: str, now: datetime | None = None) -> Sprint:
    """A version (from /projects/{id}/versions.json or /versions/{id}.json) as a sprint.

    Closed versions are CLOSED; open and locked ones are FUTURE before their start
    and ACTIVE from then on. The due date ends the sprint at the end of that day (UTC).
    """
    now = now or datetime.now(UTC)
    start = _version_start(raw)
    due = parse_date(raw.get("due_date"))
    status = raw.get("status")
    if status == "closed":
        state = SprintState.CLOSED
    elif status in ("open", "locked"):
        state = SprintState.FUTURE if start is not None and start > now else SprintState.ACTIVE
    else:
        state = SprintState.UNKNOWN
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
        state=state,
        url=f"{base_url}/versions/{raw['id']}",
        start=start,
        end=datetime.combine(due, time(23, 59, 59), tzinfo=UTC) if due else None,
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


def parse_errors(body: Any) -> tuple[str | None, dict[str, str]]:
    """Redmine's `{"errors": ["Subject cannot be blank", ...]}`: the message and errors by field."""
    if not isinstance(body, Mapping):
        return None, {}
    raw_errors = body.get("errors")
    if isinstance(raw_errors, str):
        raw_errors = [raw_errors]
    if not isinstance(raw_errors, list):
        return None, {}
    messages = []
    for entry in raw_errors:
        # Redmine before 2.0 sent [attribute, message] pairs
        messages.append(" ".join(str(part) for part in entry) if isinstance(entry, list) else str(entry))
    by_field: dict[str, list[str]] = {}
    labels = sorted(ERROR_FIELD_LABELS, key=len, reverse=True)
    for message in messages:
        label = next((label for label in labels if message.startswith(label + " ")), None)
        if label is not None:
            by_field.setdefault(ERROR_FIELD_LABELS[label], []).append(message)
    field_errors = {field: "; ".join(texts) for field, texts in by_field.items()}
    return ("; ".join(messages) or None), field_errors


def describe_redmine_error(response: requests.Response) -> tuple[str | None, dict[str, str]]:
    try:
        body = response.json()
    except ValueError:
        return None, {}
    return parse_errors(body)


# --- the adapter ----------------------------------------------------------------------------


def _page_size(page: PageRequest) -> int:
    return max(1, min(page.limit, MAX_PAGE_SIZE))


class RedmineAdapter:
    """Redmine's REST API behind the ProviderAdapter protocol."""

    provider_type: ClassVar[str] = "redmine"
    label: ClassVar[str] = "Redmine"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SPRINTS, Capability.DELETE})
    needs_username: ClassVar[bool] = False
    base_url_example: ClassVar[str] = "https://redmine.example.com"

    def __init__(self, config: ConnectionConfig, policy: HttpPolicy, **context: Any):
        self.slug = config.slug
        self.base_url = config.base_url.rstrip("/")
        self._config = config
        self._policy = policy
        self._client: ProviderHttp | None = None
        # Lookups that change only when an administrator edits them; kept for this adapter's life.
        self._statuses: list[Status] | None = None
        self._role_assignable: dict[str, bool] = {}

    @property
    def _http(self) -> ProviderHttp:
        # Built on first use, so that a refused address surfaces from the call, as a ProviderError.
        if self._client is None:
            self._client = ProviderHttp(
                self.base_url,
                vendor=VENDOR,
                policy=self._policy,
                headers={"X-Redmine-API-Key": self._config.token},
                describe_error=describe_redmine_error,
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
            body = self._http.get("users/current.json")
        except errors.PermissionDenied:
            # Every account may read itself: a 403 here means the API itself is off.
            raise errors.PermissionDenied(
                "Redmine refused the API request (403). Its REST API is probably disabled: an administrator "
                "can enable it under Administration > Settings > API (Enable REST web service).",
                status=403,
            ) from None
        except errors.NotFound:
            raise errors.NotThisProduct(
                f"{urlsplit(self.base_url).netloc} has no Redmine API at {self.base_url}. Check the base URL "
                "(include the path when Redmine is installed under one)."
            ) from None
        if not isinstance(body, Mapping) or not isinstance(body.get("user"), Mapping):
            raise errors.NotThisProduct(
                "The server answered, but not as Redmine's API would. Check the base URL."
            )
        return parse_user(body["user"], slug=self.slug, base_url=self.base_url)

    # --- projects, statuses, priorities, people --------------------------------------------

    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        offset = offset_from(page)
        params: dict[str, Any] = {"offset": offset, "limit": _page_size(page)}
        if text:
            params["name"] = f"~{text}"
        body = self._http.get("projects.json", params=params)
        projects = [
            parse_project(raw, slug=self.slug, base_url=self.base_url) for raw in body.get("projects", [])
        ]
        total = int(body.get("total_count", len(projects)))
        return Page(projects, next_offset(offset, len(projects), total), total)

    def get_project(self, project_id: str) -> Project:
        body = self._http.get(f"projects/{_segment(project_id)}.json")
        return parse_project(body["project"], slug=self.slug, base_url=self.base_url)

    def list_statuses(self, project_id: str | None = None) -> list[Status]:
        # Redmine's statuses are global; the workflow narrows them per issue (available_statuses).
        if self._statuses is None:
            body = self._http.get("issue_statuses.json")
            self._statuses = [parse_status(raw, slug=self.slug) for raw in body.get("issue_statuses", [])]
        return list(self._statuses)

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        body = self._http.get("enumerations/issue_priorities.json")
        priorities = [parse_priority(raw) for raw in body.get("issue_priorities", [])]
        return [p for p in priorities if p.extra.get("active", True)]

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        if project_id is None:
            users = self._all_users(text)
        else:
            users = self._assignable_members(project_id)
            if text:
                needle = text.lower()
                users = [u for u in users if needle in u.name.lower() or needle in (u.email or "").lower()]
        return users

    def _all_users(self, text: str | None) -> list[User]:
        params: dict[str, Any] = {"limit": MAX_PAGE_SIZE, "status": 1}
        if text:
            params["name"] = text
        users: list[User] = []
        try:
            for raw in self._paged("users.json", "users", params):
                users.append(parse_user(raw, slug=self.slug, base_url=self.base_url))
        except errors.PermissionDenied:
            raise errors.PermissionDenied(
                "Redmine lists all users only to administrators; name a project to list its members.",
                status=403,
            ) from None
        return users

    def _assignable_members(self, project_id: str) -> list[User]:
        users: dict[str, User] = {}
        path = f"projects/{_segment(project_id)}/memberships.json"
        for raw in self._paged(path, "memberships", {"limit": MAX_PAGE_SIZE}):
            for user, role_ids in parse_memberships(
                {"memberships": [raw]}, slug=self.slug, base_url=self.base_url
            ):
                if any(self._is_assignable(role_id) for role_id in role_ids):
                    users.setdefault(user.id, user)
        return list(users.values())

    def _is_assignable(self, role_id: str) -> bool:
        if role_id not in self._role_assignable:
            role = self._http.get(f"roles/{role_id}.json").get("role", {})
            # Redmine before 4.2 does not say; its roles were assignable unless changed.
            self._role_assignable[role_id] = bool(role.get("assignable", True))
        return self._role_assignable[role_id]

    # --- tasks ---------------------------------------------------------------------------

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        if query.epic_id:
            raise errors.NotSupported("Redmine has no epics; filter by parent task or version instead.")
        status_filter = self._status_filter(query)
        if status_filter is None:
            return Page([], None, 0)
        offset = offset_from(page)
        direction = "desc" if query.descending else "asc"
        params: dict[str, Any] = {
            "offset": offset,
            "limit": _page_size(page),
            "status_id": status_filter,
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
            since = query.updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            params["updated_on"] = f">={since}"
        body = self._http.get("issues.json", params=params)
        tasks = [self._task(raw) for raw in body.get("issues", [])]
        total = int(body.get("total_count", len(tasks)))
        return Page(tasks, next_offset(offset, len(tasks), total), total)

    def _status_filter(self, query: TaskQuery) -> str | None:
        """The `status_id` filter for a query; None when no status can match."""
        if not query.statuses and not query.categories:
            return "*"  # Redmine shows open issues only unless told otherwise
        candidates = list(query.statuses) or self.list_statuses()
        if query.categories:
            known = {s.id: s for s in self.list_statuses()}
            candidates = [s for s in candidates if known.get(s.id, s).category in query.categories]
        if not candidates:
            return None
        return "|".join(sorted({s.id for s in candidates}, key=int))

    def get_task(self, task_id: str) -> Task:
        return self._task(self._issue(task_id))

    def available_statuses(self, task_id: str) -> list[Status]:
        issue = self._issue(task_id, include="allowed_statuses")
        current = str(issue["status"]["id"]) if issue.get("status") else None
        if "allowed_statuses" not in issue:
            # Redmine before 5.0 does not tell; set_task_status verifies whatever is chosen.
            return [s for s in self.list_statuses() if s.id != current]
        return [
            parse_status(raw, slug=self.slug)
            for raw in issue["allowed_statuses"]
            if str(raw["id"]) != current
        ]

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        if draft.story_points is not None:
            raise errors.NotSupported("Redmine has no story points; use estimate_hours.")
        if draft.epic_id:
            raise errors.NotSupported("Redmine has no epics; use parent_id to nest the task under another.")
        fields: dict[str, Any] = {"project_id": project_id, "subject": draft.title}
        if draft.description is not None:
            fields["description"] = draft.description
        if draft.type:
            fields["tracker_id"] = self._tracker_id(draft.type)
        if draft.priority is not None:
            fields["priority_id"] = self._priority_id(draft.priority)
        if draft.assignee_id:
            fields["assigned_to_id"] = draft.assignee_id
        if draft.due is not None:
            fields["due_date"] = draft.due.isoformat()
        if draft.estimate_hours is not None:
            fields["estimated_hours"] = draft.estimate_hours
        if draft.parent_id:
            fields["parent_issue_id"] = draft.parent_id
        if draft.sprint_id:
            fields["fixed_version_id"] = draft.sprint_id
        if draft.labels:
            fields["category_id"] = self._category_id(project_id, draft.labels)
        body = self._http.post("issues.json", json={"issue": fields})
        return self._task(body["issue"])

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        changed = changes.changed()
        if changed.get("story_points") is not None:
            raise errors.NotSupported("Redmine has no story points; use estimate_hours.")
        if changed.get("epic_id") is not None:
            raise errors.NotSupported("Redmine has no epics; use parent_id to nest the task under another.")
        fields: dict[str, Any] = {}
        if "title" in changed:
            if not changed["title"]:
                raise errors.InvalidInput("A task needs a title.", field_errors={"title": "cannot be blank"})
            fields["subject"] = changed["title"]
        if "description" in changed:
            fields["description"] = changed["description"] or ""
        if "priority" in changed:
            if changed["priority"] is None:
                raise errors.InvalidInput(
                    "Every Redmine issue has a priority; choose one instead of clearing it.",
                    field_errors={"priority": "cannot be cleared"},
                )
            fields["priority_id"] = self._priority_id(changed["priority"])
        if "due" in changed:
            fields["due_date"] = changed["due"].isoformat() if changed["due"] else ""
        if "estimate_hours" in changed:
            fields["estimated_hours"] = "" if changed["estimate_hours"] is None else changed["estimate_hours"]
        if "parent_id" in changed:
            fields["parent_issue_id"] = changed["parent_id"] or ""
        if "sprint_id" in changed:
            fields["fixed_version_id"] = changed["sprint_id"] or ""
        if fields:
            self._http.put(f"issues/{_segment(task_id)}.json", json={"issue": fields})
        return self.get_task(task_id)

    def set_task_status(self, task_id: str, status: Status) -> Task:
        self._http.put(f"issues/{_segment(task_id)}.json", json={"issue": {"status_id": status.id}})
        # Redmine answers 204 even when the workflow made it ignore the status: read back.
        task = self.get_task(task_id)
        if task.status is None or task.status.id != status.id:
            now = task.status.name if task.status else "without a status"
            allowed = ", ".join(s.name for s in self.available_statuses(task_id)) or "none"
            raise errors.InvalidInput(
                f"Redmine did not move {task.key} to {status.name!r}; it is still {now!r}. The workflow for "
                f"this tracker and your role does not allow that move. Statuses it allows now: {allowed}.",
                field_errors={"status": f"{status.name} is not allowed from {now}"},
            )
        return task

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        self._http.put(f"issues/{_segment(task_id)}.json", json={"issue": {"assigned_to_id": user_id or ""}})
        task = self.get_task(task_id)
        if (task.assignee.id if task.assignee else None) != (user_id or None):
            raise errors.InvalidInput(
                f"Redmine did not assign {task.key} as asked.", field_errors={"assignee_id": str(user_id)}
            )
        return task

    def delete_task(self, task_id: str) -> None:
        self._http.delete(f"issues/{_segment(task_id)}.json")

    # --- comments ------------------------------------------------------------------------

    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        # Redmine returns every journal at once; paging happens here.
        comments = self._comments(task_id)
        return page_of(comments, page)

    def add_comment(self, task_id: str, body: str) -> Comment:
        if not body.strip():
            raise errors.InvalidInput("A comment needs text.", field_errors={"body": "cannot be blank"})
        self._http.put(f"issues/{_segment(task_id)}.json", json={"issue": {"notes": body}})
        # The update answers 204 with no body: find the journal entry it made.
        comments = self._comments(task_id)
        matching = [c for c in comments if c.body.strip() == body.strip()]
        if not matching:
            raise errors.ProviderError(f"Redmine accepted the comment on #{task_id} but does not show it.")
        return matching[-1]

    def _comments(self, task_id: str) -> list[Comment]:
        issue = self._issue(task_id, include="journals")
        return parse_comments(issue, slug=self.slug, base_url=self.base_url)

    # --- sprints (versions) and epics -------------------------------------------------------

    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        # Redmine returns all of a project's versions (its own and those shared with it) at once.
        body = self._http.get(f"projects/{_segment(project_id)}/versions.json")
        sprints = [
            parse_version(raw, slug=self.slug, base_url=self.base_url) for raw in body.get("versions", [])
        ]
        if state is not None:
            sprints = [s for s in sprints if s.state == state]
        return page_of(sprints, page)

    def get_sprint(self, sprint_id: str) -> Sprint:
        body = self._http.get(f"versions/{_segment(sprint_id)}.json")
        return parse_version(body["version"], slug=self.slug, base_url=self.base_url)

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        params = {"fixed_version_id": sprint_id, "status_id": "*", "sort": "id", "limit": MAX_PAGE_SIZE}
        raws = self._paged("issues.json", "issues", params, max_pages=MAX_SPRINT_PAGES)
        return [self._task(raw) for raw in raws]

    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        raise errors.NotSupported("Redmine has no epics; tasks nest under parent tasks instead.")

    def get_epic(self, epic_id: str) -> Epic:
        raise errors.NotSupported("Redmine has no epics; tasks nest under parent tasks instead.")

    # --- internals -----------------------------------------------------------------------------

    def _issue(self, task_id: str, include: str | None = None) -> dict[str, Any]:
        params = {"include": include} if include else None
        return self._http.get(f"issues/{_segment(task_id)}.json", params=params)["issue"]

    def _task(self, raw: Mapping[str, Any]) -> Task:
        known = None
        if raw.get("status") and "is_closed" not in raw["status"]:
            # Redmine before 5.0 does not say on the issue whether its status is closed.
            known = {s.id: s for s in self.list_statuses()}
        return parse_issue(raw, slug=self.slug, base_url=self.base_url, known_statuses=known)

    def _paged(
        self, path: str, key: str, params: Mapping[str, Any], max_pages: int = 20
    ) -> Iterator[dict[str, Any]]:
        """Every item of an offset/limit/total_count collection, up to `max_pages` pages."""
        offset = 0
        for _ in range(max_pages):
            body = self._http.get(path, params={**params, "offset": offset})
            items = body.get(key, [])
            yield from items
            offset += len(items)
            if not items or offset >= int(body.get("total_count", 0)):
                return

    def _priority_id(self, priority: Priority) -> str:
        if priority.id:
            return priority.id
        for known in self.list_priorities():
            if known.name.lower() == priority.name.lower():
                return str(known.id)
        raise errors.InvalidInput(
            f"Redmine has no priority named {priority.name!r}.", field_errors={"priority": priority.name}
        )

    def _tracker_id(self, name: str) -> str:
        trackers = self._http.get("trackers.json").get("trackers", [])
        for tracker in trackers:
            if str(tracker.get("name", "")).lower() == name.lower() or str(tracker.get("id")) == name:
                return str(tracker["id"])
        choices = ", ".join(str(t.get("name")) for t in trackers)
        raise errors.InvalidInput(
            f"Redmine has no tracker (task type) named {name!r}; choose one of: {choices}.",
            field_errors={"type": name},
        )

    def _category_id(self, project_id: str, labels: tuple[str, ...]) -> str:
        if len(labels) > 1:
            raise errors.InvalidInput(
                "A Redmine issue has at most one category; give one label.",
                field_errors={"labels": ", ".join(labels)},
            )
        body = self._http.get(f"projects/{_segment(project_id)}/issue_categories.json")
        categories = body.get("issue_categories", [])
        for category in categories:
            if str(category.get("name", "")).lower() == labels[0].lower():
                return str(category["id"])
        choices = ", ".join(str(c.get("name")) for c in categories) or "none defined"
        raise errors.InvalidInput(
            f"The project has no issue category named {labels[0]!r}; its categories: {choices}.",
            field_errors={"labels": labels[0]},
        )


_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


def _segment(native_id: str) -> str:
    """A native id checked to be safe inside a URL path (ids are numbers, identifiers are slugs)."""
    text = str(native_id).strip()
    if not _SEGMENT.match(text):
        raise errors.NotFound(f"{native_id!r} is not a Redmine id.")
    return text
