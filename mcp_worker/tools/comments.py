"""Comments on tasks."""

from __future__ import annotations

from pydantic import Field

from portal.core.providers.base import PageRequest
from portal.core.services.comments import find_comment

from . import shapes
from .context import DEFAULT_LIMIT, budget_of, connections_of, decode_cursor, encode_cursor, note
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset
from .tasks import Cursor, Detail, Limit


class AddCommentArgs(ToolInput):
    task: str = Field(description="Task ref.")
    body: str = Field(min_length=1, max_length=32_000, description="The comment, in Markdown.")


class ListCommentsArgs(ToolInput):
    task: str = Field(description="Task ref.")
    detail: Detail = "summary"
    comment: str | None = Field(None, description="One comment's id, to read its whole body (with offset).")
    offset: int = Field(0, ge=0, description="With comment: read its body from this character on.")
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
    """A task's comments (Markdown), oldest first, with a next_cursor when there are more. Bodies are cut
    short with detail='summary' (the default); give `comment` (and `offset`) to read one whole."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    budget = budget_of(call)
    comment_id = args.comment
    if comment_id is not None:
        found = await conns.run(view, lambda a: find_comment(a, native, comment_id))
        if found is None:
            raise ToolFailure(
                f"{args.task} has no comment {comment_id[:60]!r}; list_comments without `comment` lists them."
            )
        how = f"Call list_comments with task='{args.task}', comment='{found.id}' and offset={{offset}} to read on."
        body = shapes.cut_with_marker(found.body, budget.description, how, start=args.offset)[0]
        out = shapes.comment(found).model_copy(update={"body": body})
        return CommentList(task=args.task, comments=[out])
    request = PageRequest(limit=args.limit, cursor=decode_cursor(args.cursor, "list_comments"))
    page = await conns.run(view, lambda a: a.list_comments(native, request))
    each = shapes.SUMMARY_CHARS if args.detail == "summary" else budget.each(len(page.items), share=3)
    return CommentList(
        task=args.task,
        comments=[shapes.comment(c, each, task_ref=args.task) for c in page.items],
        next_cursor=encode_cursor("list_comments", page.next_cursor),
    )
