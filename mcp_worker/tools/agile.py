"""Sprints, epics, burndown and velocity."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from portal.core.providers.base import PageRequest, SprintState, TaskQuery
from portal.core.services import analytics

from . import shapes
from .context import DEFAULT_LIMIT, connections_of, decode_cursor, encode_cursor, note
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset
from .tasks import Cursor, Limit


class ListSprintsArgs(ToolInput):
    project: str = Field(description="Project ref (for JIRA, sprints come from the project's scrum boards).")
    state: Literal["future", "active", "closed"] | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


class SprintList(ToolOutput):
    sprints: list[shapes.SprintOut]
    next_cursor: str | None = None

    def text(self) -> str:
        return shapes.lines(
            self.sprints,
            lambda s: (
                f"{s.ref} {s.name} [{s.state}]"
                + (f" {s.start:%Y-%m-%d} to {s.end:%Y-%m-%d}" if s.start and s.end else "")
            ),
            "No sprints.",
        ) + shapes.more_text(self.next_cursor)


class SprintArgs(ToolInput):
    sprint: str = Field(description="Sprint ref.")


class GetSprintArgs(SprintArgs):
    include_tasks: bool = Field(False, description="Also list the sprint's tasks (summaries).")


class SprintDetail(ToolOutput):
    sprint: shapes.SprintOut
    tasks: list[shapes.TaskSummaryOut] | None = None

    def text(self) -> str:
        s = self.sprint
        out = [f"{s.ref} {s.name} [{s.state}]"]
        if s.start and s.end:
            out.append(f"{s.start:%Y-%m-%d} to {s.end:%Y-%m-%d}")
        if s.goal:
            out.append(f"Goal: {s.goal}")
        if self.tasks is not None:
            out += [t.line() for t in self.tasks] or ["No tasks."]
        return "\n".join(out)


class ListEpicsArgs(ToolInput):
    project: str = Field(description="Project ref.")
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


class EpicList(ToolOutput):
    epics: list[shapes.EpicOut]
    next_cursor: str | None = None

    def text(self) -> str:
        return shapes.lines(
            self.epics, lambda e: f"{e.ref} [{e.status or '?'}] {e.title}", "No epics."
        ) + shapes.more_text(self.next_cursor)


class GetEpicArgs(ToolInput):
    epic: str = Field(description="Epic ref.")
    include_tasks: bool = Field(True, description="Also list the epic's tasks (the first 50 summaries).")


class EpicDetail(ToolOutput):
    epic: shapes.EpicOut
    tasks: list[shapes.TaskSummaryOut] | None = None
    more_tasks: bool = False

    def text(self) -> str:
        e = self.epic
        out = [f"{e.ref} [{e.status or '?'}] {e.title}", e.url]
        if e.description:
            out += ["", e.description]
        if self.tasks is not None:
            out += [""] + ([t.line() for t in self.tasks] or ["No tasks."])
            if self.more_tasks:
                out.append("(more tasks: use list_tasks with epic)")
        return "\n".join(out)


class BurndownPointOut(BaseModel):
    date: date
    remaining: float | None = Field(description="Work left at the end of the day; null for days to come")
    ideal: float
    completed: float | None = None


class BurndownOut(ToolOutput):
    sprint: shapes.SprintOut
    unit: str = Field(
        description="story_points, hours (estimates) or tasks (a count): what the numbers measure"
    )
    total: float
    task_count: int
    done_count: int
    points: list[BurndownPointOut]
    notes: list[str] = Field(default_factory=list)

    def text(self) -> str:
        rows = [
            f"{p.date}: {'-' if p.remaining is None else f'{p.remaining:g}'} left (ideal {p.ideal:g})"
            for p in self.points
        ]
        head = (
            f"Burndown of {self.sprint.name} in {self.unit.replace('_', ' ')}: {self.total:g} in all, "
            f"{self.done_count}/{self.task_count} tasks done."
        )
        return "\n".join([head, *rows, *self.notes])


class VelocityArgs(ToolInput):
    project: str = Field(description="Project ref (for JIRA: the sprints of its scrum boards).")
    sprints: int = Field(5, ge=1, le=20, description="How many of the latest closed sprints.")


class SprintVelocityOut(BaseModel):
    sprint: shapes.SprintOut
    committed: float
    completed: float


class VelocityOut(ToolOutput):
    unit: str = Field(description="story_points, hours (estimates) or tasks (a count)")
    sprints: list[SprintVelocityOut]
    average_completed: float
    notes: list[str] = Field(default_factory=list)

    def text(self) -> str:
        rows = [f"{r.sprint.name}: {r.completed:g} of {r.committed:g} completed" for r in self.sprints]
        return "\n".join(
            [
                f"Velocity in {self.unit.replace('_', ' ')} (average {self.average_completed:g}):",
                *rows,
                *self.notes,
            ]
        )


toolset = Toolset()


@toolset.tool("list_sprints", title="List sprints", read_only=True)
async def list_sprints(call: ToolCall, args: ListSprintsArgs) -> SprintList:
    """A project's sprints (future, active, closed), newest first where the provider orders them.
    Providers without sprints say so."""
    conns = await connections_of(call)
    view, project_id = conns.resolve(args.project, "project")
    note(call, view, args.project)
    request = PageRequest(limit=args.limit, cursor=decode_cursor(args.cursor, "list_sprints"))
    wanted = SprintState(args.state) if args.state else None
    page = await conns.run(view, lambda a: a.list_sprints(project_id, wanted, request))
    return SprintList(
        sprints=[shapes.sprint(s) for s in page.items],
        next_cursor=encode_cursor("list_sprints", page.next_cursor),
    )


@toolset.tool("get_sprint", title="Get a sprint", read_only=True)
async def get_sprint(call: ToolCall, args: GetSprintArgs) -> SprintDetail:
    """One sprint: dates, state, goal; optionally its tasks."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.sprint, "sprint")
    note(call, view, args.sprint)

    def read(adapter):
        return adapter.get_sprint(native), adapter.sprint_tasks(native) if args.include_tasks else None

    sprint, tasks = await conns.run(view, read)
    return SprintDetail(
        sprint=shapes.sprint(sprint),
        tasks=[shapes.task_summary(t) for t in tasks] if tasks is not None else None,
    )


@toolset.tool("list_epics", title="List epics", read_only=True)
async def list_epics(call: ToolCall, args: ListEpicsArgs) -> EpicList:
    """A project's epics. Providers without epics say so."""
    conns = await connections_of(call)
    view, project_id = conns.resolve(args.project, "project")
    note(call, view, args.project)
    request = PageRequest(limit=args.limit, cursor=decode_cursor(args.cursor, "list_epics"))
    page = await conns.run(view, lambda a: a.list_epics(project_id, request))
    return EpicList(
        epics=[shapes.epic(e) for e in page.items],
        next_cursor=encode_cursor("list_epics", page.next_cursor),
    )


@toolset.tool("get_epic", title="Get an epic", read_only=True)
async def get_epic(call: ToolCall, args: GetEpicArgs) -> EpicDetail:
    """One epic with its description and, by default, the first 50 of its tasks."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.epic, "epic")
    note(call, view, args.epic)

    def read(adapter):
        epic = adapter.get_epic(native)
        page = (
            adapter.list_tasks(TaskQuery(epic_id=native), PageRequest(limit=50))
            if args.include_tasks
            else None
        )
        return epic, page

    epic, page = await conns.run(view, read)
    return EpicDetail(
        epic=shapes.epic(epic, full=True),
        tasks=[shapes.task_summary(t) for t in page.items] if page is not None else None,
        more_tasks=bool(page and page.next_cursor),
    )


@toolset.tool("burndown", title="Sprint burndown", read_only=True)
async def burndown(call: ToolCall, args: SprintArgs) -> BurndownOut:
    """A sprint's burndown: one point per day with the work remaining at the end of that day against the
    ideal straight line. Measured in story points, falling back to estimated hours, then to a count of
    tasks; `unit` says which was used."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.sprint, "sprint")
    note(call, view, args.sprint)
    sprint, tasks = await conns.run(view, lambda a: (a.get_sprint(native), a.sprint_tasks(native)))
    try:
        chart = analytics.burndown(sprint, tasks)
    except analytics.SprintDatesMissing as exc:
        raise ToolFailure(str(exc), error_class="not_supported") from None
    return BurndownOut(
        sprint=shapes.sprint(sprint),
        unit=chart.unit,
        total=chart.total,
        task_count=chart.task_count,
        done_count=chart.done_count,
        points=[
            BurndownPointOut(date=p.date, remaining=p.remaining, ideal=p.ideal, completed=p.completed)
            for p in chart.points
        ],
        notes=chart.notes,
    )


@toolset.tool("velocity", title="Velocity", read_only=True)
async def velocity(call: ToolCall, args: VelocityArgs) -> VelocityOut:
    """Committed against completed work for the last N closed sprints of a project, and the average
    completed: in story points, falling back to estimated hours, then to a count of tasks."""
    conns = await connections_of(call)
    view, project_id = conns.resolve(args.project, "project")
    note(call, view, args.project)

    rows = await conns.run(view, lambda a: analytics.latest_closed_sprints(a, project_id, args.sprints))
    if not rows:
        raise ToolFailure(
            f"{args.project} has no closed sprints yet, so there is no velocity to show.",
            error_class="not_found",
        )
    result = analytics.velocity(rows)
    return VelocityOut(
        unit=result.unit,
        sprints=[
            SprintVelocityOut(sprint=shapes.sprint(r.sprint), committed=r.committed, completed=r.completed)
            for r in result.sprints
        ],
        average_completed=result.average_completed,
        notes=result.notes,
    )
