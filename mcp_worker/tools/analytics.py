"""Analytics an agent can act on: sprint health with a forecast (and, in the core, its maths)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, Field

from portal.core.providers.base import PageRequest, TaskQuery
from portal.core.services import changes as change_service
from portal.core.services import cycle_time, sprint_health
from portal.core.services.connections import ConnectionView
from portal.core.services.my_tasks import share_per_connection

from ..connections import fan_out
from . import shapes
from .context import (
    DEFAULT_LIMIT,
    FAN_OUT_SECONDS,
    connections_of,
    decode_fan_out_cursor,
    encode_cursor,
    failure_of,
    note,
)
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset


class SprintHealthArgs(ToolInput):
    sprint: str = Field(description="Sprint ref.")
    stale_days: int = Field(
        3, ge=1, le=60, description="In progress with no update for this many days: stale."
    )
    seed: int = Field(sprint_health.DEFAULT_SEED, ge=0, description="The forecast's random seed.")


class BlockedOut(BaseModel):
    task: shapes.TaskSummaryOut
    blocked_by: list[str] = Field(description="Refs of the unfinished tasks blocking it")


class ForecastOut(BaseModel):
    probability: float | None = Field(description="Chance (0 to 1) to finish the remaining work in time")
    method: str
    sample: list[float] = Field(description="The daily throughputs drawn from")
    sample_sprints: list[str]
    days_left: int
    remaining: float
    seed: int
    trials: int


class SprintHealthOut(ToolOutput):
    sprint: shapes.SprintOut
    unit: str = Field(description="story_points, hours or tasks")
    scope_now: float
    scope_at_start: float | None = Field(description="None where the provider keeps no history")
    added: list[shapes.TaskSummaryOut]
    removed: list[shapes.TaskSummaryOut]
    done: float
    remaining: float
    done_tasks: int
    open_tasks: int
    carried_over: list[shapes.TaskSummaryOut]
    previous_sprint: str | None
    blocked: list[BlockedOut]
    stale: list[shapes.TaskSummaryOut]
    unassigned: list[shapes.TaskSummaryOut]
    forecast: ForecastOut
    notes: list[str]

    def text(self) -> str:
        unit = self.unit.replace("_", " ")
        if self.scope_at_start is None:
            scope = f"Scope {self.scope_now:g} now; what changed since the start is unknown (see the notes)."
        else:
            scope = (
                f"Scope {self.scope_now:g} now, {self.scope_at_start:g} at the start; added "
                f"{len(self.added)}, removed {len(self.removed)} task(s)."
            )
        out = [
            f"{self.sprint.name} ({self.sprint.state}), in {unit}:",
            scope,
            f"Done {self.done:g} ({self.done_tasks} tasks), remaining {self.remaining:g} ({self.open_tasks} tasks).",
        ]
        if self.forecast.probability is not None:
            out.append(
                f"Forecast: {self.forecast.probability:.0%} chance to finish in the {self.forecast.days_left} "
                "day(s) left."
            )
        out.append(self.forecast.method)
        for label, tasks in (
            (f"Carried over from {self.previous_sprint}", self.carried_over),
            ("Added", self.added),
            ("Removed", self.removed),
            ("Stale", self.stale),
            ("Unassigned", self.unassigned),
        ):
            if tasks:
                out.append(f"{label}: " + "; ".join(t.line() for t in tasks))
        if self.blocked:
            out.append(
                "Blocked: " + "; ".join(f"{b.task.line()} by {', '.join(b.blocked_by)}" for b in self.blocked)
            )
        return "\n".join(out + self.notes)


toolset = Toolset()


@toolset.tool("sprint_health", title="Sprint health", read_only=True)
async def sprint_health_tool(call: ToolCall, args: SprintHealthArgs) -> SprintHealthOut:
    """Will this sprint finish, and what's in the way? In one call: scope now and at the start (added,
    removed), done against remaining, carry-over, blocked, stale and unassigned tasks, and a Monte Carlo
    forecast from the team's daily throughput in its last closed sprints (method, sample and seed stated)."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.sprint, "sprint")
    note(call, view, args.sprint)
    today = datetime.now(UTC).date()
    health = await conns.run(
        view,
        lambda adapter: sprint_health.gather(
            adapter, native, today=today, stale_days=args.stale_days, seed=args.seed
        ),
    )
    return health_out(health)


def health_out(health: sprint_health.SprintHealth) -> SprintHealthOut:
    summaries = shapes.task_summary
    outlook = health.forecast
    return SprintHealthOut(
        sprint=shapes.sprint(health.sprint),
        unit=health.unit,
        scope_now=health.scope_now,
        scope_at_start=health.scope_at_start,
        added=[summaries(t) for t in health.added],
        removed=[summaries(t) for t in health.removed],
        done=health.done,
        remaining=health.remaining,
        done_tasks=health.done_tasks,
        open_tasks=health.open_tasks,
        carried_over=[summaries(t) for t in health.carried_over],
        previous_sprint=health.previous_sprint,
        blocked=[
            BlockedOut(task=summaries(b.task), blocked_by=[x.other_ref for x in b.by]) for b in health.blocked
        ],
        stale=[summaries(t) for t in health.stale],
        unassigned=[summaries(t) for t in health.unassigned],
        forecast=ForecastOut(
            probability=outlook.probability,
            method=outlook.method,
            sample=outlook.sample,
            sample_sprints=outlook.sample_sprints,
            days_left=outlook.days_left,
            remaining=outlook.remaining,
            seed=outlook.seed,
            trials=outlook.trials,
        ),
        notes=health.notes,
    )


class CycleTimeArgs(ToolInput):
    project: str | None = Field(None, description="Project ref (or give sprint).")
    sprint: str | None = Field(None, description="Sprint ref (or give project).")
    since: date | None = Field(
        None, description="First day of the period (ISO 8601); 30 days ago by default."
    )
    until: date | None = Field(None, description="Last day of the period; today by default.")


class TaskTimesOut(BaseModel):
    task: shapes.TaskSummaryOut
    lead_days: float | None
    cycle_days: float | None


class CycleTimeOut(ToolOutput):
    since: date
    until: date
    count: int = Field(description="Tasks done in the period")
    lead_days: dict[str, float | None] = Field(description="p50, p85, p95 of lead time in days")
    cycle_days: dict[str, float | None] = Field(description="p50, p85, p95 of cycle time in days")
    slowest: list[TaskTimesOut]
    without_start: int = Field(description="Done without ever being in progress (no cycle time)")
    notes: list[str]

    def text(self) -> str:
        def row(values: dict[str, float | None]) -> str:
            return ", ".join(f"{k} {'-' if v is None else f'{v:g}'}" for k, v in values.items())

        out = [
            f"{self.count} task(s) done from {self.since} to {self.until}.",
            f"Lead time (days): {row(self.lead_days)}.",
            f"Cycle time (days): {row(self.cycle_days)}.",
        ]
        out += [f"- {t.task.line()}: cycle {t.cycle_days}, lead {t.lead_days}" for t in self.slowest]
        return "\n".join(out + self.notes)


@toolset.tool("cycle_time", title="Cycle time", read_only=True)
async def cycle_time_tool(call: ToolCall, args: CycleTimeArgs) -> CycleTimeOut:
    """Lead and cycle time of the tasks of a project or sprint done in a period, from their history (first
    move into an in-progress status to done), with p50/p85/p95 and the slowest tasks."""
    if (args.project is None) == (args.sprint is None):
        raise ToolFailure("Give either project or sprint.")
    conns = await connections_of(call)
    ref = args.project or args.sprint or ""  # exactly one of them is given
    view, native = conns.resolve(ref, "project" if args.project else "sprint")
    note(call, view, ref)
    until = args.until or datetime.now(UTC).date()
    since = args.since or until - timedelta(days=30)
    if since > until:
        raise ToolFailure("since must be on or before until.")
    start = datetime.combine(since, time.min, tzinfo=UTC)
    end = datetime.combine(until, time.max, tzinfo=UTC)
    result = await conns.run(
        view,
        lambda adapter: cycle_time.gather(
            adapter,
            since=start,
            until=end,
            project_id=native if args.project else None,
            sprint_id=native if args.sprint else None,
        ),
    )
    return CycleTimeOut(
        since=since,
        until=until,
        count=result.count,
        lead_days={f"p{p}": v for p, v in result.lead.items()},
        cycle_days={f"p{p}": v for p, v in result.cycle.items()},
        slowest=[
            TaskTimesOut(task=shapes.task_summary(t.task), lead_days=t.lead_days, cycle_days=t.cycle_days)
            for t in result.slowest
        ],
        without_start=result.without_start,
        notes=result.notes,
    )


class ChangesSinceArgs(ToolInput):
    since: datetime | date = Field(description="ISO 8601 date or time; what changed at or after it.")
    connections: list[str] | None = Field(None, description="Connection slugs; all of mine by default.")
    projects: list[str] | None = Field(None, description="Project refs, to look only at these.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=50, description="Changed tasks per page: 25 by default.")
    cursor: str | None = Field(None, description="The next_cursor of the previous page, to continue.")


class ChangeOut(BaseModel):
    at: datetime
    kind: str = Field(description="created, moved, assigned to me, commented, or updated")
    task: shapes.TaskSummaryOut
    detail: str
    by: str | None = None


class ChangesOut(ToolOutput):
    since: datetime
    changes: list[ChangeOut]
    next_cursor: str | None = None
    failures: list[shapes.ConnectionFailure] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def text(self) -> str:
        lines = [f"{c.at:%Y-%m-%d %H:%M} {c.task.ref} {c.kind}: {c.detail}" for c in self.changes]
        body = "\n".join(lines) if lines else f"Nothing changed since {self.since:%Y-%m-%d %H:%M}."
        return (
            body
            + shapes.more_text(self.next_cursor)
            + shapes.failures_text(self.failures)
            + "".join(f"\n{n}" for n in self.notes)
        )


@toolset.tool("changes_since", title="Changes since", read_only=True)
async def changes_since(call: ToolCall, args: ChangesSinceArgs) -> ChangesOut:
    """What changed across my connections since a moment: tasks created, moved between statuses, assigned
    to me, commented; newest first, paged by changed task. Every connection is asked at once; one that
    fails is reported in `failures`."""
    since = args.since
    if not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day, tzinfo=UTC)
    elif since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    conns = await connections_of(call)
    projects: dict[str, list[str]] = {}
    for ref in args.projects or []:
        view, native = conns.resolve(ref, "project")
        projects.setdefault(view.slug, []).append(native)
    wanted = set(args.connections or []) | set(projects)
    unknown = sorted(wanted - set(conns.slugs))
    if unknown:
        raise ToolFailure(f"No connection {', '.join(unknown)}; list_connections shows yours.")
    positions = decode_fan_out_cursor(args.cursor, "changes_since")
    targets = [v for v in conns.usable if not wanted or v.slug in wanted]
    if positions is not None:
        targets = [v for v in targets if v.slug in positions]
    share = share_per_connection(args.limit, len(targets))

    def read(view: ConnectionView):
        position = (positions or {}).get(view.slug) or {}
        found = projects.get(view.slug)
        project_ids: list[str | None] = list(found) if found else [None]
        index = int(position.get("p", 0)) if isinstance(position, dict) else 0
        cursor = position.get("c") if isinstance(position, dict) else None
        project_id = project_ids[min(index, len(project_ids) - 1)]

        def gather(adapter):
            query = TaskQuery(project_id=project_id, updated_since=since)
            page = adapter.list_tasks(query, PageRequest(limit=share, cursor=cursor))
            found, with_history = change_service.task_changes(adapter, page.items, since)
            following = None
            if page.next_cursor:
                following = {"p": index, "c": page.next_cursor}
            elif index + 1 < len(project_ids):
                following = {"p": index + 1, "c": None}
            return found, with_history, following

        return gather

    async def one(view: ConnectionView):
        return await conns.run(view, read(view))

    results, failures = await fan_out(targets, one, time_limit=FAN_OUT_SECONDS)
    events: list[change_service.Change] = []
    following: dict[str, object] = {}
    notes = []
    for view in targets:
        if view.slug not in results:
            continue
        found, with_history, position = results[view.slug]
        events += found
        if position is not None:
            following[view.slug] = position
        if not with_history:
            notes.append(
                f"{view.slug} does not support task history: its changes other than new tasks and comments "
                "show as 'updated'."
            )
    events.sort(key=lambda c: c.at, reverse=True)
    failed = []
    for slug, exc in failures.items():
        error_class, message = failure_of(slug, exc, call)
        failed.append(shapes.ConnectionFailure(connection=slug, error_class=error_class, message=message))
    return ChangesOut(
        since=since,
        changes=[
            ChangeOut(at=c.at, kind=c.kind, task=shapes.task_summary(c.task), detail=c.detail, by=c.by)
            for c in events
        ],
        next_cursor=encode_cursor("changes_since", following),
        failures=failed,
        notes=notes,
    )
