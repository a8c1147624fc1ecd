"""Redmine's REST API behind the ProviderAdapter protocol: projects, people, tasks and comments.

The sprint work (versions, relations, time entries, journals, custom fields) is in
the modules mixed in here; the plumbing they share is in `site`.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..base import (
    Comment,
    Epic,
    Page,
    PageRequest,
    Priority,
    Project,
    Status,
    Task,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    User,
)
from ..paging import next_offset, offset_from, page_of, page_size
from .fields import RedmineFields
from .history import RedmineHistory
from .links import RedmineLinks
from .parse import parse_comments, parse_memberships, parse_project, parse_status, parse_user
from .query import issue_filters, native_params, segment, status_filter
from .site import MAX_PAGE_SIZE
from .sprints import RedmineSprints
from .worklogs import RedmineWorklogs

NO_EPICS = "Redmine has no epics; tasks nest under parent tasks instead."
NO_STORY_POINTS = "Redmine has no story points; use estimate_hours."
NO_EPIC_PARENT = "Redmine has no epics; use parent_id to nest the task under another."


class RedmineAdapter(RedmineSprints, RedmineLinks, RedmineWorklogs, RedmineHistory, RedmineFields):
    """Redmine through its REST API (JSON, the key in `X-Redmine-API-Key`)."""

    # --- projects, statuses, priorities, people --------------------------------------------

    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        offset = offset_from(page)
        params: dict[str, Any] = {"offset": offset, "limit": page_size(page, MAX_PAGE_SIZE)}
        if text:
            params["name"] = f"~{text}"
        body = self.http.get("projects.json", params=params)
        projects = [
            parse_project(raw, slug=self.slug, base_url=self.base_url) for raw in body.get("projects", [])
        ]
        total = int(body.get("total_count", len(projects)))
        return Page(projects, next_offset(offset, len(projects), total), total)

    def get_project(self, project_id: str) -> Project:
        body = self.http.get(f"projects/{segment(project_id)}.json")
        return parse_project(body["project"], slug=self.slug, base_url=self.base_url)

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        if project_id is None:
            return self._all_users(text)
        users = self._assignable_members(project_id)
        if text:
            needle = text.lower()
            users = [u for u in users if needle in u.name.lower() or needle in (u.email or "").lower()]
        return users

    def _all_users(self, text: str | None) -> list[User]:
        params: dict[str, Any] = {"status": 1}
        if text:
            params["name"] = text
        try:
            raws = self._read_all("users.json", "users", params)
        except errors.PermissionDenied:
            raise errors.PermissionDenied(
                "Redmine lists all users only to administrators; name a project to list its members.",
                status=403,
            ) from None
        return [parse_user(raw, slug=self.slug, base_url=self.base_url) for raw in raws]

    def _assignable_members(self, project_id: str) -> list[User]:
        memberships = self._read_all(f"projects/{segment(project_id)}/memberships.json", "memberships", {})
        users: dict[str, User] = {}
        members = parse_memberships({"memberships": memberships}, slug=self.slug, base_url=self.base_url)
        for user, role_ids in members:
            if any(self._is_assignable(role_id) for role_id in role_ids):
                users.setdefault(user.id, user)
        return list(users.values())

    def _is_assignable(self, role_id: str) -> bool:
        def load() -> bool:
            role = self.http.get(f"roles/{segment(role_id)}.json").get("role", {})
            # Redmine before 4.2 does not say; its roles were assignable unless changed.
            return bool(role.get("assignable", True))

        return self.metadata.get(("role_assignable", role_id), load)

    # --- tasks ---------------------------------------------------------------------------

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        if query.native_query is not None:
            return self._native_query_page(query.native_query, page)
        params = issue_filters(query)
        statuses = status_filter(query, self.list_statuses)
        if statuses is None:
            return Page([], None, 0)
        params["status_id"] = statuses
        return self._issue_page(params, page)

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
            raise errors.NotSupported(NO_STORY_POINTS)
        if draft.epic_id:
            raise errors.NotSupported(NO_EPIC_PARENT)
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
        if draft.fields:
            fields["custom_fields"] = self._custom_fields_body(draft.fields)
        issue = self.http.post("issues.json", json={"issue": fields})["issue"]
        if draft.fields:
            # Redmine ignores fields its project or tracker does not use: undo, then say which.
            try:
                self._refuse_fields_not_on(issue, draft.fields)
            except errors.InvalidInput as refused:
                self._undo_create(str(issue["id"]), refused)
                raise
        return self._task(issue)

    def _undo_create(self, task_id: str, why: errors.InvalidInput) -> None:
        """Delete an issue just made against `why`; when Redmine refuses, say it is there."""
        try:
            self.delete_task(task_id)
        except errors.ProviderError as exc:
            raise errors.InvalidInput(
                f"{why} Redmine created #{task_id} without them and refused to delete it ({exc}): delete "
                "or edit it in Redmine.",
                field_errors=why.field_errors,
            ) from None

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        changed = changes.changed()
        if changed.get("story_points") is not None:
            raise errors.NotSupported(NO_STORY_POINTS)
        if changed.get("epic_id") is not None:
            raise errors.NotSupported(NO_EPIC_PARENT)
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
        if changed.get("fields"):
            fields["custom_fields"] = self._custom_fields_body(changed["fields"])
            # Redmine ignores fields the issue's project or tracker does not use: refuse them first.
            self._refuse_fields_not_on(self._issue(task_id), changed["fields"])
        if fields:
            self._put_issue(task_id, fields)
        return self.get_task(task_id)

    def set_task_status(self, task_id: str, status: Status) -> Task:
        self._put_issue(task_id, {"status_id": status.id})
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
        self._put_issue(task_id, {"assigned_to_id": user_id or ""})
        task = self.get_task(task_id)
        if (task.assignee.id if task.assignee else None) != (user_id or None):
            raise errors.InvalidInput(
                f"Redmine did not assign {task.key} as asked.", field_errors={"assignee_id": str(user_id)}
            )
        return task

    def delete_task(self, task_id: str) -> None:
        self.http.delete(f"issues/{segment(task_id)}.json")

    # --- comments ------------------------------------------------------------------------

    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        # Redmine returns every journal at once; paging happens here.
        return page_of(self._comments(task_id), page)

    def add_comment(self, task_id: str, body: str) -> Comment:
        if not body.strip():
            raise errors.InvalidInput("A comment needs text.", field_errors={"body": "cannot be blank"})
        self._put_issue(task_id, {"notes": body})
        # The update answers 204 with no body: find the journal entry it made.
        matching = [c for c in self._comments(task_id) if c.body.strip() == body.strip()]
        if not matching:
            raise errors.ProviderError(f"Redmine accepted the comment on #{task_id} but does not show it.")
        return matching[-1]

    def _comments(self, task_id: str) -> list[Comment]:
        issue = self._issue(task_id, include="journals")
        return parse_comments(issue, slug=self.slug, base_url=self.base_url)

    def _native_query_page(self, native_query: str, page: PageRequest) -> Page[Task]:
        pairs = native_params(native_query)
        try:
            return self._issue_page(pairs, page)
        except errors.NotFound:
            saved = next((value for key, value in pairs if key == "query_id"), None)
            if saved is not None:
                raise errors.NotFound(
                    f"Redmine has no saved query {saved} that this account can see. Its saved queries are "
                    f"listed at {self.base_url}/queries.json; or give the filter as a query string."
                ) from None
            raise errors.NotFound(
                "Redmine found nothing to query: a project, version or saved query the query names does "
                "not exist, or this account can't see it."
            ) from None

    # --- epics ---------------------------------------------------------------------------------

    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        raise errors.NotSupported(NO_EPICS)

    def get_epic(self, epic_id: str) -> Epic:
        raise errors.NotSupported(NO_EPICS)

    # --- internals -----------------------------------------------------------------------------

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
        trackers = self.trackers()
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
        body = self.http.get(f"projects/{segment(project_id)}/issue_categories.json")
        categories = body.get("issue_categories", [])
        for category in categories:
            if str(category.get("name", "")).lower() == labels[0].lower():
                return str(category["id"])
        choices = ", ".join(str(c.get("name")) for c in categories) or "none defined"
        raise errors.InvalidInput(
            f"The project has no issue category named {labels[0]!r}; its categories: {choices}.",
            field_errors={"labels": labels[0]},
        )
