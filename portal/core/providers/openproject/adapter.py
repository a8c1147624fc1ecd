"""OpenProject's API v3 behind the ProviderAdapter protocol."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

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
    is_number,
)
from ..paging import page_of, page_size
from .fields import OpenProjectFields
from .history import OpenProjectHistory
from .links import OpenProjectLinks
from .parse import (
    collection_elements,
    is_comment,
    is_epic_type,
    link_id,
    links_of,
    parse_comment,
    parse_epic,
    parse_priority,
    parse_project,
    parse_user,
)
from .query import (
    MAX_USER_PAGE_SIZE,
    duration,
    filter_of,
    filters_param,
    href,
    native_filters,
    next_page,
    page_number,
    parent_id,
    priority_href,
    story_points,
    task_filters,
    task_sort,
    work_package_path,
)
from .sprints import OpenProjectSprints
from .worklogs import OpenProjectWorklogs
from .workpackages import BY_ID


class OpenProjectAdapter(
    OpenProjectSprints, OpenProjectLinks, OpenProjectWorklogs, OpenProjectHistory, OpenProjectFields
):
    """OpenProject's operations: projects, work packages, comments (activities), epics; the sprint
    work (sprints, links, worklogs, history, fields) comes from the mixins it is built of."""

    # --- projects, statuses, priorities, people --------------------------------------------

    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        number, size = page_number(page), page_size(page, MAX_USER_PAGE_SIZE)
        params: dict[str, Any] = {"offset": number, "pageSize": size, "sortBy": BY_ID}
        if text:
            params["filters"] = filters_param(filter_of("name_and_identifier", "~", [text]))
        body = self.workspace_collection(params)
        projects = [
            parse_project(raw, slug=self.slug, base_url=self.base_url) for raw in collection_elements(body)
        ]
        return Page(projects, next_page(body, number, size), body.get("total"))

    def get_project(self, project_id: str) -> Project:
        if is_number(project_id) and self.metadata.peek("has_workspaces") is not False:
            # Through the workspaces collection, so programs and portfolios listed above resolve too.
            params = {"filters": filters_param(filter_of("id", "=", [project_id])), "pageSize": 1}
            body = self.workspace_collection(params, only_workspaces=True)
            if body is not None:
                found = collection_elements(body)
                if not found:
                    raise errors.NotFound(
                        f"OpenProject found no project {project_id} visible to this account."
                    )
                return parse_project(found[0], slug=self.slug, base_url=self.base_url)
        raw = self.http.get(f"api/v3/projects/{quote(project_id, safe='')}")
        return parse_project(raw, slug=self.slug, base_url=self.base_url)

    def list_statuses(self, project_id: str) -> list[Status]:
        # OpenProject's statuses are global; the workflow per type and role limits the moves.
        return list(self.status_table().values())

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        body = self.http.get("api/v3/priorities")
        return [parse_priority(raw) for raw in collection_elements(body) if raw.get("isActive", True)]

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        if project_id:
            body = self.in_workspace("GET", project_id, "available_assignees")
        else:
            body = self.http.get(
                "api/v3/principals", params={"filters": filters_param(filter_of("type", "=", ["User"]))}
            )
        users = [parse_user(raw, slug=self.slug, base_url=self.base_url) for raw in collection_elements(body)]
        if text:
            needle = text.lower()
            users = [
                user
                for user in users
                if needle in user.name.lower()
                or needle in (user.email or "").lower()
                or needle in str(user.extra.get("login") or "").lower()
            ]
        return users

    # --- tasks -------------------------------------------------------------------------

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        number, size = page_number(page), page_size(page, MAX_USER_PAGE_SIZE)
        paging = {"sortBy": task_sort(query), "offset": number, "pageSize": size}
        if query.native_query is not None:
            # The caller's own filter array, whole: no filter of ours is added to it.
            params = {"filters": native_filters(query.native_query), **paging}
            body = self.http.get("api/v3/work_packages", params=params)
            return Page(
                self._tasks_from(collection_elements(body)), next_page(body, number, size), body.get("total")
            )
        blocked: list[str] = []
        if query.blocked:
            blocked = sorted(self._blocked_ids(), key=lambda value: (len(value), value))
            if not blocked:
                return Page([], None, 0)

        def fetch(sprint_filter: str) -> Any:
            filters = task_filters(query, self.status_table(), lambda: sprint_filter)
            if filters is None:  # the status and category filters exclude every status
                return None
            if blocked:
                filters.append(filter_of("id", "=", blocked))
            params = {"filters": filters_param(*filters), **paging}
            if query.project_id:
                return self.in_workspace("GET", query.project_id, "work_packages", params=params)
            return self.http.get("api/v3/work_packages", params=params)

        body = self._sprint_filtered(fetch) if query.sprint_id else fetch("sprint")
        if body is None:
            return Page([], None, 0)
        tasks = self._tasks_from(collection_elements(body))
        return Page(tasks, next_page(body, number, size), body.get("total"))

    def get_task(self, task_id: str) -> Task:
        return self._tasks_from([self._get_work_package(task_id)])[0]

    def available_statuses(self, task_id: str) -> list[Status]:
        return self._allowed_statuses(task_id, self._get_work_package(task_id))

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        if draft.labels:
            raise errors.NotSupported("OpenProject work packages have no labels.")
        payload: dict[str, Any] = {"subject": draft.title}
        links: dict[str, Any] = {}
        if draft.description is not None:
            payload["description"] = {"raw": draft.description}
        if draft.type:
            links["type"] = {"href": self.type_href(project_id, draft.type)}
        if draft.priority is not None:
            links["priority"] = {"href": priority_href(draft.priority)}
        if draft.assignee_id:
            links["assignee"] = {"href": href("users", draft.assignee_id)}
        if draft.due is not None:
            payload["dueDate"] = draft.due.isoformat()
        if draft.estimate_hours is not None:
            payload["estimatedTime"] = duration(draft.estimate_hours)
        if draft.story_points is not None:
            payload["storyPoints"] = story_points(draft.story_points)
        parent = parent_id(draft.parent_id, draft.epic_id)
        if parent:
            links["parent"] = {"href": href("work_packages", parent)}
        if draft.sprint_id:
            links.update(self.sprint_links(draft.sprint_id))
        custom, custom_links = self._field_writes(project_id, draft.type, draft.fields)
        payload.update(custom)
        links.update(custom_links)
        if links:
            payload["_links"] = links
        body = self.in_workspace("POST", project_id, "work_packages", json=payload)
        return self._tasks_from([body])[0]

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        changed = changes.changed()
        if not changed:
            return self.get_task(task_id)
        payload: dict[str, Any] = {}
        links: dict[str, Any] = {}
        if "title" in changed:
            payload["subject"] = changed["title"]
        if "description" in changed:
            payload["description"] = {"raw": changed["description"] or ""}
        if "priority" in changed:
            priority = changed["priority"]
            links["priority"] = {"href": priority_href(priority) if priority is not None else None}
        if "due" in changed:
            payload["dueDate"] = changed["due"].isoformat() if changed["due"] is not None else None
        if "estimate_hours" in changed:
            hours = changed["estimate_hours"]
            payload["estimatedTime"] = duration(hours) if hours is not None else None
        if "story_points" in changed:
            points = changed["story_points"]
            payload["storyPoints"] = story_points(points) if points is not None else None
        if "parent_id" in changed or "epic_id" in changed:
            parent = parent_id(changed.get("parent_id"), changed.get("epic_id"))
            links["parent"] = {"href": href("work_packages", parent) if parent else None}
        if "sprint_id" in changed:
            links.update(self.sprint_links(changed["sprint_id"]))
        current = self._get_work_package(task_id)
        if changed.get("fields"):
            # The fields a work package can have depend on its project and type.
            current_links = links_of(current)
            project_id = link_id(current_links.get("project")) or ""
            task_type = current_links.get("type") or {}
            custom, custom_links = self._field_writes(
                project_id, task_type.get("title"), changed["fields"], task_type.get("href")
            )
            payload.update(custom)
            links.update(custom_links)
        if links:
            payload["_links"] = links
        return self._tasks_from([self._patch_work_package(task_id, payload, current)])[0]

    def set_task_status(self, task_id: str, status: Status) -> Task:
        current = self._get_work_package(task_id)
        allowed = self._allowed_statuses(task_id, current)
        target = next((s for s in allowed if s.id == status.id), None) or next(
            (s for s in allowed if s.name.lower() == status.name.lower()), None
        )
        if target is None:
            names = ", ".join(s.name for s in allowed) or "none"
            raise errors.InvalidInput(
                f"OpenProject's workflow does not allow work package #{task_id} to move to {status.name!r}.",
                field_errors={"status": f"choose one of: {names}"},
            )
        payload = {"_links": {"status": {"href": href("statuses", target.id)}}}
        # The PATCH answers with the saved work package: that is the read-back of the change.
        task = self._tasks_from([self._patch_work_package(task_id, payload, current)])[0]
        if task.status is None or task.status.id != target.id:
            shown = task.status.name if task.status else "no status"
            raise errors.Conflict(
                f"OpenProject kept work package #{task_id} in {shown} instead of moving it to {target.name}."
            )
        return task

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        assignee = href("users", user_id) if user_id else None
        body = self._patch_work_package(task_id, {"_links": {"assignee": {"href": assignee}}})
        return self._tasks_from([body])[0]

    def delete_task(self, task_id: str) -> None:
        self.http.delete(work_package_path(task_id))

    # --- comments ----------------------------------------------------------------------

    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        # The activities endpoint is not paged: it answers with the whole history.
        comments = [
            parse_comment(raw, slug=self.slug, base_url=self.base_url, task_id=task_id)
            for raw in self._activities(task_id)
            if is_comment(raw)
        ]
        return page_of(comments, page)

    def add_comment(self, task_id: str, body: str) -> Comment:
        created = self.http.post(f"{work_package_path(task_id)}/activities", json={"comment": {"raw": body}})
        if not isinstance(created, Mapping) or "id" not in created:
            raise errors.ProviderError("OpenProject accepted the comment but did not return it.")
        return parse_comment(created, slug=self.slug, base_url=self.base_url, task_id=task_id)

    # --- epics -------------------------------------------------------------------------------

    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        type_ids = [str(raw["id"]) for raw in self.types(project_id) if is_epic_type(raw.get("name"))]
        if not type_ids:
            return Page([], None, 0)
        number, size = page_number(page), page_size(page, MAX_USER_PAGE_SIZE)
        params = {
            "filters": filters_param(filter_of("type", "=", type_ids)),  # open and closed epics alike
            "sortBy": BY_ID,
            "offset": number,
            "pageSize": size,
        }
        body = self.in_workspace("GET", project_id, "work_packages", params=params)
        statuses = self.status_table()
        epics = [
            parse_epic(raw, slug=self.slug, base_url=self.base_url, statuses=statuses)
            for raw in collection_elements(body)
        ]
        return Page(epics, next_page(body, number, size), body.get("total"))

    def get_epic(self, epic_id: str) -> Epic:
        raw = self._get_work_package(epic_id)
        if not is_epic_type((links_of(raw).get("type") or {}).get("title")):
            raise errors.NotFound(f"OpenProject work package #{epic_id} is not an Epic.")
        return parse_epic(raw, slug=self.slug, base_url=self.base_url, statuses=self._statuses_for([raw]))
