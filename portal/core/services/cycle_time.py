"""Lead and cycle time of finished tasks, from their history.

Lead time runs from a task's creation to when it was done; cycle time from its first move
into an in-progress status to when it was done (the last move into a done status). Status
names in history are mapped to categories with the project's statuses. Percentiles use the
nearest-rank method: the value at position ceil(p/100 * n) of the sorted values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..providers.base import HistoryEntry, PageRequest, ProviderAdapter, StatusCategory, Task, TaskQuery
from .sprint_health import full_history

MAX_TASKS = 500
SLOWEST = 5
PERCENTILES = (50, 85, 95)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def percentile(values: Sequence[float], p: int) -> float | None:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class TaskTimes:
    task: Task
    done_at: datetime
    started_at: datetime | None
    lead_days: float | None
    cycle_days: float | None


def times_of(
    task: Task, history: Sequence[HistoryEntry], categories: dict[str, StatusCategory]
) -> TaskTimes | None:
    """A finished task's times; None if it is not done (or its history can't say when it was)."""
    moves = sorted((e for e in history if e.field.strip().lower() == "status"), key=lambda e: e.at)

    def category(name: str | None) -> StatusCategory:
        return categories.get((name or "").strip().lower(), StatusCategory.UNKNOWN)

    done_moves = [e.at for e in moves if category(e.new) == StatusCategory.DONE]
    done_at = done_moves[-1] if done_moves else task.done_at
    if done_at is None:
        return None
    done_at = _utc(done_at)
    started = next((e.at for e in moves if category(e.new) == StatusCategory.IN_PROGRESS), None)
    started = _utc(started) if started is not None else None
    day = 86_400

    def days(start: datetime | None) -> float | None:
        if start is None or start > done_at:
            return None
        return round((done_at - _utc(start)).total_seconds() / day, 2)

    return TaskTimes(task, done_at, started, days(task.created_at), days(started))


@dataclass(frozen=True)
class CycleTime:
    count: int
    lead: dict[int, float | None]  # percentile -> days
    cycle: dict[int, float | None]
    slowest: list[TaskTimes]
    without_start: int  # done without ever being in progress: no cycle time
    notes: list[str] = field(default_factory=list)


def summarize(times: Sequence[TaskTimes]) -> CycleTime:
    leads = [t.lead_days for t in times if t.lead_days is not None]
    cycles = [t.cycle_days for t in times if t.cycle_days is not None]
    slowest = sorted(
        times,
        key=lambda t: (t.cycle_days if t.cycle_days is not None else -1, t.lead_days or 0),
        reverse=True,
    )[:SLOWEST]
    return CycleTime(
        count=len(times),
        lead={p: percentile(leads, p) for p in PERCENTILES},
        cycle={p: percentile(cycles, p) for p in PERCENTILES},
        slowest=slowest,
        without_start=sum(1 for t in times if t.cycle_days is None),
        notes=[
            "Lead time: created to done. Cycle time: first move into an in-progress status to the last move "
            "into a done status. Days, with nearest-rank percentiles."
        ],
    )


def gather(
    adapter: ProviderAdapter,
    *,
    since: datetime,
    until: datetime,
    project_id: str | None = None,
    sprint_id: str | None = None,
) -> CycleTime:
    """Tasks of a project (or sprint) done within [since, until], with their times from history."""
    if sprint_id is not None:
        sprint = adapter.get_sprint(sprint_id)
        tasks = adapter.sprint_tasks(sprint_id)
        project_id = project_id or (sprint.project_ref.partition(":")[2] if sprint.project_ref else None)
    else:
        tasks = []
        cursor = None
        query = TaskQuery(
            project_id=project_id, categories=frozenset({StatusCategory.DONE}), updated_since=since
        )
        while len(tasks) < MAX_TASKS:
            page = adapter.list_tasks(query, PageRequest(limit=100, cursor=cursor))
            tasks += page.items
            cursor = page.next_cursor
            if not cursor or not page.items:
                break
    statuses = adapter.list_statuses(project_id) if project_id else []
    categories = {s.name.strip().lower(): s.category for s in statuses}
    times: list[TaskTimes] = []
    for task in tasks[:MAX_TASKS]:
        if task.status is not None and task.status.category != StatusCategory.DONE:
            continue
        found = times_of(task, full_history(adapter, task.id), categories)
        if found is not None and since <= found.done_at <= until:
            times.append(found)
    return summarize(times)
