"""What changed on a connection's tasks since a moment: created, moved, assigned to me, commented.

For each task updated since then, `task_changes()` reads its history (status and assignee
changes) and its comments and returns one event per change, newest first. Where the provider
keeps no history, a task's changes are told as one "updated" event, with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ..providers import errors
from ..providers.base import Comment, HistoryEntry, ProviderAdapter, Task, User
from .comments import all_comments
from .sprint_health import full_history

CREATED = "created"
MOVED = "moved"
ASSIGNED_TO_ME = "assigned to me"
COMMENTED = "commented"
UPDATED = "updated"


@dataclass(frozen=True)
class Change:
    at: datetime
    kind: str
    task: Task
    detail: str
    by: str | None = None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def changes_of(
    task: Task,
    since: datetime,
    *,
    me: User,
    history: Sequence[HistoryEntry] | None,
    comments: Sequence[Comment],
) -> list[Change]:
    """The task's changes at or after `since`, newest first (history None: the provider keeps none)."""
    found: list[Change] = []
    if task.created_at is not None and _utc(task.created_at) >= since:
        who = task.reporter.name if task.reporter else None
        found.append(Change(_utc(task.created_at), CREATED, task, f"created: {task.title}", who))
    if history is not None:
        for entry in history:
            at = _utc(entry.at)
            if at < since:
                continue
            name = entry.field.strip().lower()
            who = entry.author.name if entry.author else None
            if name == "status":
                found.append(Change(at, MOVED, task, f"{entry.old or '?'} → {entry.new or '?'}", who))
            elif name in ("assignee", "assigned to", "assignees") and entry.new and me.name in entry.new:
                found.append(Change(at, ASSIGNED_TO_ME, task, f"assigned to {me.name}", who))
    elif task.updated_at is not None and _utc(task.updated_at) >= since:
        found.append(Change(_utc(task.updated_at), UPDATED, task, "updated (no history to say what)", None))
    for comment in comments:
        if comment.created_at is not None and _utc(comment.created_at) >= since:
            who = comment.author.name if comment.author else None
            first_line = comment.body.strip().splitlines()[0] if comment.body.strip() else ""
            found.append(Change(_utc(comment.created_at), COMMENTED, task, first_line[:200], who))
    found.sort(key=lambda c: c.at, reverse=True)
    return found


def task_changes(
    adapter: ProviderAdapter, tasks: Sequence[Task], since: datetime
) -> tuple[list[Change], bool]:
    """Every change of these tasks since `since`, newest first; and whether history was read."""
    me = adapter.current_user()
    with_history = True
    changes: list[Change] = []
    for task in tasks:
        history: list[HistoryEntry] | None = None
        if with_history:
            try:
                history = full_history(adapter, task.id)
            except errors.NotSupported:
                with_history = False
        changes += changes_of(task, since, me=me, history=history, comments=all_comments(adapter, task.id))
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes, with_history
