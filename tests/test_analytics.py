"""Burndown and velocity against numbers worked out by hand."""

from datetime import UTC, date, datetime

from portal.core.providers.base import Sprint, SprintState, Status, StatusCategory, Task
from portal.core.services import analytics

DONE = Status(ref="x:done", id="done", name="Done", category=StatusCategory.DONE)
TODO = Status(ref="x:todo", id="todo", name="To do", category=StatusCategory.TODO)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def task(name: str, *, points=None, hours=None, done_on: int | None = None, done_status=None) -> Task:
    return Task(
        ref=f"x:{name}",
        id=name,
        key=name,
        title=name,
        url="https://example.com",
        status=done_status or (DONE if done_on else TODO),
        story_points=points,
        estimate_hours=hours,
        done_at=at(done_on) if done_on else None,
    )


SPRINT = Sprint(ref="x:1", id="1", name="Sprint 1", state=SprintState.CLOSED, start=at(2, 9), end=at(6, 17))


def test_burndown_in_story_points_by_hand():
    tasks = [
        task("A", points=5, done_on=3),
        task("B", points=3, done_on=5),
        task("C", points=2),
        task("D", points=1, done_on=1),  # done before the sprint started
    ]
    chart = analytics.burndown(SPRINT, tasks, today=date(2026, 3, 20))
    assert chart.unit == "story_points" and chart.total == 11
    assert [p.date.day for p in chart.points] == [2, 3, 4, 5, 6]
    assert [p.remaining for p in chart.points] == [10, 5, 5, 2, 2]
    assert [p.ideal for p in chart.points] == [11, 8.25, 5.5, 2.75, 0]
    assert chart.done_count == 3 and chart.task_count == 4


def test_burndown_of_a_running_sprint_stops_today():
    running = Sprint(ref="x:2", id="2", name="Now", state=SprintState.ACTIVE, start=at(2), end=at(6))
    chart = analytics.burndown(
        running, [task("A", points=4, done_on=3), task("B", points=4)], today=date(2026, 3, 4)
    )
    assert [p.remaining for p in chart.points] == [8, 4, 4, None, None]


def test_burndown_falls_back_to_hours_then_to_counts():
    hours = analytics.burndown(
        SPRINT, [task("A", hours=6, done_on=4), task("B", hours=2)], today=date(2026, 3, 9)
    )
    assert hours.unit == "hours" and [p.remaining for p in hours.points] == [8, 8, 2, 2, 2]
    counts = analytics.burndown(SPRINT, [task("A", done_on=2), task("B"), task("C")], today=date(2026, 3, 9))
    assert (
        counts.unit == "tasks"
        and counts.total == 3
        and [p.remaining for p in counts.points] == [2, 2, 2, 2, 2]
    )
    assert "counted in tasks" in counts.notes[0]


def test_done_without_a_time_counts_on_the_last_day_and_says_so():
    chart = analytics.burndown(
        SPRINT, [task("A", points=2, done_status=DONE), task("B", points=2)], today=date(2026, 3, 9)
    )
    assert [p.remaining for p in chart.points] == [4, 4, 4, 4, 2]
    assert chart.undated_done == 1 and any("no completion time" in note for note in chart.notes)


def test_velocity_by_hand():
    first = Sprint(ref="x:1", id="1", name="S1", state=SprintState.CLOSED, start=at(2), end=at(6))
    second = Sprint(ref="x:2", id="2", name="S2", state=SprintState.CLOSED, start=at(9), end=at(13))
    result = analytics.velocity(
        [
            (first, [task("A", points=5, done_on=4), task("B", points=3, done_on=9)]),  # B finished late
            (second, [task("C", points=4, done_on=12)]),
        ]
    )
    assert result.unit == "story_points"
    assert [(r.committed, r.completed) for r in result.sprints] == [(8, 5), (4, 4)]
    assert result.average_completed == 4.5
