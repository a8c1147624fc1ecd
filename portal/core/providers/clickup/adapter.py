"""ClickUp API v2 behind the ProviderAdapter protocol."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .. import errors
from ..base import (
    ME,
    Comment,
    Epic,
    Page,
    PageRequest,
    Priority,
    Project,
    Sprint,
    SprintState,
    Status,
    Task,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    User,
    make_ref,
)
from ..dates import parse_millis
from ..paging import cursor_numbers, make_cursor, page_of
from .comments import parse_comment
from .parse import (
    NO_EPICS,
    clickup_priorities,
    parse_project,
    parse_sprint,
    parse_status,
    parse_task,
    parse_user,
    place_from_list,
)
from .query import (
    create_task_body,
    keep_all,
    path,
    task_filter,
    task_list_params,
    update_task_body,
    user_number,
)
from .workspace import ClickUpWorkspace

VENDOR_PAGE_SIZE = 100  # ClickUp's fixed task page size
COMMENT_PAGE_SIZE = 25  # ClickUp answers comments 25 at a time, newest first
FILTER_SCAN_PAGES = 5
"""Vendor task pages (of 100) one list_tasks call reads while filtering on our side; the cursor goes on."""
TASKS_CURSOR = "t"  # t:<vendor page>:<index on it>
COMMENTS_CURSOR = "c"  # c:<date of the oldest comment seen>:<its id>:<how many of the next batch were shown>


class ClickUpAdapter(ClickUpWorkspace):
    """ClickUp (API v2, personal token) in one Workspace.

    ClickUp has no text search and no "unassigned" or status-category filter:
    those run here, over a bounded number of vendor pages (FILTER_SCAN_PAGES).
    """

    # --- projects ------------------------------------------------------------------------------
    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        team_id = self.team_id()
        places = [place for place in self.places(team_id) if not place.sprint]
        if text:
            needle = text.lower()
            places = [place for place in places if needle in place.path.lower()]
        return page_of([parse_project(self.slug, place, team_id) for place in places], page)

    def get_project(self, project_id: str) -> Project:
        body = self.list_body(project_id, fresh=True)
        return parse_project(self.slug, place_from_list(body), self.team_id())

    def list_statuses(self, project_id: str) -> list[Status]:
        body = self.list_body(project_id)
        return [parse_status(self.slug, status) for status in body.get("statuses") or []]

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        return clickup_priorities()

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        if project_id:
            members = self.call("GET", path("list", project_id, "member")).get("members") or []
        else:
            team_id = self.team_id()
            team = next((t for t in self.teams() if str(t["id"]) == team_id), None)
            if team is None:
                raise errors.NotFound(f"This ClickUp token does not see Workspace {team_id}.")
            members = team.get("members") or []
        users = [parse_user(self.slug, member) for member in members if isinstance(member, dict)]
        if text:
            needle = text.lower()
            users = [u for u in users if needle in u.name.lower() or needle in (u.email or "").lower()]
        return users

    # --- tasks ----------------------------------------------------------------------------------
    def _parse_tasks(self, raw: Iterable[dict[str, Any]], sprint_ref: str | None = None) -> list[Task]:
        tz = self.timezone()
        tasks = []
        for data in raw:
            space_id = str((data.get("space") or {}).get("id") or "")
            sprint_ids = self.sprint_list_ids(str(data.get("team_id") or ""), space_id)
            task = parse_task(self.slug, data, tz=tz, sprint_list_ids=sprint_ids)
            if sprint_ref:
                task.sprint_ref = sprint_ref
            tasks.append(task)
        return tasks

    def _raw_task(self, task_id: str) -> dict[str, Any]:
        return self.call("GET", path("task", task_id), params={"include_markdown_description": "true"})

    def get_task(self, task_id: str) -> Task:
        return self._parse_tasks([self._raw_task(task_id)])[0]

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        """Tasks of a List, a sprint, or the whole Workspace, newest change first by default.

        Filters ClickUp lacks run here, reading at most FILTER_SCAN_PAGES vendor pages per
        call; the cursor carries on where the scan stopped. Page.total is None.
        """
        assignee = None
        if query.assignee:
            assignee = (
                self.current_user().id
                if query.assignee == ME
                else str(user_number(query.assignee, "assignee"))
            )
        scope = query.sprint_id or query.project_id
        params = task_list_params(query, assignee, in_list=bool(scope))
        vendor_page, skip = cursor_numbers(page.cursor, 2, TASKS_CURSOR) or (0, 0)
        sprint_ref = None
        if query.sprint_id:
            self.sprint_place(query.sprint_id)
            sprint_ref = make_ref(self.slug, query.sprint_id)
        where = path("list", scope, "task") if scope else path("team", self.team_id(), "task")
        keep = task_filter(query, self.slug)
        items: list[Task] = []
        scanned = 0
        while True:
            body = self.call("GET", where, params=[*params, ("page", str(vendor_page))])
            raw = body.get("tasks") or []
            last_page = body["last_page"] if isinstance(body.get("last_page"), bool) else not raw
            for index, task in enumerate(self._parse_tasks(raw[skip:], sprint_ref), start=skip):
                if not keep(task):
                    continue
                if len(items) == page.limit:
                    return Page(items=items, next_cursor=make_cursor(vendor_page, index, kind=TASKS_CURSOR))
                items.append(task)
            scanned += 1
            if last_page:
                return Page(items=items)
            vendor_page, skip = vendor_page + 1, 0
            if len(items) == page.limit or (keep is not keep_all and scanned >= FILTER_SCAN_PAGES):
                return Page(items=items, next_cursor=make_cursor(vendor_page, 0, kind=TASKS_CURSOR))

    def available_statuses(self, task_id: str) -> list[Status]:
        """Every status of the task's List: ClickUp has no workflow restricting moves."""
        raw = self._raw_task(task_id)
        return self.list_statuses(str(raw["list"]["id"]))

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        body = create_task_body(draft, self.timezone())
        if draft.sprint_id:
            self.sprint_place(draft.sprint_id)  # refuse before anything is created
        created = self.call("POST", path("list", project_id, "task"), body=body)
        task_id = str(created["id"])
        if draft.sprint_id:
            self.call("POST", path("list", draft.sprint_id, "task", task_id))
        return self.get_task(task_id)

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        body = update_task_body(changes, self.timezone())
        if body:
            self.call("PUT", path("task", task_id), body=body)
        if "sprint_id" in changes.changed():
            self._move_to_sprint(self._raw_task(task_id), changes.sprint_id)
        return self.get_task(task_id)

    def _move_to_sprint(self, raw: dict[str, Any], sprint_id: str | None) -> None:
        """Put the task in sprint `sprint_id` (None: in no sprint) through its additional Lists."""
        task_id = str(raw["id"])
        home_id = str(raw["list"]["id"])
        space_id = str((raw.get("space") or {}).get("id") or "")
        sprint_ids = self.sprint_list_ids(str(raw.get("team_id") or ""), space_id)
        if home_id in sprint_ids and home_id != sprint_id:
            raise errors.NotSupported(
                "This task's home List is a sprint; ClickUp's API v2 cannot move a task out of its home List."
            )
        others = [str(loc["id"]) for loc in raw.get("locations") or [] if isinstance(loc, dict)]
        if sprint_id and sprint_id != home_id and sprint_id not in others:
            self.sprint_place(sprint_id)
            self.call("POST", path("list", sprint_id, "task", task_id))
        for list_id in others:
            if list_id in sprint_ids and list_id != sprint_id:
                self.call("DELETE", path("list", list_id, "task", task_id))

    def set_task_status(self, task_id: str, status: Status) -> Task:
        self.call("PUT", path("task", task_id), body={"status": status.name})
        task = self.get_task(task_id)
        if task.status is None or task.status.name.lower() != status.name.lower():
            shown = task.status.name if task.status else "no status"
            raise errors.Conflict(
                f"ClickUp kept the task in {shown!r} instead of moving it to {status.name!r}."
            )
        return task

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        raw = self._raw_task(task_id)
        current = [int(user["id"]) for user in raw.get("assignees") or []]
        wanted = user_number(user_id, "user_id") if user_id else None
        change = {
            "add": [wanted] if wanted is not None and wanted not in current else [],
            "rem": [uid for uid in current if uid != wanted],
        }
        if change["add"] or change["rem"]:
            self.call("PUT", path("task", task_id), body={"assignees": change})
        return self.get_task(task_id)

    def delete_task(self, task_id: str) -> None:
        self.call("DELETE", path("task", task_id))

    # --- comments -------------------------------------------------------------------------------
    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        """Comments newest first. ClickUp pages by the date and id of the oldest comment seen."""
        start, start_id, skip = cursor_numbers(page.cursor, 3, COMMENTS_CURSOR) or (0, 0, 0)
        items: list[Comment] = []
        while True:
            params = {"start": str(start), "start_id": str(start_id)} if start_id else None
            raw = self.call("GET", path("task", task_id, "comment"), params=params).get("comments") or []
            batch = raw[skip:]
            room = page.limit - len(items)
            if len(batch) > room:
                items.extend(parse_comment(self.slug, c) for c in batch[:room])
                return Page(
                    items=items, next_cursor=make_cursor(start, start_id, skip + room, kind=COMMENTS_CURSOR)
                )
            items.extend(parse_comment(self.slug, c) for c in batch)
            if len(raw) < COMMENT_PAGE_SIZE:
                return Page(items=items)
            oldest = raw[-1]
            start, start_id, skip = int(oldest["date"]), int(oldest["id"]), 0
            if len(items) == page.limit:
                return Page(items=items, next_cursor=make_cursor(start, start_id, 0, kind=COMMENTS_CURSOR))

    def add_comment(self, task_id: str, body: str) -> Comment:
        # API v2 takes comment text only; Markdown is kept as written and read back as such.
        created = self.call(
            "POST", path("task", task_id, "comment"), body={"comment_text": body, "notify_all": False}
        )
        comment_id = str(created["id"])
        return Comment(
            ref=make_ref(self.slug, comment_id),
            id=comment_id,
            body=body,
            author=self.current_user(),
            created_at=parse_millis(created.get("date")),
        )

    # --- sprints --------------------------------------------------------------------------------
    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        """The sprints of the Space the project's List is in."""
        space = self.space_of_list(self.list_body(project_id))
        if space is None or not space.sprints:
            where = space.name if space else "this List's Space"
            raise errors.NotSupported(
                f"ClickUp Space {where!r} does not have the Sprints ClickApp turned on, so it has no sprints."
            )
        team_id = self.team_id()
        now = datetime.now(UTC)
        sprints = [parse_sprint(self.slug, place, team_id, now) for place in self.sprint_places(space)]
        if state is not None:
            sprints = [sprint for sprint in sprints if sprint.state == state]
        sprints.sort(key=lambda s: s.start or datetime.min.replace(tzinfo=UTC), reverse=True)
        return page_of(sprints, page)

    def get_sprint(self, sprint_id: str) -> Sprint:
        place = self.sprint_place(sprint_id)
        return parse_sprint(self.slug, place, self.team_id(), datetime.now(UTC))

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        tasks: list[Task] = []
        cursor = None
        while True:
            result = self.list_tasks(
                TaskQuery(sprint_id=sprint_id), PageRequest(limit=VENDOR_PAGE_SIZE, cursor=cursor)
            )
            tasks.extend(result.items)
            cursor = result.next_cursor
            if not cursor:
                return tasks

    # --- epics ------------------------------------------------------------------------------------
    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        raise errors.NotSupported(NO_EPICS)

    def get_epic(self, epic_id: str) -> Epic:
        raise errors.NotSupported(NO_EPICS)
