"""changes_since's events of one task, against what was done to it by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.core.providers.base import Comment, HistoryEntry, Task, User

ME = User(ref="x:me", id="me", name="Ana Silva")
BEN = User(ref="x:ben", id="ben", name="Ben Okafor")


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_events_since_a_moment_newest_first():
    from portal.core.services.changes import changes_of

    task = Task(ref="x:T", id="T", key="T", title="Fix login", url="u", created_at=at(2), updated_at=at(5))
    history = [
        HistoryEntry(at=at(1), field="Status", old="To Do", new="In Progress"),  # before: left out
        HistoryEntry(at=at(3), field="Status", old="To Do", new="In Progress", author=BEN),
        HistoryEntry(at=at(4), field="Assignee", old=None, new="Ana Silva", author=BEN),
        HistoryEntry(at=at(4, 13), field="Assignee", old="Ana Silva", new="Ben Okafor", author=BEN),
        HistoryEntry(at=at(4, 14), field="Priority", old="Low", new="High"),  # not one of the kinds
    ]
    comments = [
        Comment(ref="x:c1", id="c1", body="Old remark", created_at=at(1)),
        Comment(ref="x:c2", id="c2", body="Found it\nin the session code", author=BEN, created_at=at(5)),
    ]
    found = changes_of(task, at(2), me=ME, history=history, comments=comments)
    assert [(c.at, c.kind, c.detail, c.by) for c in found] == [
        (at(5), "commented", "Found it", "Ben Okafor"),
        (at(4), "assigned to me", "assigned to Ana Silva", "Ben Okafor"),
        (at(3), "moved", "To Do → In Progress", "Ben Okafor"),
        (at(2), "created", "created: Fix login", None),
    ]
    # Without history the change is told as one "updated".
    plain = changes_of(task, at(3), me=ME, history=None, comments=[])
    assert [(c.at, c.kind) for c in plain] == [(at(5), "updated")]
