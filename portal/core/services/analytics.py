"""Sprint burndown and velocity, computed from tasks and when they were done.

Work is measured in story points when any task in scope has them, else in
estimated hours when any has an estimate, else as a count of tasks; the result
says which unit was used. Scope is the sprint's tasks as they are now (the
vendors don't tell reliably what was added or removed during a sprint).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from portal.core.errors import UserFacingError

from ..providers.base import PageRequest, ProviderAdapter, Sprint, SprintState, StatusCategory, Task

MAX_CLOSED_SPRINT_PAGES = 10

STORY_POINTS = "story_points"
HOURS = "hours"
TASKS = "tasks"


def choose_unit(tasks: Iterable[Task]) -> str:
    tasks = list(tasks)
    if any(t.story_points is not None for t in tasks):
        return STORY_POINTS
    if any(t.estimate_hours is not None for t in tasks):
        return HOURS
    return TASKS


def work_of(task: Task, unit: str) -> float:
    if unit == STORY_POINTS:
        return float(task.story_points or 0)
    if unit == HOURS:
        return float(task.estimate_hours or 0)
    return 1.0


def _is_done(task: Task) -> bool:
    return task.done_at is not None or (
        task.status is not None and task.status.category == StatusCategory.DONE
    )


def _day(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


@dataclass(frozen=True)
class BurndownPoint:
    date: date
    remaining: float | None  # None for days still to come
    ideal: float
    completed: float | None


@dataclass(frozen=True)
class Burndown:
    unit: str
    total: float
    points: list[BurndownPoint]
    task_count: int
    done_count: int
    undated_done: int  # done tasks without a completion time, counted as done on the last day shown
    notes: list[str] = field(default_factory=list)


class SprintDatesMissing(UserFacingError):
    """A sprint without (sensible) dates has no burndown; the message names the sprint."""

    error_class = "sprint_dates_missing"


def burndown(sprint: Sprint, tasks: Sequence[Task], *, today: date | None = None) -> Burndown:
    """One point per sprint day: remaining work at the end of that day, against the ideal straight line.

    Raises SprintDatesMissing when the sprint lacks a start or an end, or ends before it starts.
    """
    if sprint.start is None or sprint.end is None:
        raise SprintDatesMissing(f"Sprint {sprint.name!r} has no start or end date, so it has no burndown.")
    today = today or datetime.now(UTC).date()
    start, end = _day(sprint.start), _day(sprint.end)
    if end < start:
        raise SprintDatesMissing(f"Sprint {sprint.name!r} ends before it starts.")
    unit = choose_unit(tasks)
    total = sum(work_of(t, unit) for t in tasks)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    last_shown = min(end, today) if sprint.completed_at is None else end
    undated = [t for t in tasks if _is_done(t) and t.done_at is None]
    points: list[BurndownPoint] = []
    span = max(1, len(days) - 1)
    for index, day in enumerate(days):
        ideal = round(total * (1 - index / span), 2) if len(days) > 1 else 0.0
        if day > last_shown:
            points.append(BurndownPoint(day, None, ideal, None))
            continue
        completed = sum(work_of(t, unit) for t in tasks if t.done_at is not None and _day(t.done_at) <= day)
        if day == last_shown:
            completed += sum(work_of(t, unit) for t in undated)
        points.append(BurndownPoint(day, round(total - completed, 2), ideal, round(completed, 2)))
    notes = []
    if unit == TASKS:
        notes.append("No task has story points or an estimate, so work is counted in tasks.")
    elif unit == HOURS:
        notes.append("No task has story points, so work is measured in estimated hours.")
    if undated:
        notes.append(
            f"{len(undated)} done task(s) have no completion time and are counted as done on the last day shown."
        )
    return Burndown(
        unit=unit,
        total=round(total, 2),
        points=points,
        task_count=len(tasks),
        done_count=sum(1 for t in tasks if _is_done(t)),
        undated_done=len(undated),
        notes=notes,
    )


@dataclass(frozen=True)
class SprintVelocity:
    sprint: Sprint
    committed: float
    completed: float


@dataclass(frozen=True)
class Velocity:
    unit: str
    sprints: list[SprintVelocity]
    average_completed: float
    notes: list[str] = field(default_factory=list)


def velocity(sprints_with_tasks: Sequence[tuple[Sprint, Sequence[Task]]]) -> Velocity:
    """Committed (all the sprint's work) against completed (done by the sprint's end) per sprint."""
    unit = choose_unit(t for _, tasks in sprints_with_tasks for t in tasks)
    rows: list[SprintVelocity] = []
    for sprint, tasks in sprints_with_tasks:
        committed = sum(work_of(t, unit) for t in tasks)
        deadline = sprint.completed_at or sprint.end
        completed = 0.0
        for task in tasks:
            if task.done_at is not None:
                if deadline is None or _day(task.done_at) <= _day(deadline):
                    completed += work_of(task, unit)
            elif _is_done(task):
                completed += work_of(task, unit)
        rows.append(
            SprintVelocity(sprint=sprint, committed=round(committed, 2), completed=round(completed, 2))
        )
    average = round(sum(r.completed for r in rows) / len(rows), 2) if rows else 0.0
    notes = ["Committed is the sprint's scope as it is now; work added mid-sprint counts as committed."]
    if unit == TASKS:
        notes.append("No task has story points or an estimate, so work is counted in tasks.")
    elif unit == HOURS:
        notes.append("No task has story points, so work is measured in estimated hours.")
    return Velocity(unit=unit, sprints=rows, average_completed=average, notes=notes)


# --- from a provider, for the portal's charts (the velocity tool gathers its sprints the same way) ---


def latest_closed_sprints(
    adapter: ProviderAdapter, project_id: str, count: int
) -> list[tuple[Sprint, list[Task]]]:
    """The project's last `count` closed sprints (oldest first), each with its tasks."""
    closed: list[Sprint] = []
    cursor = None
    for _ in range(MAX_CLOSED_SPRINT_PAGES):
        page = adapter.list_sprints(project_id, SprintState.CLOSED, PageRequest(limit=50, cursor=cursor))
        closed += page.items
        cursor = page.next_cursor
        if not cursor:
            break
    oldest = datetime.min.replace(tzinfo=UTC)
    closed.sort(key=lambda s: s.completed_at or s.end or s.start or oldest)
    latest = closed[-count:] if count > 0 else []
    return [(sprint, adapter.sprint_tasks(sprint.id)) for sprint in latest]


def project_velocity(adapter: ProviderAdapter, project_id: str, count: int = 5) -> Velocity | None:
    """Velocity over the project's last `count` closed sprints; None when it has none yet."""
    rows = latest_closed_sprints(adapter, project_id, count)
    return velocity(rows) if rows else None
