"""Sprint health: one answer to "will this sprint finish, and what's in the way?".

`assess()` is pure: from a sprint, its tasks, what history and links say, and the team's
last closed sprints, it computes scope now and at the start (added, removed), done against
remaining work, carry-over from the previous sprint, blocked, stale and unassigned tasks, and
a Monte Carlo forecast. `gather()` reads all of that through the adapter interface; what a
provider can't tell (no history, no links) becomes a note saying it does not support it.

Work is measured like the burndown: story points when any task has them, else estimated
hours, else a count of tasks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ..providers import errors
from ..providers.base import (
    HistoryEntry,
    LinkKind,
    PageRequest,
    ProviderAdapter,
    Sprint,
    StatusCategory,
    Task,
    TaskLink,
    TaskQuery,
)
from .analytics import HOURS, TASKS, choose_unit, latest_closed_sprints, work_of

TRIALS = 10_000
DEFAULT_SEED = 12
SAMPLE_SPRINTS = 3
MAX_HISTORY_PAGES = 20
MAX_REMOVED_CANDIDATES = 200


def day_of(moment: datetime) -> date:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def is_done(task: Task) -> bool:
    return task.status is not None and task.status.category == StatusCategory.DONE


def is_in_progress(task: Task) -> bool:
    return task.status is not None and task.status.category == StatusCategory.IN_PROGRESS


def is_sprint_field(name: str) -> bool:
    """A history field that says which sprint (or version, standing for one) a task is in."""
    lowered = name.strip().lower()
    return "sprint" in lowered or "version" in lowered


def _names(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def entered(history: Sequence[HistoryEntry], sprint_name: str, after: datetime) -> datetime | None:
    """When the task last came into the sprint after `after`, per its history (None: it didn't)."""
    moments = [
        e.at
        for e in history
        if is_sprint_field(e.field)
        and sprint_name in _names(e.new)
        and sprint_name not in _names(e.old)
        and e.at > after
    ]
    return max(moments) if moments else None


def left(history: Sequence[HistoryEntry], sprint_name: str, after: datetime) -> datetime | None:
    """When the task last left the sprint after `after`, per its history (None: it didn't)."""
    moments = [
        e.at
        for e in history
        if is_sprint_field(e.field)
        and sprint_name in _names(e.old)
        and sprint_name not in _names(e.new)
        and e.at > after
    ]
    return max(moments) if moments else None


def was_in(history: Sequence[HistoryEntry], sprint_name: str) -> bool:
    """Whether the history shows the task in the sprint at some point."""
    return any(is_sprint_field(e.field) and sprint_name in (_names(e.new) | _names(e.old)) for e in history)


# --- the forecast ---------------------------------------------------------------------------


def daily_throughput(sprint: Sprint, tasks: Sequence[Task], unit: str) -> list[float]:
    """Work finished on each calendar day of a sprint, first day to last (done_at within the sprint)."""
    if sprint.start is None or sprint.end is None:
        return []
    start, end = day_of(sprint.start), day_of(sprint.end)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    per_day = dict.fromkeys(days, 0.0)
    for task in tasks:
        if task.done_at is not None and day_of(task.done_at) in per_day:
            per_day[day_of(task.done_at)] += work_of(task, unit)
    return [round(per_day[d], 4) for d in days]


def simulate(
    sample: Sequence[float], days: int, remaining: float, *, seed: int, trials: int = TRIALS
) -> float:
    """The share of `trials` in which `days` days, each drawn at random (with replacement) from
    `sample`, finish at least `remaining` work. Deterministic for a given seed."""
    if remaining <= 0:
        return 1.0
    if days <= 0 or not sample:
        return 0.0
    rng = random.Random(seed)
    choice = rng.choice
    finished = 0
    for _ in range(trials):
        total = 0.0
        for _ in range(days):
            total += choice(sample)
        if total >= remaining - 1e-9:
            finished += 1
    return finished / trials


@dataclass(frozen=True)
class Forecast:
    probability: float | None  # None: no sample to forecast from
    method: str
    sample: list[float]  # daily throughputs drawn from
    sample_sprints: list[str]
    days_left: int
    remaining: float
    seed: int
    trials: int


def forecast(
    remaining: float,
    days_left: int,
    closed: Sequence[tuple[Sprint, Sequence[Task]]],
    unit: str,
    *,
    seed: int,
    trials: int = TRIALS,
) -> Forecast:
    sample: list[float] = []
    names: list[str] = []
    for sprint, tasks in closed:
        days = daily_throughput(sprint, tasks, unit)
        if days:
            sample += days
            names.append(sprint.name)
    if not sample:
        return Forecast(
            None,
            "No closed sprint with dates to learn the team's daily throughput from, so there is no forecast.",
            [],
            [],
            days_left,
            remaining,
            seed,
            trials,
        )
    probability = simulate(sample, days_left, remaining, seed=seed, trials=trials)
    method = (
        f"Monte Carlo: {trials:,} trials, each adding up {days_left} day(s) of work drawn at random, with "
        f"replacement, from the {len(sample)} daily throughputs ({unit.replace('_', ' ')} done per calendar "
        f"day) of the last closed sprint(s) {', '.join(names)}; the probability is the share of trials that "
        f"finish the {remaining:g} remaining by the sprint's end. Seed {seed}: the same seed gives the same "
        "answer."
    )
    return Forecast(round(probability, 4), method, sample, names, days_left, remaining, seed, trials)


def days_left(sprint: Sprint, today: date) -> int:
    """Calendar days from today (included) to the sprint's last day; the whole sprint before it starts."""
    if sprint.end is None:
        return 0
    end = day_of(sprint.end)
    first = max(today, day_of(sprint.start)) if sprint.start is not None else today
    return max(0, (end - first).days + 1)


# --- the assessment -------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    task: Task
    by: list[TaskLink]


@dataclass(frozen=True)
class SprintHealth:
    sprint: Sprint
    unit: str
    today: date
    scope_now: float
    scope_at_start: float | None  # None: the provider can't tell what changed
    added: list[Task]
    removed: list[Task]
    done: float
    remaining: float
    done_tasks: int
    open_tasks: int
    carried_over: list[Task]
    previous_sprint: str | None
    blocked: list[Blocker]
    stale: list[Task]
    stale_days: int
    unassigned: list[Task]
    forecast: Forecast
    notes: list[str] = field(default_factory=list)


def assess(
    sprint: Sprint,
    tasks: Sequence[Task],
    *,
    today: date,
    histories: dict[str, Sequence[HistoryEntry]] | None,
    removed: Sequence[Task] | None,
    previous: tuple[Sprint, Sequence[Task]] | None,
    links: dict[str, Sequence[TaskLink]] | None,
    closed: Sequence[tuple[Sprint, Sequence[Task]]],
    stale_days: int = 3,
    seed: int = DEFAULT_SEED,
    trials: int = TRIALS,
    now: datetime | None = None,
    notes: Sequence[str] = (),
) -> SprintHealth:
    """The sprint's health from what was gathered; None for histories, removed or links means the
    provider can't tell (a note says so)."""
    notes = list(notes)
    unit = choose_unit(list(tasks) + list(removed or []))
    now = now or datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(hours=12)
    scope_now = sum(work_of(t, unit) for t in tasks)
    start = sprint.start
    added: list[Task] = []
    if start is not None and histories is not None:
        for task in tasks:
            history = histories.get(task.id, ())
            came = entered(history, sprint.name, start)
            created_after = task.created_at is not None and task.created_at > start
            if came is not None or created_after:
                added.append(task)
    gone = list(removed or [])
    scope_at_start = None
    if start is not None and histories is not None and removed is not None:
        scope_at_start = (
            scope_now - sum(work_of(t, unit) for t in added) + sum(work_of(t, unit) for t in gone)
        )
    done_tasks = [t for t in tasks if is_done(t)]
    open_tasks = [t for t in tasks if not is_done(t)]
    done = sum(work_of(t, unit) for t in done_tasks)
    remaining = sum(work_of(t, unit) for t in open_tasks)
    carried: list[Task] = []
    if previous is not None:
        before, before_tasks = previous
        earlier_ids = {t.id for t in before_tasks}
        for task in tasks:
            in_history = histories is not None and was_in(histories.get(task.id, ()), before.name)
            if task.id in earlier_ids or in_history:
                carried.append(task)
    blocked: list[Blocker] = []
    if links is not None:
        for task in open_tasks:
            by = [
                link
                for link in links.get(task.id, ())
                if link.kind == LinkKind.BLOCKED_BY and link.other_done is not True
            ]
            if by:
                blocked.append(Blocker(task, by))
    limit = now - timedelta(days=stale_days)
    stale = [t for t in open_tasks if is_in_progress(t) and t.updated_at is not None and t.updated_at < limit]
    unassigned = [t for t in open_tasks if t.assignee is None]
    if unit == TASKS:
        notes.append("No task has story points or an estimate, so work is counted in tasks.")
    elif unit == HOURS:
        notes.append("No task has story points, so work is measured in estimated hours.")
    outlook = forecast(remaining, days_left(sprint, today), closed, unit, seed=seed, trials=trials)
    return SprintHealth(
        sprint=sprint,
        unit=unit,
        today=today,
        scope_now=round(scope_now, 2),
        scope_at_start=None if scope_at_start is None else round(scope_at_start, 2),
        added=added,
        removed=gone,
        done=round(done, 2),
        remaining=round(remaining, 2),
        done_tasks=len(done_tasks),
        open_tasks=len(open_tasks),
        carried_over=carried,
        previous_sprint=previous[0].name if previous is not None else None,
        blocked=blocked,
        stale=stale,
        stale_days=stale_days,
        unassigned=unassigned,
        forecast=outlook,
        notes=notes,
    )


# --- reading it through an adapter ----------------------------------------------------------


def full_history(adapter: ProviderAdapter, task_id: str) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    cursor = None
    for _ in range(MAX_HISTORY_PAGES):
        page = adapter.task_history(task_id, PageRequest(limit=100, cursor=cursor))
        entries += page.items
        cursor = page.next_cursor
        if not cursor:
            break
    return entries


def _project_id(sprint: Sprint) -> str | None:
    return sprint.project_ref.partition(":")[2] if sprint.project_ref else None


def gather(
    adapter: ProviderAdapter,
    sprint_id: str,
    *,
    today: date,
    stale_days: int = 3,
    seed: int = DEFAULT_SEED,
    trials: int = TRIALS,
    now: datetime | None = None,
) -> SprintHealth:
    """Read the sprint and what its health needs through the adapter, then `assess()` it."""
    sprint = adapter.get_sprint(sprint_id)
    tasks = adapter.sprint_tasks(sprint_id)
    notes: list[str] = []
    histories: dict[str, Sequence[HistoryEntry]] | None
    try:
        histories = {task.id: full_history(adapter, task.id) for task in tasks}
    except errors.NotSupported as exc:
        histories = None
        notes.append(
            f"Scope at the start, added and removed work: this connection does not support history ({exc})"
        )
    removed: list[Task] | None = None
    project_id = _project_id(sprint)
    if histories is not None and sprint.start is not None and project_id:
        removed = []
        current = {t.id for t in tasks}
        query = TaskQuery(project_id=project_id, updated_since=sprint.start)
        candidates = adapter.list_tasks(query, PageRequest(limit=100)).items[:MAX_REMOVED_CANDIDATES]
        for task in candidates:
            if task.id in current:
                continue
            if left(full_history(adapter, task.id), sprint.name, sprint.start) is not None:
                removed.append(task)
    links: dict[str, Sequence[TaskLink]] | None
    try:
        links = {task.id: adapter.list_links(task.id) for task in tasks if not is_done(task)}
    except errors.NotSupported as exc:
        links = None
        notes.append(f"Blocked tasks: this connection does not support links ({exc})")
    closed: list[tuple[Sprint, list[Task]]] = []
    previous = None
    if project_id:
        earlier = [
            (s, t)
            for s, t in latest_closed_sprints(adapter, project_id, SAMPLE_SPRINTS + 1)
            if s.id != sprint.id and (sprint.start is None or s.end is None or s.end <= sprint.start)
        ]
        closed = earlier[-SAMPLE_SPRINTS:]
        previous = closed[-1] if closed else None
    return assess(
        sprint,
        tasks,
        today=today,
        histories=histories,
        removed=removed,
        previous=previous,
        links=links,
        closed=closed,
        stale_days=stale_days,
        seed=seed,
        trials=trials,
        now=now,
        notes=notes,
    )
