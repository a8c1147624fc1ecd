"""JIRA sprint writes through Agile 1.0: create, change, start and close sprints, and move issues
between sprints and the backlog.

A sprint lives on a scrum board (its `originBoardId`): a new one goes on the project's first
scrum board. Closing a sprint moves its open issues first, where the caller says, so JIRA's
own close (which sends them to the backlog) never decides for them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import errors
from ..base import BACKLOG, MoveOutcome, Sprint, SprintChanges, SprintDraft, SprintState, make_ref
from ..dates import parse_date
from ..paging import read_all
from .parse import SPRINT_STATE_BY_NAME, parse_sprint
from .query import open_in_sprint_jql, path, sprint_dates, sprint_name, sprint_number
from .search import JiraSearch

MOVE_BATCH = 50  # JIRA moves at most 50 issues a request
OPEN_ISSUES_PAGE = 100


class JiraSprints(JiraSearch):
    """create_sprint, update_sprint and move_to_sprint."""

    def _sprint_project_ref(self, raw: dict[str, Any]) -> str | None:
        board_id = raw.get("originBoardId")
        project_key = self.board_project(str(board_id)) if board_id is not None else None
        return make_ref(self.slug, project_key) if project_key else None

    def create_sprint(self, project_id: str, draft: SprintDraft) -> Sprint:
        body: dict[str, Any] = {"name": sprint_name(draft.name), **sprint_dates(draft.start, draft.end)}
        if draft.goal:
            body["goal"] = draft.goal
        boards = self.scrum_boards(project_id)
        if not boards:
            raise errors.NotSupported(
                f"JIRA project {project_id.upper()} has no scrum board, so it has no sprints: create a scrum "
                "board for it in JIRA (a kanban board has no sprints), or plan with fix versions there."
            )
        body["originBoardId"] = int(boards[0]["id"])
        raw = self.http.post("/rest/agile/1.0/sprint", json=body)
        sprint_id = str(raw["id"])
        self.metadata.put(("sprint", sprint_id), (sprint_id, str(body["originBoardId"])))
        return parse_sprint(raw, self.slug, self.base_url, make_ref(self.slug, project_id.upper()))

    def update_sprint(self, sprint_id: str, changes: SprintChanges) -> Sprint:
        number = sprint_number(sprint_id)
        current = self.http.get(f"/rest/agile/1.0/sprint/{number}")
        changed = changes.changed()
        body: dict[str, Any] = {}
        if "name" in changed:
            body["name"] = sprint_name(changed["name"])
        if "goal" in changed:
            body["goal"] = changed["goal"] or ""
        body.update(self._date_changes(current, changed))
        state = changed.get("state")
        if state is not None and state != _state_of(current):
            body["state"] = self._state_change(current, state, changed, body)
        if not body:
            return parse_sprint(current, self.slug, self.base_url, self._sprint_project_ref(current))
        raw = self.http.post(f"/rest/agile/1.0/sprint/{number}", json=body)
        return parse_sprint(raw, self.slug, self.base_url, self._sprint_project_ref(raw))

    @staticmethod
    def _date_changes(current: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
        """The start and end dates to send, checked against the ones the sprint keeps."""
        if "start" not in changed and "end" not in changed:
            return {}
        start = changed["start"] if "start" in changed else _day(current.get("startDate"))
        end = changed["end"] if "end" in changed else _day(current.get("endDate"))
        dates = sprint_dates(start, end)
        body: dict[str, Any] = {}
        for name, key in (("start", "startDate"), ("end", "endDate")):
            if name in changed:
                body[key] = dates.get(key)
        return body

    def _state_change(
        self, current: dict[str, Any], state: Any, changed: dict[str, Any], body: dict[str, Any]
    ) -> str:
        """The state to send for a start or a close; a close first moves the sprint's open issues."""
        now = _state_of(current)
        name = current.get("name") or current.get("id")
        if state == SprintState.ACTIVE:
            if now != SprintState.FUTURE:
                raise errors.InvalidInput(
                    f"JIRA sprint {name!r} is {now.value}: only a future sprint can start.",
                    field_errors={"state": f"{now.value} sprint"},
                )
            has_start = body.get("startDate") or ("startDate" not in body and current.get("startDate"))
            has_end = body.get("endDate") or ("endDate" not in body and current.get("endDate"))
            if not (has_start and has_end):
                raise errors.InvalidInput(
                    f"JIRA starts a sprint only with a start and an end date: give both to start {name!r}.",
                    field_errors={"start": "needed", "end": "needed"},
                )
            return "active"
        if state == SprintState.CLOSED:
            if now != SprintState.ACTIVE:
                raise errors.InvalidInput(
                    f"JIRA sprint {name!r} is {now.value}: only an active sprint can close "
                    "(start it first, or leave it for later).",
                    field_errors={"state": f"{now.value} sprint"},
                )
            self._move_open_issues(int(current["id"]), str(name), changed.get("move_open_to"))
            return "closed"
        raise errors.InvalidInput(
            "A sprint's state can only change to active (start it) or closed (close it).",
            field_errors={"state": str(state)},
        )

    def _move_open_issues(self, number: int, name: str, target: Any) -> None:
        def fetch(token: str | None) -> tuple[list[dict[str, Any]], str | None]:
            return self._search(open_in_sprint_jql(number), ["status"], OPEN_ISSUES_PAGE, token or None)

        keys = [str(raw["key"]) for raw in read_all(fetch, "")]
        if not keys:
            return
        if target is None or target == "":
            raise errors.InvalidInput(
                f"JIRA sprint {name!r} has {len(keys)} open issue(s): say where they go when it closes "
                "(another sprint, or the backlog).",
                field_errors={"move_open_to": "required: a sprint or the backlog"},
            )
        if str(target) == str(number):
            raise errors.InvalidInput(
                "The open issues of a closing sprint can't stay in it: name another sprint or the backlog.",
                field_errors={"move_open_to": "the sprint being closed"},
            )
        if target != BACKLOG:
            self._open_target(str(target))
        for start in range(0, len(keys), MOVE_BATCH):
            self._post_move(keys[start : start + MOVE_BATCH], str(target))

    def _open_target(self, sprint_id: str) -> int:
        """A sprint issues can move into: NotFound for none, InvalidInput for a closed one."""
        number = sprint_number(sprint_id)
        raw = self.http.get(f"/rest/agile/1.0/sprint/{number}")
        if _state_of(raw) == SprintState.CLOSED:
            raise errors.InvalidInput(
                f"JIRA sprint {raw.get('name') or number!r} is closed and takes no issues: choose a future "
                "or active sprint, or the backlog.",
                field_errors={"sprint": "closed"},
            )
        return number

    def _post_move(self, keys: list[str], target: str) -> None:
        if target == BACKLOG:
            self.http.post("/rest/agile/1.0/backlog/issue", json={"issues": keys})
        else:
            self.http.post(f"/rest/agile/1.0/sprint/{path(target)}/issue", json={"issues": keys})

    def move_to_sprint(self, task_ids: list[str], sprint_id: str) -> list[MoveOutcome]:
        """Moves in batches of 50; a batch JIRA refuses is retried issue by issue, so each gets its own outcome."""
        target = BACKLOG if sprint_id == BACKLOG else str(self._open_target(sprint_id))
        outcomes: list[MoveOutcome] = []
        for start in range(0, len(task_ids), MOVE_BATCH):
            batch = task_ids[start : start + MOVE_BATCH]
            try:
                self._post_move(batch, target)
            except (errors.InvalidInput, errors.NotFound, errors.PermissionDenied):
                for task_id in batch:
                    try:
                        self._post_move([task_id], target)
                    except (errors.InvalidInput, errors.NotFound, errors.PermissionDenied) as exc:
                        outcomes.append(MoveOutcome(task_id, exc))
                    else:
                        outcomes.append(MoveOutcome(task_id))
            else:
                outcomes.extend(MoveOutcome(task_id) for task_id in batch)
        return outcomes


def _state_of(raw: dict[str, Any]) -> SprintState:
    return SPRINT_STATE_BY_NAME.get(str(raw.get("state", "")).lower(), SprintState.UNKNOWN)


def _day(value: Any) -> date | None:
    return parse_date(value)
