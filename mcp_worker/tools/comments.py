"""Comments on tasks."""

from __future__ import annotations

from pydantic import Field

from portal.core.providers.base import PageRequest

from . import shapes
from .context import DEFAULT_LIMIT, connections_of, decode_cursor, encode_cursor, note
from .registry import ToolCall, ToolInput, ToolOutput, Toolset
from .tasks import Cursor, Limit


class AddCommentArgs(ToolInput):
    task: str = Field(description="Task ref.")
    body: str = Field(min_length=1, max_length=32_000, description="The comment, in Markdown.")


class ListCommentsArgs(ToolInput):
    task: str = Field(description="Task ref.")
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


class CommentAdded(ToolOutput):
    task: str
    comment: shapes.CommentOut

    def text(self) -> str:
        return f"Commented on {self.task}: {self.comment.body}"


class CommentList(ToolOutput):
    task: str
    comments: list[shapes.CommentOut]
    next_cursor: str | None = None

    def text(self) -> str:
        return shapes.lines(
            self.comments, lambda c: f"- {c.author or 'someone'} ({c.created_at}): {c.body}", "No comments."
        ) + shapes.more_text(self.next_cursor)


toolset = Toolset()


@toolset.tool("add_comment", title="Comment on a task", read_only=False)
async def add_comment(call: ToolCall, args: AddCommentArgs) -> CommentAdded:
    """Add a comment (Markdown) to a task, as the connection's user."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    comment = await conns.run(view, lambda a: a.add_comment(native, args.body))
    return CommentAdded(task=args.task, comment=shapes.comment(comment))


@toolset.tool("list_comments", title="List a task's comments", read_only=True)
async def list_comments(call: ToolCall, args: ListCommentsArgs) -> CommentList:
    """A task's comments (Markdown), oldest first, with a next_cursor when there are more."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    request = PageRequest(limit=args.limit, cursor=decode_cursor(args.cursor, "list_comments"))
    page = await conns.run(view, lambda a: a.list_comments(native, request))
    return CommentList(
        task=args.task,
        comments=[shapes.comment(c) for c in page.items],
        next_cursor=encode_cursor("list_comments", page.next_cursor),
    )
