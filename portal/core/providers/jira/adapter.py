"""JIRA Cloud behind the ProviderAdapter protocol: REST v3 and Agile 1.0, Basic auth (email + API token)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .. import errors
from ..adf import markdown_to_adf
from ..base import (
    Comment,
    Epic,
    LinkKind,
    LinkType,
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
from ..dates import user_timezone
from ..paging import after, cursor_numbers, make_cursor, next_offset, offset_from, page_size, read_all
from .fields import JiraFields
from .history import JiraHistory
from .links import JiraLinks
from .parse import (
    is_epic_type,
    parse_comment,
    parse_epic,
    parse_issue,
    parse_priority,
    parse_project,
    parse_project_statuses,
    parse_sprint,
    parse_transition_targets,
    parse_user,
)
from .parse_work import parse_issue_links
from .query import (
    EPIC_DETAIL_FIELDS,
    EPIC_FIELDS,
    JQL_CATEGORY_NAMES,
    MAX_SEARCH_PAGE,
    TASK_DETAIL_FIELDS,
    TASK_FIELDS,
    build_task_jql,
    change_fields,
    draft_fields,
    epics_jql,
    keys_jql,
    one_parent,
    path,
    project_of_key,
    sprint_number,
)
from .search import JiraSearch
from .sprints import JiraSprints
from .worklogs import JiraWorklogs


class JiraAdapter(JiraSprints, JiraLinks, JiraWorklogs, JiraHistory, JiraFields, JiraSearch):
    """JIRA Cloud through REST v3 and Agile 1.0."""

    # --- projects ----------------------------------------------------------------------
    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        start = offset_from(page)
        params: dict[str, Any] = {
            "startAt": start,
            "maxResults": page_size(page, 100),
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

    def get_project(self, project_id: str) -> Project:
        return parse_project(self.project(project_id, fresh=True), self.slug, self.base_url)

    def list_statuses(self, project_id: str) -> list[Status]:
        data = self.http.get(f"/rest/api/3/project/{path(project_id)}/statuses")
        return parse_project_statuses(data, self.slug)

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        # Atlassian's document marks /priority/search deprecated, but its successor (priority
        # schemes) can't be asked for one project's priorities; this is the endpoint that can.
        params: dict[str, Any] = {"maxResults": 100}
        if project_id:
            params["projectId"] = str(self.project(project_id)["id"])

        def fetch(start: int) -> tuple[list[Any], int | None]:
            data = self.http.get("/rest/api/3/priority/search", params={**params, "startAt": start})
            values = data.get("values") or []
            return values, None if data.get("isLast", True) else start + len(values)

        return [p for raw in read_all(fetch, 0) if (p := parse_priority(raw)) is not None]

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

    # --- reading tasks ---------------------------------------------------------------------
    def _task_fields(self, *, detail: bool, story_points_field: str | None) -> list[str]:
        fields = list(TASK_DETAIL_FIELDS if detail else TASK_FIELDS)
        fields.extend(field for field in (self.sprint_field(), story_points_field) if field)
        return fields

    def _tasks_from(
        self, issues: list[dict[str, Any]], requested: Sequence[str], board_field: str | None = None
    ) -> list[Task]:
        """Parse issues, each with its story-point field (the sprint board's when a sprint is listed).

        A field the answer does not hold (an issue on a board whose field was not asked for)
        is fetched for those issues with one more search.
        """
        sprint_field = self.metadata.peek("sprint_field")
        field_by_key: dict[str, str | None] = {}
        missing: dict[str, list[str]] = {}
        # Issues in a sprint first: their boards' configurations name their projects' fields too,
        # so issues in no sprint rarely need their projects' boards asked for.
        in_sprint_first = sorted(
            issues, key=lambda raw: not (raw.get("fields") or {}).get(sprint_field or "")
        )
        for raw in in_sprint_first:
            fields = raw.get("fields") or {}
            field = board_field or self.issue_story_field(fields)
            field_by_key[raw["key"]] = field
            if field and field not in fields and field not in requested:
                missing.setdefault(field, []).append(raw["key"])
        if missing:
            keys = sorted({key for group in missing.values() for key in group})
            extra, _ = self._search(keys_jql(keys), list(missing), limit=len(keys))
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

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        """Tasks matching the query; `native_query` is JQL sent as it is, with no filter of ours.

        With `blocked`, JQL finds the tasks with a blocking link and this keeps those whose
        blocker is not done, so a page can hold fewer tasks than asked for.
        """
        limit = page_size(page, MAX_SEARCH_PAGE)
        fields, expand = self.read_fields(TASK_FIELDS)
        if query.native_query:
            data = self._search_page(query.native_query, fields, limit, page.cursor, expand)
            return self._page_of(data, fields)
        if query.categories and not query.categories & set(JQL_CATEGORY_NAMES):
            # Only UNKNOWN asked for: JIRA files practically every status under one of its three
            # categories, so this matches nothing here, as it does for the other providers.
            return Page([], next_cursor=None)
        zone = user_timezone(self.current_user().extra.get("timeZone")) if query.updated_since else None
        blocking = self.blocking_type() if query.blocked else None
        jql = build_task_jql(query, user_zone=zone, blocked_phrase=blocking.inward if blocking else None)
        if blocking:
            fields.append("issuelinks")
        data = self._search_page(jql, fields, limit, page.cursor, expand)
        result = self._page_of(data, fields, sprint_id=query.sprint_id)
        if blocking:
            issues = list(data.get("issues") or [])
            result.items = [task for task in result.items if self._blocked_by(task, issues, blocking)]
        return result

    def _page_of(
        self, data: Mapping[str, Any], fields: list[str], sprint_id: str | None = None
    ) -> Page[Task]:
        """A search answer as a page of tasks; in a sprint's list, each counts in the sprint board's points."""
        issues = list(data.get("issues") or [])
        if issues:  # an empty answer tells nothing of the site's fields
            self.learn_sprint_field(data.get("schema"))
        board_field = None
        if sprint_id and issues:
            known = self.metadata.peek(("sprint", str(sprint_id)))
            board_id = known[1] if known else self.sprint_board_in(issues, sprint_id)
            if board_id is not None:
                board_field = self.visible_board_field(board_id)
            elif not known:
                board_field = self.sprint_estimation_field(sprint_id)
        token = None if data.get("isLast") is True else data.get("nextPageToken")
        return Page(self._tasks_from(issues, fields, board_field), next_cursor=token)

    def _blocked_by(self, task: Task, issues: list[Mapping[str, Any]], blocking: LinkType) -> bool:
        """Whether a listed task is blocked now; its open blockers go in `extra["blocked_by"]`."""
        raw = next((issue for issue in issues if issue.get("key") == task.id), {})
        links = parse_issue_links(
            (raw.get("fields") or {}).get("issuelinks"), self.slug, self.base_url, task.id
        )
        blockers = [
            link.other_ref
            for link in links
            if link.extra.get("type_id") == blocking.id
            and link.kind == LinkKind.BLOCKED_BY
            and not link.other_done
        ]
        task.extra["blocked_by"] = blockers
        return bool(blockers)

    def get_task(self, task_id: str) -> Task:
        fields, expand = self.read_fields(TASK_DETAIL_FIELDS)
        raw = self._get_issue(task_id, fields, expand)
        sprint_field = self.learn_sprint_field(raw.get("schema"))
        values = raw.setdefault("fields", {})
        story_field = self.issue_story_field(values)
        if story_field and story_field not in values and story_field not in fields:
            values.update(self._get_issue(task_id, [story_field]).get("fields") or {})
        return parse_issue(
            raw, self.slug, self.base_url, sprint_field=sprint_field, story_points_field=story_field
        )

    def available_statuses(self, task_id: str) -> list[Status]:
        return parse_transition_targets(self._transitions(task_id), self.slug)

    def _transitions(self, task_id: str) -> Any:
        return self.http.get(f"/rest/api/3/issue/{path(task_id)}/transitions")

    # --- writing tasks ----------------------------------------------------------------------
    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        project = self.project(project_id)
        parent_key = one_parent(draft.parent_id, draft.epic_id)
        fields = draft_fields(draft)
        fields["project"] = {"key": project["key"]}
        fields["issuetype"] = {"id": self._issue_type_id(project, draft.type, parent_key)}
        if parent_key:
            fields["parent"] = {"key": parent_key}
        if draft.story_points is not None:
            fields[self.require_story_points_field(project["key"])] = draft.story_points
        if draft.sprint_id:
            fields[self.require_sprint_field()] = sprint_number(draft.sprint_id)
        fields.update(self.custom_field_values(draft.fields))
        created = self.http.post("/rest/api/3/issue", json={"fields": fields})
        self._remember_write(created.get("id"))
        return self.get_task(str(created["key"]))

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        changed = changes.changed()
        fields = change_fields(changes)
        if "story_points" in changed:
            project_key = project_of_key(task_id) or self._project_key_of(task_id)
            fields[self.require_story_points_field(project_key)] = changed["story_points"]
        fields.update(self.custom_field_values(changed.get("fields") or {}))
        if fields:
            self.http.put(f"/rest/api/3/issue/{path(task_id)}", json={"fields": fields})
        if "sprint_id" in changed:
            issues = {"issues": [task_id]}
            if changed["sprint_id"]:
                self.http.post(
                    f"/rest/agile/1.0/sprint/{sprint_number(changed['sprint_id'])}/issue", json=issues
                )
            else:
                self.http.post("/rest/agile/1.0/backlog/issue", json=issues)
        return self._written(task_id)

    def _project_key_of(self, task_id: str) -> str | None:
        project = ((self._get_issue(task_id, ["project"]).get("fields") or {}).get("project")) or {}
        return project.get("key")

    def _written(self, task_id: str) -> Task:
        task = self.get_task(task_id)
        self._remember_write(task.extra.get("issue_id"))
        return task

    def set_task_status(self, task_id: str, status: Status) -> Task:
        data = self._transitions(task_id)
        transitions = [t for t in (data or {}).get("transitions") or [] if t.get("isAvailable") is not False]

        def target(transition: Mapping[str, Any]) -> Mapping[str, Any]:
            return transition.get("to") or {}

        chosen = next((t for t in transitions if str(target(t).get("id")) == status.id), None) or next(
            (t for t in transitions if str(target(t).get("name", "")).lower() == status.name.lower()), None
        )
        if chosen is None:
            reachable = ", ".join(sorted({str(target(t).get("name")) for t in transitions})) or "none"
            raise errors.InvalidInput(
                f"JIRA's workflow has no transition from {task_id}'s current status to {status.name!r}.",
                field_errors={"status": f"reachable now: {reachable}"},
            )
        self.http.post(
            f"/rest/api/3/issue/{path(task_id)}/transitions", json={"transition": {"id": chosen["id"]}}
        )
        task = self._written(task_id)
        if task.status is None or task.status.id != str(target(chosen).get("id")):
            now = task.status.name if task.status else "an unknown status"
            raise errors.Conflict(
                f"JIRA accepted the transition to {status.name!r}, but {task_id} is now in {now!r} "
                "(a workflow rule may have moved it on)."
            )
        return task

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        self.http.put(f"/rest/api/3/issue/{path(task_id)}/assignee", json={"accountId": user_id})
        return self._written(task_id)

    def delete_task(self, task_id: str) -> None:
        self.http.delete(f"/rest/api/3/issue/{path(task_id)}")

    # --- comments ------------------------------------------------------------------------------
    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        start = offset_from(page)
        data = self.http.get(
            f"/rest/api/3/issue/{path(task_id)}/comment",
            params={"startAt": start, "maxResults": page_size(page, 100), "orderBy": "created"},
        )
        values = data.get("comments") or []
        comments = [parse_comment(raw, self.slug, self.base_url, task_id) for raw in values]
        total = data.get("total")
        cursor = next_offset(start, len(values), total) if isinstance(total, int) else None
        return Page(comments, next_cursor=cursor, total=total)

    def add_comment(self, task_id: str, body: str) -> Comment:
        data = self.http.post(
            f"/rest/api/3/issue/{path(task_id)}/comment", json={"body": markdown_to_adf(body)}
        )
        return parse_comment(data, self.slug, self.base_url, task_id)

    # --- sprints ------------------------------------------------------------------------------
    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        """The sprints of the project's scrum boards, board after board; the cursor is (board, startAt)."""
        boards = self.scrum_boards(project_id)
        board_ids = {str(board["id"]) for board in boards}
        position, start = cursor_numbers(page.cursor, 2) or (0, 0)
        project_ref = make_ref(self.slug, project_id.upper())
        params: dict[str, Any] = {"maxResults": page_size(page, 50)}
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
            cursor = make_cursor(position, start) if position < len(boards) else None
            if sprints or cursor is None:
                return Page(sprints, next_cursor=cursor)
        return Page([], next_cursor=None)

    def get_sprint(self, sprint_id: str) -> Sprint:
        data = self.http.get(f"/rest/agile/1.0/sprint/{path(sprint_id)}")
        board_id = data.get("originBoardId")
        project_key = self.board_project(str(board_id)) if board_id is not None else None
        project_ref = make_ref(self.slug, project_key) if project_key else None
        return parse_sprint(data, self.slug, self.base_url, project_ref)

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        board_field = self.sprint_estimation_field(sprint_id)
        fields = self._task_fields(detail=False, story_points_field=board_field)
        sprint_ref = make_ref(self.slug, self.sprint_identity(sprint_id)[0])

        def fetch(start: int) -> tuple[list[dict[str, Any]], int | None]:
            data = self.http.get(
                f"/rest/agile/1.0/sprint/{path(sprint_id)}/issue",
                params={"startAt": start, "maxResults": 100, "fields": ",".join(fields)},
            )
            values = data.get("issues") or []
            return values, after(start, len(values), data.get("total"))

        tasks = self._tasks_from(read_all(fetch, 0), fields, board_field)
        # In this sprint's burndown every task counts as this sprint's, whichever sprint it moved on to.
        return [replace(task, sprint_ref=sprint_ref) for task in tasks]

    # --- epics ----------------------------------------------------------------------------------
    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        limit = page_size(page, MAX_SEARCH_PAGE)
        issues, token = self._search(epics_jql(project_id), EPIC_FIELDS, limit, page.cursor)
        return Page([parse_epic(raw, self.slug, self.base_url) for raw in issues], next_cursor=token)

    def get_epic(self, epic_id: str) -> Epic:
        raw = self._get_issue(epic_id, EPIC_DETAIL_FIELDS)
        if not is_epic_type((raw.get("fields") or {}).get("issuetype")):
            raise errors.NotFound(f"JIRA issue {epic_id} is not an epic.")
        return parse_epic(raw, self.slug, self.base_url)
