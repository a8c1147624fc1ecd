"""Sprint health and its forecast, checked against numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.core.providers.base import (
    HistoryEntry,
    LinkKind,
    Sprint,
    SprintState,
    Status,
    StatusCategory,
    Task,
    TaskLink,
    User,
)
from portal.core.services.sprint_health import assess, daily_throughput, days_left, simulate

TODO = Status(ref="x:1", id="1", name="To Do", category=StatusCategory.TODO)
DOING = Status(ref="x:2", id="2", name="In Progress", category=StatusCategory.IN_PROGRESS)
DONE = Status(ref="x:3", id="3", name="Done", category=StatusCategory.DONE)
ANA = User(ref="x:ana", id="ana", name="Ana")


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def task(key: str, points: float, status: Status, **kwargs) -> Task:
    kwargs.setdefault("created_at", at(2, 20))
    kwargs.setdefault("updated_at", at(3, 4))
    kwargs.setdefault("assignee", ANA)
    return Task(
        ref=f"x:{key}", id=key, key=key, title=key, url="u", status=status, story_points=points, **kwargs
    )


def sprint(name: str, start: datetime, end: datetime, state=SprintState.ACTIVE) -> Sprint:
    return Sprint(ref=f"x:{name}", id=name, name=name, state=state, start=start, end=end, project_ref="x:P")


S1 = sprint("S1", at(2, 23, 9), at(2, 27, 17), SprintState.CLOSED)
S1_TASKS = [
    task("OLD1", 4, DONE, done_at=at(2, 23, 15)),
    task("OLD2", 4, DONE, done_at=at(2, 25, 10)),
    task("B", 5, DOING),  # not finished in S1: carried over into S2
]
S2 = sprint("S2", at(3, 2, 9), at(3, 6, 17))


def scenario(**overrides):
    tasks = [
        task("A", 3, DONE, done_at=at(3, 3)),
        task("B", 5, DOING, updated_at=at(2, 28)),  # in progress, untouched for more than 3 days
        task("C", 2, TODO, assignee=None, created_at=at(3, 3)),  # created after the start
        task("D", 1, DOING),
    ]
    histories = {
        "A": [],
        "B": [HistoryEntry(at=at(2, 27, 18), field="Sprint", old="S1", new="S1, S2")],
        "C": [],
        "D": [HistoryEntry(at=at(3, 3), field="Sprint", old=None, new="S2")],  # moved in mid-sprint
    }
    removed = [task("R", 8, TODO)]  # left the sprint on its first day
    links = {
        "B": [],
        "C": [],
        "D": [
            TaskLink(
                ref="x:l1",
                id="l1",
                kind=LinkKind.BLOCKED_BY,
                label="is blocked by",
                task_ref="x:D",
                other_ref="x:E",
                other_done=False,
            ),
            TaskLink(
                ref="x:l2",
                id="l2",
                kind=LinkKind.BLOCKED_BY,
                label="is blocked by",
                task_ref="x:D",
                other_ref="x:F",
                other_done=True,
            ),
        ],
    }
    arguments = dict(
        today=date(2026, 3, 4),
        histories=histories,
        removed=removed,
        previous=(S1, S1_TASKS),
        links=links,
        closed=[(S1, S1_TASKS)],
        seed=7,
    )
    arguments.update(overrides)
    return assess(S2, tasks, **arguments)


def test_daily_throughput_is_the_work_done_on_each_sprint_day():
    assert daily_throughput(S1, S1_TASKS, "story_points") == [4, 0, 4, 0, 0]
    assert daily_throughput(S1, S1_TASKS, "tasks") == [1, 0, 1, 0, 0]


def test_days_left_count_today_until_the_last_day():
    assert days_left(S2, date(2026, 3, 4)) == 3  # the 4th, 5th and 6th
    assert days_left(S2, date(2026, 2, 1)) == 5  # before it starts: the whole sprint
    assert days_left(S2, date(2026, 3, 7)) == 0


def test_simulation_edges_and_determinism():
    assert simulate([3, 3, 3], 2, 5, seed=1) == 1.0
    assert simulate([0, 0], 5, 1, seed=1) == 0.0
    assert simulate([1], 0, 0, seed=1) == 1.0
    first = simulate([4, 0, 4, 0, 0], 3, 8, seed=99)
    assert simulate([4, 0, 4, 0, 0], 3, 8, seed=99) == first


def test_sprint_health_against_hand_computed_numbers():
    health = scenario()
    assert health.unit == "story_points"
    assert health.scope_now == 11  # 3 + 5 + 2 + 1
    assert sorted(t.key for t in health.added) == ["C", "D"]  # created after the start; moved in
    assert [t.key for t in health.removed] == ["R"]
    assert health.scope_at_start == 16  # 11 - (2 + 1) + 8
    assert (health.done, health.remaining, health.done_tasks, health.open_tasks) == (3, 8, 1, 3)
    assert [t.key for t in health.carried_over] == ["B"] and health.previous_sprint == "S1"
    assert [(b.task.key, [link.other_ref for link in b.by]) for b in health.blocked] == [("D", ["x:E"])]
    assert [t.key for t in health.stale] == ["B"]
    assert [t.key for t in health.unassigned] == ["C"]
    outlook = health.forecast
    assert outlook.sample == [4, 0, 4, 0, 0] and outlook.sample_sprints == ["S1"]
    assert (outlook.days_left, outlook.remaining, outlook.seed, outlook.trials) == (3, 8, 7, 10_000)
    # Three days, each 4 points with probability 2/5, else 0; 8 needs two fours or three:
    # 3 * 0.4^2 * 0.6 + 0.4^3 = 0.352.
    assert outlook.probability == pytest.approx(0.352, abs=0.02)
    assert "Monte Carlo" in outlook.method and "Seed 7" in outlook.method and "S1" in outlook.method
    assert scenario().forecast.probability == outlook.probability  # the same seed, the same answer


def test_what_a_provider_cannot_tell_is_none_not_zero():
    health = scenario(histories=None, removed=None, links=None, closed=[], previous=None)
    assert health.scope_at_start is None and health.added == [] and health.blocked == []
    assert health.forecast.probability is None and "no forecast" in health.forecast.method
    assert health.carried_over == []
