"""Running sprints: create_sprint, update_sprint (start, close) and move_to_sprint."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from portal.core.providers.base import BACKLOG, MoveOutcome, SprintChanges, SprintDraft, SprintState

from ..connections import UserConnections
from . import shapes
from .context import connections_of, explain_provider_error, note
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset
from .tasks import same_connection

MAX_MOVE = 50

toolset = Toolset()


def _dates_in_order(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ValueError(f"the end ({end}) is before the start ({start})")


class CreateSprintArgs(ToolInput):
    project: str = Field(description="Project ref (for JIRA, the sprint goes on the project's scrum board).")
    name: str = Field(min_length=1, max_length=255)
    start: date | None = Field(None, description="First day, YYYY-MM-DD.")
    end: date | None = Field(None, description="Last day, YYYY-MM-DD.")
    goal: str | None = Field(None, max_length=4000, description="What the sprint is for.")

    @model_validator(mode="after")
    def _ordered(self) -> CreateSprintArgs:
        _dates_in_order(self.start, self.end)
        return self


class SprintChanged(ToolOutput):
    sprint: shapes.SprintOut
    message: str

    def text(self) -> str:
        s = self.sprint
        dates = f" {s.start:%Y-%m-%d} to {s.end:%Y-%m-%d}" if s.start and s.end else ""
        return f"{self.message}\n{s.ref} {s.name} [{s.state}]{dates}"


class UpdateSprintArgs(ToolInput):
    sprint: str = Field(description="Sprint ref.")
    name: str | None = Field(None, min_length=1, max_length=255)
    goal: str | None = Field(None, max_length=4000, description="null clears it.")
    start: date | None = Field(None, description="First day, YYYY-MM-DD; null clears it.")
    end: date | None = Field(None, description="Last day, YYYY-MM-DD; null clears it.")
    state: Literal["active", "closed"] | None = Field(
        None, description="active starts a future sprint; closed closes the active one."
    )
    move_open_to: str | None = Field(
        None,
        description="When closing: where its unfinished tasks go, another sprint's ref or 'backlog'. "
        "Required when the sprint has unfinished tasks.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> UpdateSprintArgs:
        _dates_in_order(self.start, self.end)
        if self.move_open_to is not None and self.state != "closed":
            raise ValueError("move_open_to is only for closing a sprint: give state 'closed' with it")
        return self


class MoveToSprintArgs(ToolInput):
    tasks: list[str] = Field(
        min_length=1, max_length=MAX_MOVE, description=f"Task refs, 1 to {MAX_MOVE}, of one connection."
    )
    sprint: str = Field(description="A sprint ref, or 'backlog' to take the tasks out of every sprint.")


class MoveResultOut(BaseModel):
    task: str
    moved: bool
    error: str | None = None


class MovedToSprint(ToolOutput):
    sprint: str
    moved: int
    failed: int
    results: list[MoveResultOut] = Field(description="One per task, in the order given")

    def text(self) -> str:
        where = "the backlog" if self.sprint == BACKLOG else self.sprint
        head = f"Moved {self.moved} of {len(self.results)} tasks to {where}."
        failures = [f"! {r.task}: {r.error}" for r in self.results if not r.moved]
        return "\n".join([head, *failures])


@toolset.tool("create_sprint", title="Create a sprint", read_only=False)
async def create_sprint(call: ToolCall, args: CreateSprintArgs) -> SprintChanged:
    """Create a future sprint in a project, with optional start and end days and a goal. Start it with
    update_sprint (state 'active'); fill it with move_to_sprint."""
    conns = await connections_of(call)
    view, project_id = conns.resolve(args.project, "project")
    note(call, view, args.project)
    draft = SprintDraft(name=args.name, start=args.start, end=args.end, goal=args.goal)
    sprint = await conns.run(view, lambda a: a.create_sprint(project_id, draft))
    call.target = sprint.ref
    return SprintChanged(sprint=shapes.sprint(sprint), message=f"Created sprint {sprint.ref}.")


@toolset.tool("update_sprint", title="Change, start or close a sprint", read_only=False)
async def update_sprint(call: ToolCall, args: UpdateSprintArgs) -> SprintChanged:
    """Rename a sprint, change its goal or dates, start it (state 'active') or close it (state 'closed',
    with move_open_to: another sprint's ref or 'backlog' for its unfinished tasks). Only what is given
    changes; null clears the goal or a date."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.sprint, "sprint")
    note(call, view, args.sprint)
    given = args.model_fields_set - {"sprint"}
    if not given:
        raise ToolFailure("Nothing to change: give name, goal, start, end or state.")
    if "name" in given and args.name is None:
        raise ToolFailure("A sprint's name can't be cleared.")
    changes: dict[str, Any] = {
        name: getattr(args, name) for name in ("name", "goal", "start", "end") if name in given
    }
    if args.state:
        changes["state"] = SprintState(args.state)
    if args.move_open_to is not None:
        changes["move_open_to"] = _destination(conns, view, args.move_open_to)
    sprint_changes = SprintChanges(**changes)
    sprint = await conns.run(view, lambda a: a.update_sprint(native, sprint_changes))
    verb = {"active": "Started", "closed": "Closed"}.get(args.state or "", "Updated")
    return SprintChanged(sprint=shapes.sprint(sprint), message=f"{verb} sprint {sprint.ref}.")


def _destination(conns: UserConnections, view, value: str) -> str:
    """A sprint's native id in the same connection, or BACKLOG."""
    if value.strip().lower() == BACKLOG:
        return BACKLOG
    other, native = conns.resolve(value, "sprint")
    same_connection(view, other, "sprint")
    return native


@toolset.tool("move_to_sprint", title="Move tasks to a sprint", read_only=False)
async def move_to_sprint(call: ToolCall, args: MoveToSprintArgs) -> MovedToSprint:
    """Move up to 50 tasks into a sprint, or to the backlog (sprint 'backlog'). Each task gets its own
    result: a task that can't move is reported and the others still move."""
    conns = await connections_of(call)
    resolved = [conns.resolve(ref, "task") for ref in args.tasks]
    view = resolved[0][0]
    for other, _ in resolved[1:]:
        if other.slug != view.slug:
            raise ToolFailure(f"All tasks must be in one connection: {view.slug} and {other.slug} are mixed.")
    note(call, view, args.sprint)
    sprint_id = _destination(conns, view, args.sprint)
    refs: dict[str, str] = {}  # native id -> the ref as given; a task named twice moves once
    for ref, (_, native) in zip(args.tasks, resolved, strict=True):
        refs.setdefault(native, ref)
    outcomes = await conns.run(view, lambda a: a.move_to_sprint(list(refs), sprint_id))
    by_task = {outcome.task_id: outcome for outcome in outcomes}
    results = [_move_result(call, ref, by_task.get(native)) for native, ref in refs.items()]
    moved = sum(r.moved for r in results)
    return MovedToSprint(
        sprint=BACKLOG if sprint_id == BACKLOG else args.sprint,
        moved=moved,
        failed=len(results) - moved,
        results=results,
    )


def _move_result(call: ToolCall, ref: str, outcome: MoveOutcome | None) -> MoveResultOut:
    if outcome is None:
        return MoveResultOut(task=ref, moved=False, error="the provider did not say whether it moved")
    if outcome.error is not None:
        return MoveResultOut(task=ref, moved=False, error=explain_provider_error(call, outcome.error))
    return MoveResultOut(task=ref, moved=True)
