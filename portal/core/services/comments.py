"""A task's comments newest first, whatever order the vendor pages them in.

Vendors page comments oldest first; an agent wants the latest ones. Every page is read
(100 at a time, up to MAX_COMMENTS), then the comments are ordered newest first and a
window of them is returned with the position of the next window.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..providers.base import Comment, PageRequest, ProviderAdapter

PAGE = 100
MAX_COMMENTS = 5000


@dataclass(frozen=True)
class CommentWindow:
    comments: list[Comment]  # newest first
    total: int
    next_offset: int | None  # where the next (older) window starts, None at the oldest


def all_comments(adapter: ProviderAdapter, task_id: str) -> list[Comment]:
    """Every comment of the task in the vendor's order (at most MAX_COMMENTS)."""
    found: list[Comment] = []
    cursor = None
    while len(found) < MAX_COMMENTS:
        page = adapter.list_comments(task_id, PageRequest(limit=PAGE, cursor=cursor))
        found += page.items
        cursor = page.next_cursor
        if not cursor or not page.items:
            break
    return found[:MAX_COMMENTS]


def newest_first(comments: list[Comment]) -> list[Comment]:
    """Newest first by creation time; comments without one keep their place relative to each other, last."""
    indexed = list(enumerate(comments))
    dated = [(i, c) for i, c in indexed if c.created_at is not None]
    undated = [(i, c) for i, c in indexed if c.created_at is None]
    # Later in the vendor's order wins a tie, as it was added later.
    dated.sort(key=lambda item: (item[1].created_at, item[0]), reverse=True)
    return [c for _, c in dated] + [c for _, c in reversed(undated)]


def comment_window(adapter: ProviderAdapter, task_id: str, *, offset: int, limit: int) -> CommentWindow:
    ordered = newest_first(all_comments(adapter, task_id))
    window = ordered[offset : offset + limit]
    following = offset + limit
    return CommentWindow(window, len(ordered), following if following < len(ordered) else None)


def find_comment(adapter: ProviderAdapter, task_id: str, comment_id: str) -> Comment | None:
    """The comment with this native id (or ref) on the task, reading its pages until found."""
    wanted = comment_id.strip()
    cursor = None
    for _ in range(MAX_COMMENTS // PAGE):
        page = adapter.list_comments(task_id, PageRequest(limit=PAGE, cursor=cursor))
        for comment in page.items:
            if wanted in (comment.id, comment.ref):
                return comment
        cursor = page.next_cursor
        if not cursor or not page.items:
            return None
    return None
