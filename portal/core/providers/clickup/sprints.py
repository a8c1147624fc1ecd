"""ClickUp sprints: the Lists of a sprint folder, read, created, started, closed, and tasks moved in and out.

A sprint is a List in a sprint folder of a Space with the Sprints ClickApp; its state
follows its dates (parse.sprint_state). Creating one adds a List to the Space's sprint
folder; starting one dates its start now; closing one first moves its open tasks out,
then ends it now. A task joins a sprint as one of its other Lists (Tasks in Multiple
Lists) and leaves by being removed from it: API v2 cannot move a task's home List.

ClickUp documents `due_date` on List writes and shows `start_date` on every List; the
start date is sent too and read back, and a write whose start date ClickUp did not keep
is undone and refused, never left half done.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from .. import errors
from ..base import (
    BACKLOG,
    MoveOutcome,
    Page,
    PageRequest,
    Sprint,
    SprintChanges,
    SprintDraft,
    SprintState,
)
from ..dates import END_OF_DAY, parse_millis, to_millis
from ..paging import page_of
from ..unset import UNSET
from .parse import ListPlace, is_done, is_sprint_folder, parse_sprint, place_from_list
from .query import path
from .workspace import ClickUpWorkspace

SPRINT_TASK_PAGES = 50
"""Vendor task pages (of 100) a sprint's tasks are read from at most when closing it."""
NO_START_KEPT = (
    "ClickUp did not keep the sprint's start date, so this server can't date ClickUp sprints in this "
    "Workspace. Set the sprint's dates in ClickUp (the sprint folder's settings), then use update_sprint "
    "for its name and goal."
)


# --- pure helpers ------------------------------------------------------------------------------


def day_millis(day: date, tz: tzinfo, *, end: bool = False) -> int:
    """The start (or the last second) of a calendar day in the user's time zone, in milliseconds."""
    return to_millis(datetime.combine(day, END_OF_DAY if end else time.min, tzinfo=tz))


def check_sprint_values(name: Any, start: date | None, end: date | None) -> None:
    """Refuse an empty name or an end before the start (InvalidInput), before anything is sent."""
    if name is not UNSET and (not isinstance(name, str) or not name.strip()):
        raise errors.InvalidInput("A sprint needs a name.", field_errors={"name": "must not be empty"})
    if start is not None and end is not None and end < start:
        raise errors.InvalidInput(
            "A sprint can't end before it starts.",
            field_errors={"end": f"{end.isoformat()} is before the start, {start.isoformat()}"},
        )


def sprint_list_body(
    name: str, goal: Any, start: int | None | Any, end: int | None | Any, *, time_of_day: bool = False
) -> dict[str, Any]:
    """A CreateList / UpdateList body; UNSET leaves a value out, None clears a date."""
    body: dict[str, Any] = {"name": name}
    if goal is not UNSET:
        body["content"] = goal or ""
    if start is not UNSET:
        body["start_date"] = start
        body["start_date_time"] = time_of_day
    if end is not UNSET:
        body["due_date"] = end
        body["due_date_time"] = time_of_day
    return body


def start_kept(sent: int | None, body: dict[str, Any]) -> bool:
    """Whether a List body ClickUp answered carries the start date that was sent."""
    kept = parse_millis(body.get("start_date"))
    if sent is None:
        return kept is None
    return kept is not None and abs(to_millis(kept) - sent) < 1000


class ClickUpSprints(ClickUpWorkspace):
    """Sprint reads and writes, and moving tasks between sprints and the backlog."""

    # --- reads -------------------------------------------------------------------------------
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

    # --- writes ------------------------------------------------------------------------------
    def _sprint_folder(self, project_id: str) -> dict[str, Any]:
        """The sprint folder of the project's Space, where new sprints go."""
        space = self.space_of_list(self.list_body(project_id))
        if space is None or not space.sprints:
            where = space.name if space else "this List's Space"
            raise errors.NotSupported(
                f"ClickUp Space {where!r} does not have the Sprints ClickApp turned on, so sprints can't be "
                "created there. Turn the Sprints ClickApp on for the Space in ClickUp, or plan in a Space "
                "that has it."
            )
        folder = next((f for f in self.folders(space.id) if is_sprint_folder(space, f)), None)
        if folder is None:
            raise errors.NotSupported(
                f"ClickUp Space {space.name!r} has no sprint folder yet. Create one in ClickUp (a Sprint "
                "Folder, from the Sprints ClickApp), then create sprints here."
            )
        return folder

    def _forget_sprints(self, space_id: str, list_id: str) -> None:
        """Drop the cached hierarchy a sprint write changed."""
        self.metadata.drop(("folders", space_id))
        self.metadata.drop(("list", list_id))

    def create_sprint(self, project_id: str, draft: SprintDraft) -> Sprint:
        """A new List in the project's sprint folder, dated by whole days in the user's time zone."""
        check_sprint_values(draft.name, draft.start, draft.end)
        folder = self._sprint_folder(project_id)
        tz = self.timezone()
        start = day_millis(draft.start, tz) if draft.start else None
        end = day_millis(draft.end, tz, end=True) if draft.end else None
        body = sprint_list_body(
            draft.name.strip(),
            draft.goal or UNSET,
            UNSET if start is None else start,
            UNSET if end is None else end,
        )
        created = self.call("POST", path("folder", str(folder["id"]), "list"), body=body)
        list_id = str(created["id"])
        space_id = str((created.get("space") or {}).get("id") or folder.get("space", {}).get("id") or "")
        self._forget_sprints(space_id, list_id)
        if start is not None and not start_kept(start, created):
            self.call("DELETE", path("list", list_id))
            raise errors.NotSupported(NO_START_KEPT)
        place = place_from_list(created, sprint=True)
        return parse_sprint(self.slug, place, self.team_id(), datetime.now(UTC))

    def update_sprint(self, sprint_id: str, changes: SprintChanges) -> Sprint:
        """Rename, re-goal or re-date a sprint; start it (dated from now) or close it (ended now)."""
        place = self.sprint_place(sprint_id)
        current = parse_sprint(self.slug, place, self.team_id(), datetime.now(UTC))
        changed = changes.changed()
        new_start, new_end = changed.get("start", UNSET), changed.get("end", UNSET)
        check_sprint_values(
            changed.get("name", UNSET),
            new_start if new_start is not UNSET else (current.start and current.start.date()),
            new_end if new_end is not UNSET else (current.end and current.end.date()),
        )
        tz = self.timezone()
        start: Any = UNSET if new_start is UNSET else (day_millis(new_start, tz) if new_start else None)
        end: Any = UNSET if new_end is UNSET else (day_millis(new_end, tz, end=True) if new_end else None)
        time_of_day = False
        state = changed.get("state", UNSET)
        if state not in (UNSET, SprintState.ACTIVE, SprintState.CLOSED):
            raise errors.InvalidInput(
                "A sprint's state can be set to active (start it) or closed (close it).",
                field_errors={"state": f"{state!r} is not one of: active, closed"},
            )
        now = datetime.now(UTC)
        if state == SprintState.ACTIVE and current.state != SprintState.ACTIVE:
            self._check_can_start(current, parse_millis(end) if end is not UNSET else current.end, now)
            start, time_of_day = to_millis(now), True
        elif state == SprintState.CLOSED and current.state != SprintState.CLOSED:
            if current.state != SprintState.ACTIVE:
                raise errors.InvalidInput(
                    f"Sprint {current.name!r} has not started ({current.state.value}); start it before "
                    "closing it, or change its dates."
                )
            self._move_open_tasks(place, changes.move_open_to)
            end, time_of_day = to_millis(now) - 1000, True  # ended a moment ago: closed from now on
        name = changed["name"].strip() if "name" in changed else place.list_name
        if start is not UNSET and start is not None:
            # The start date alone first: nothing else changes when ClickUp does not keep it.
            answer = self.call(
                "PUT",
                path("list", sprint_id),
                body=sprint_list_body(place.list_name, UNSET, start, UNSET, time_of_day=time_of_day),
            )
            if not start_kept(start, answer):
                self._forget_sprints(place.space_id, sprint_id)
                raise errors.NotSupported(NO_START_KEPT)
            start = UNSET
        body = sprint_list_body(name, changed.get("goal", UNSET), start, end, time_of_day=time_of_day)
        if len(body) > 1 or name != place.list_name:
            self.call("PUT", path("list", sprint_id), body=body)
        self._forget_sprints(place.space_id, sprint_id)
        return self.get_sprint(sprint_id)

    @staticmethod
    def _check_can_start(current: Sprint, ends: datetime | None, now: datetime) -> None:
        if current.state == SprintState.CLOSED:
            raise errors.InvalidInput(
                f"Sprint {current.name!r} is closed and can't be started again; create a new sprint."
            )
        if ends is None or ends <= now:
            raise errors.InvalidInput(
                f"Sprint {current.name!r} needs an end date after today to start; give `end` too.",
                field_errors={"end": "required to start this sprint"},
            )

    def _sprint_task_bodies(self, sprint_id: str) -> list[dict[str, Any]]:
        """Every task in the sprint List (its own and those planned in from other Lists)."""
        bodies: list[dict[str, Any]] = []
        for page in range(SPRINT_TASK_PAGES):
            params = [("include_timl", "true"), ("include_closed", "true"), ("subtasks", "true")]
            body = self.call("GET", path("list", sprint_id, "task"), params=[*params, ("page", str(page))])
            raw = body.get("tasks") or []
            bodies.extend(raw)
            last_page = body["last_page"] if isinstance(body.get("last_page"), bool) else not raw
            if last_page:
                break
        return bodies

    def _move_open_tasks(self, place: ListPlace, move_open_to: Any) -> None:
        """Move a closing sprint's open tasks to another sprint or the backlog, or refuse before any move."""
        open_tasks = [raw for raw in self._sprint_task_bodies(place.list_id) if not is_done(raw)]
        if not open_tasks:
            return
        if move_open_to in (UNSET, None, ""):
            raise errors.InvalidInput(
                f"Sprint {place.list_name!r} has {len(open_tasks)} open task(s); say where they go with "
                "move_open_to: another sprint, or the backlog.",
                field_errors={"move_open_to": "required: this sprint has open tasks"},
            )
        stuck = [
            str(raw["id"]) for raw in open_tasks if str((raw.get("list") or {}).get("id")) == place.list_id
        ]
        if stuck:
            raise errors.InvalidInput(
                f"Sprint {place.list_name!r} is the home List of open task(s) {', '.join(stuck[:10])}: ClickUp's "
                "API v2 can't move a task out of its home List. Move them in ClickUp, or mark them done, "
                "then close the sprint."
            )
        target = None if move_open_to == BACKLOG else str(move_open_to)
        if target == place.list_id:
            raise errors.InvalidInput(
                "A closing sprint's open tasks must go to another sprint or the backlog."
            )
        if target is not None:
            self._open_sprint(target)
        for raw in open_tasks:
            self.move_task_to_sprint(raw, target)

    def _open_sprint(self, sprint_id: str) -> ListPlace:
        """The sprint `sprint_id`; NotFound when it is none, InvalidInput when it is closed."""
        place = self.sprint_place(sprint_id)
        sprint = parse_sprint(self.slug, place, self.team_id(), datetime.now(UTC))
        if sprint.state == SprintState.CLOSED:
            raise errors.InvalidInput(
                f"Sprint {sprint.name!r} is closed; move tasks to a future or active sprint, or the backlog."
            )
        return place

    # --- moves -------------------------------------------------------------------------------
    def move_to_sprint(self, task_ids: list[str], sprint_id: str) -> list[MoveOutcome]:
        """Plan tasks into a sprint List, or take them out of every sprint (BACKLOG)."""
        target = None if sprint_id == BACKLOG else sprint_id
        if target is not None:
            self._open_sprint(target)
        outcomes = []
        for task_id in task_ids:
            try:
                self.move_task_to_sprint(self.raw_task(task_id), target)
            except errors.ProviderError as exc:
                outcomes.append(MoveOutcome(task_id=task_id, error=exc))
            else:
                outcomes.append(MoveOutcome(task_id=task_id))
        return outcomes

    def move_task_to_sprint(self, raw: dict[str, Any], sprint_id: str | None) -> None:
        """Put the task in sprint `sprint_id` (None: in no sprint) through its other Lists."""
        task_id = str(raw["id"])
        home_id = str(raw["list"]["id"])
        space_id = str((raw.get("space") or {}).get("id") or "")
        sprint_ids = self.sprint_list_ids(str(raw.get("team_id") or ""), space_id)
        if home_id in sprint_ids and home_id != sprint_id:
            raise errors.NotSupported(
                "This task's home List is a sprint; ClickUp's API v2 cannot move a task out of its home List. "
                "Move it in ClickUp."
            )
        others = [str(loc["id"]) for loc in raw.get("locations") or [] if isinstance(loc, dict)]
        if sprint_id and sprint_id != home_id and sprint_id not in others:
            self.sprint_place(sprint_id)
            self.call("POST", path("list", sprint_id, "task", task_id))
        for list_id in others:
            if list_id in sprint_ids and list_id != sprint_id:
                self.call("DELETE", path("list", list_id, "task", task_id))
