"""Logged work and what changed: log_work, list_worklogs and get_task_history."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import Field, model_validator

from portal.core.durations import MAX_HOURS, MAX_TEXT, logged_hours
from portal.core.providers.base import ME, PageRequest, WorklogDraft, WorklogQuery

from . import shapes
from .context import DEFAULT_LIMIT, connections_of, decode_cursor, encode_cursor, note
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset
from .tasks import Cursor, Limit, person_id

MAX_RANGE_DAYS = 366

toolset = Toolset()


def started_at(day: date | datetime | None) -> datetime | None:
    """When the work started: a day alone means noon UTC, which is that same day in nearly every zone."""
    if day is None:
        return None
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=UTC)
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


class LogWorkArgs(ToolInput):
    task: str = Field(description="Task ref.")
    hours: float | None = Field(None, gt=0, le=MAX_HOURS, description="Time spent in hours, such as 1.5.")
    duration: str | None = Field(
        None, max_length=MAX_TEXT, description="Or the time spent as a duration: 1h30m, 2h, 45m."
    )
    started: date | datetime | None = Field(
        None, description="When the work started: YYYY-MM-DD or an ISO 8601 time; now when omitted."
    )
    comment: str | None = Field(None, max_length=32_000, description="What was done, in Markdown.")

    @model_validator(mode="after")
    def _one_amount(self) -> LogWorkArgs:
        if (self.hours is None) == (self.duration is None):
            raise ValueError("give either hours (such as 1.5) or duration (such as 1h30m), not both")
        return self

    def spent_hours(self) -> float:
        """The hours given, or those of the duration; ToolFailure naming the argument when they are no time."""
        argument, value = (
            ("hours", self.hours) if self.hours is not None else ("duration", self.duration or "")
        )
        try:
            return logged_hours(value)
        except ValueError as exc:
            raise ToolFailure(f"{argument}: {exc}.") from None


class WorkLogged(ToolOutput):
    worklog: shapes.WorklogOut

    def text(self) -> str:
        return f"Logged {self.worklog.hours:g}h on {self.worklog.task} ({self.worklog.ref})."


class ListWorklogsArgs(ToolInput):
    task: str | None = Field(None, description="Task ref: the time logged on it.")
    person: str | None = Field(
        None, description="Or a person ('me', an email, a name or a user ref) over since..until."
    )
    project: str | None = Field(None, description="With person: only this project's tasks.")
    connection: str | None = Field(None, description="With person and no project: the connection slug.")
    since: date | None = Field(None, description="With person: the first day, YYYY-MM-DD.")
    until: date | None = Field(None, description="With person: the last day (included); today when omitted.")
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None

    @model_validator(mode="after")
    def _one_scope(self) -> ListWorklogsArgs:
        if (self.task is None) == (self.person is None):
            raise ValueError("give either task, or person with since (and until)")
        if self.task is not None and {"project", "connection", "since", "until"} & self.model_fields_set:
            raise ValueError("project, connection, since and until go with person, not with task")
        if self.person is not None and self.since is None:
            raise ValueError("with person, give since (the first day, YYYY-MM-DD)")
        return self


class WorklogList(ToolOutput):
    worklogs: list[shapes.WorklogOut]
    total_hours: float = Field(description="The hours of the worklogs on this page")
    next_cursor: str | None = None

    def text(self) -> str:
        rows = shapes.lines(self.worklogs, shapes.WorklogOut.line, "No time logged.")
        return f"{rows}\nTotal on this page: {self.total_hours:g}h" + shapes.more_text(self.next_cursor)


class HistoryArgs(ToolInput):
    task: str = Field(description="Task ref.")
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


class History(ToolOutput):
    task: str
    changes: list[shapes.HistoryEntryOut] = Field(description="Oldest first, one per changed field")
    next_cursor: str | None = None

    def text(self) -> str:
        return shapes.lines(
            self.changes, shapes.HistoryEntryOut.line, "No changes recorded."
        ) + shapes.more_text(self.next_cursor)


@toolset.tool("log_work", title="Log time on a task", read_only=False)
async def log_work(call: ToolCall, args: LogWorkArgs) -> WorkLogged:
    """Log time spent on a task, as hours (1.5) or a duration (1h30m), started on a day or at a time
    (now when omitted), with a Markdown comment. Each call adds an entry."""
    hours = args.spent_hours()
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    draft = WorklogDraft(hours=hours, started=started_at(args.started), comment=args.comment or None)
    worklog = await conns.run(view, lambda a: a.log_work(native, draft))
    return WorkLogged(worklog=shapes.worklog(worklog))


@toolset.tool("list_worklogs", title="List logged time", read_only=True)
async def list_worklogs(call: ToolCall, args: ListWorklogsArgs) -> WorklogList:
    """Time logged on a task; or time a person logged over a range of days (since..until) across a
    project or a whole connection. Oldest first, paged."""
    conns = await connections_of(call)
    request = PageRequest(limit=args.limit, cursor=decode_cursor(args.cursor, "list_worklogs"))
    if args.task is not None:
        view, native = conns.resolve(args.task, "task")
        note(call, view, args.task)
        page = await conns.run(view, lambda a: a.list_worklogs(native, request))
    else:
        query, view = await _person_query(call, args)
        page = await conns.run(view, lambda a: a.search_worklogs(query, request))
    worklogs = [shapes.worklog(w) for w in page.items]
    return WorklogList(
        worklogs=worklogs,
        total_hours=round(sum(w.hours for w in worklogs), 4),
        next_cursor=encode_cursor("list_worklogs", page.next_cursor),
    )


async def _person_query(call: ToolCall, args: ListWorklogsArgs):
    conns = await connections_of(call)
    project_id = None
    if args.project:
        view, project_id = conns.resolve(args.project, "project")
    else:
        view = conns.choose(args.connection)
    note(call, view, args.project)
    until = args.until or datetime.now(UTC).date()
    since = args.since or until
    if until < since:
        raise ToolFailure(f"until ({until}) is before since ({since}).")
    if until - since > timedelta(days=MAX_RANGE_DAYS):
        raise ToolFailure(f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    spec = args.person or "me"
    user_id = (
        ME
        if spec.strip().lower() == "me"
        else await person_id(conns, view, spec, project_id, "among the people of this connection")
    )
    return WorklogQuery(user_id=user_id, since=since, until=until, project_id=project_id), view


@toolset.tool("get_task_history", title="A task's change history", read_only=True)
async def get_task_history(call: ToolCall, args: HistoryArgs) -> History:
    """What changed on a task: who changed which field from what to what, and when; oldest first, paged."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    request = PageRequest(limit=args.limit, cursor=decode_cursor(args.cursor, "get_task_history"))
    page = await conns.run(view, lambda a: a.task_history(native, request))
    return History(
        task=args.task,
        changes=[shapes.history_entry(e) for e in page.items],
        next_cursor=encode_cursor("get_task_history", page.next_cursor),
    )
