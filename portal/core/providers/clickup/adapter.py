"""ClickUp API v2 behind the ProviderAdapter protocol."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date

from .. import errors
from ..base import (
    ME,
    Comment,
    Epic,
    HistoryEntry,
    Page,
    PageRequest,
    Priority,
    Project,
    Status,
    StatusCategory,
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
from .fields import ClickUpFields, update_writes
from .links import ClickUpLinks
from .parse import (
    NO_EPICS,
    NO_HISTORY,
    clickup_priorities,
    parse_project,
    parse_status,
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
from .sprints import ClickUpSprints
from .worklogs import ClickUpWorklogs

VENDOR_PAGE_SIZE = 100  # ClickUp's fixed task page size
COMMENT_PAGE_SIZE = 25  # ClickUp answers comments 25 at a time, newest first
FILTER_SCAN_PAGES = 5
"""Vendor task pages (of 100) one list_tasks call reads while filtering on our side; the cursor goes on."""
TASKS_CURSOR = "t"  # t:<vendor page>:<index on it>
VIEW_CURSOR = "v"  # v:<vendor page>:<index on it>, for a view's tasks
COMMENTS_CURSOR = "c"  # c:<date of the oldest comment seen>:<its id>:<how many of the next batch were shown>


class ClickUpAdapter(ClickUpSprints, ClickUpLinks, ClickUpWorklogs, ClickUpFields):
    """ClickUp (API v2, personal token) in one Workspace.

    ClickUp has no text search and no "unassigned", status-category or "blocked" filter:
    those run here, over a bounded number of vendor pages (FILTER_SCAN_PAGES). Sprint
    work lives in its own modules (sprints, links, worklogs, fields); ClickUp keeps no
    task history that its API shows.
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
    def get_task(self, task_id: str) -> Task:
        return self.parse_tasks([self.raw_task(task_id)])[0]

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        """Tasks of a List, a sprint, a view (`native_query`), or the whole Workspace, newest change first.

        Filters ClickUp lacks run here, reading at most FILTER_SCAN_PAGES vendor pages per
        call; the cursor carries on where the scan stopped. Page.total is None.
        """
        if query.native_query:
            return self._view_tasks(query.native_query.strip(), page)
        assignee = None
        if query.assignee:
            assignee = (
                self.current_user().id
                if query.assignee == ME
                else str(user_number(query.assignee, "assignee"))
            )
        scope = query.sprint_id or query.project_id
        params = task_list_params(query, assignee, in_list=bool(scope))
        sprint_ref = None
        if query.sprint_id:
            self.sprint_place(query.sprint_id)
            sprint_ref = make_ref(self.slug, query.sprint_id)
        where = path("list", scope, "task") if scope else path("team", self.team_id(), "task")
        keep = task_filter(query, self.slug)
        done: dict[str, bool] = {}  # what is known of blockers' states during this call
        if query.blocked:
            keep = self._blocked(keep, done)
        return self._scan(where, params, page, TASKS_CURSOR, keep, sprint_ref, done)

    def _blocked(self, keep: Callable[[Task], bool], done: dict[str, bool]) -> Callable[[Task], bool]:
        """`keep`, narrowed to tasks waiting on a task that is not done."""

        def blocked(task: Task) -> bool:
            return keep(task) and self.blocked_now(task.extra.get("waiting_on") or [], done)

        return blocked

    def _view_tasks(self, view_id: str, page: PageRequest) -> Page[Task]:
        """A ClickUp view's tasks, as the view filters and sorts them."""
        try:
            return self._scan(path("view", view_id, "task"), [], page, VIEW_CURSOR, keep_all, None, {})
        except errors.NotFound:
            raise errors.NotFound(
                f"ClickUp has no view {view_id!r} that this token can see. native_query takes a ClickUp view "
                "id: the last part of the view's address in ClickUp (…/v/l/<view id>)."
            ) from None

    def _scan(
        self,
        where: str,
        params: list[tuple[str, str]],
        page: PageRequest,
        kind: str,
        keep: Callable[[Task], bool],
        sprint_ref: str | None,
        done: dict[str, bool],
    ) -> Page[Task]:
        """Read vendor task pages from the cursor on, keeping what `keep` accepts, up to `page.limit`."""
        vendor_page, skip = cursor_numbers(page.cursor, 2, kind) or (0, 0)
        items: list[Task] = []
        scanned = 0
        while True:
            body = self.call("GET", where, params=[*params, ("page", str(vendor_page))])
            raw = body.get("tasks") or []
            last_page = body["last_page"] if isinstance(body.get("last_page"), bool) else not raw
            tasks = self.parse_tasks(raw, sprint_ref)
            for task in tasks:
                done[task.id] = task.status is not None and task.status.category == StatusCategory.DONE
            for index, task in enumerate(tasks[skip:], start=skip):
                if not keep(task):
                    continue
                if len(items) == page.limit:
                    return Page(items=items, next_cursor=make_cursor(vendor_page, index, kind=kind))
                items.append(task)
            scanned += 1
            if last_page:
                return Page(items=items)
            vendor_page, skip = vendor_page + 1, 0
            if len(items) == page.limit or (keep is not keep_all and scanned >= FILTER_SCAN_PAGES):
                return Page(items=items, next_cursor=make_cursor(vendor_page, 0, kind=kind))

    def available_statuses(self, task_id: str) -> list[Status]:
        """Every status of the task's List: ClickUp has no workflow restricting moves."""
        raw = self.raw_task(task_id)
        return self.list_statuses(str(raw["list"]["id"]))

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        body = create_task_body(draft, self.timezone())
        custom = self.custom_fields_for_create(project_id, draft.fields)  # refused before anything is created
        if custom:
            body["custom_fields"] = custom
        if draft.sprint_id:
            self.sprint_place(draft.sprint_id)
        created = self.call("POST", path("list", project_id, "task"), body=body)
        task_id = str(created["id"])
        if draft.sprint_id:
            self.call("POST", path("list", draft.sprint_id, "task", task_id))
        return self.get_task(task_id)

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        changed = changes.changed()
        body = update_task_body(changes, self.timezone())
        raw = self.raw_task(task_id) if changed.get("fields") or "sprint_id" in changed else None
        writes = []
        if raw is not None and changed.get("fields"):  # every value converted before the first write
            values = changed["fields"]
            tz = self.timezone() if any(isinstance(v, date) for v in values.values()) else UTC
            writes = update_writes(raw.get("custom_fields") or [], values, tz)
        if body:
            self.call("PUT", path("task", task_id), body=body)
        self.write_custom_fields(task_id, writes)
        if raw is not None and "sprint_id" in changed:
            self.move_task_to_sprint(raw, changes.sprint_id)
        return self.get_task(task_id)

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
        raw = self.raw_task(task_id)
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

    # --- history --------------------------------------------------------------------------------------
    def task_history(self, task_id: str, page: PageRequest) -> Page[HistoryEntry]:
        raise errors.NotSupported(NO_HISTORY)
