"""Lead and cycle time from history, checked against numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.core.providers.base import HistoryEntry, Status, StatusCategory, Task
from portal.core.services.cycle_time import percentile, summarize, times_of

CATEGORIES = {
    "to do": StatusCategory.TODO,
    "in progress": StatusCategory.IN_PROGRESS,
    "review": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}
DONE = Status(ref="x:3", id="3", name="Done", category=StatusCategory.DONE)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def task(key: str, created: datetime) -> Task:
    return Task(ref=f"x:{key}", id=key, key=key, title=key, url="u", status=DONE, created_at=created)


def move(when: datetime, old: str | None, new: str) -> HistoryEntry:
    return HistoryEntry(at=when, field="Status", old=old, new=new)


def test_nearest_rank_percentiles():
    assert percentile([1, 3, 5.5], 50) == 3  # rank ceil(1.5) = 2
    assert percentile([1, 3, 5.5], 85) == 5.5  # rank ceil(2.55) = 3
    assert percentile([2, 5], 50) == 2 and percentile([2, 5], 85) == 5
    assert percentile([], 50) is None


def test_lead_and_cycle_times_against_hand_computed_numbers():
    t1 = times_of(
        task("T1", at(1)),
        [
            move(at(2), "To Do", "In Progress"),
            move(at(3), "In Progress", "Review"),
            move(at(4), "Review", "Done"),
        ],
        CATEGORIES,
    )
    assert (t1.lead_days, t1.cycle_days) == (3, 2)  # created the 1st, started the 2nd, done the 4th
    t2 = times_of(
        task("T2", at(1)),
        [
            move(at(1, 12), "To Do", "In Progress"),
            move(at(3), "In Progress", "Done"),
            move(at(4), "Done", "In Progress"),  # reopened
            move(at(6, 12), "In Progress", "Done"),
        ],
        CATEGORIES,
    )
    assert (t2.lead_days, t2.cycle_days) == (5.5, 5)  # the last move into done counts
    t3 = times_of(task("T3", at(3)), [move(at(4), "To Do", "Done")], CATEGORIES)
    assert (t3.lead_days, t3.cycle_days) == (1, None)  # never in progress: no cycle time
    summary = summarize([t1, t2, t3])
    assert summary.count == 3 and summary.without_start == 1
    assert summary.lead == {50: 3, 85: 5.5, 95: 5.5}
    assert summary.cycle == {50: 2, 85: 5, 95: 5}
    assert [t.task.key for t in summary.slowest] == ["T2", "T1", "T3"]


def test_an_open_task_has_no_times():
    open_task = Task(ref="x:O", id="O", key="O", title="O", url="u", created_at=at(1))
    assert times_of(open_task, [move(at(2), "To Do", "In Progress")], CATEGORIES) is None
