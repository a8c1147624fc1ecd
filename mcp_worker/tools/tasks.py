"""Tasks: list, search, read, create, update, move, assign, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from portal.core.providers import errors as provider_errors
from portal.core.providers.base import (
    ME,
    PageRequest,
    Status,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    TaskSort,
)
from portal.core.services.comments import comment_window
from portal.core.services.connections import ConnectionView
from portal.core.services.my_tasks import OPEN, merge_task_pages, my_tasks_query, share_per_connection
from portal.core.services.resolve import match_person, match_priority, match_status, parse_category

from ..connections import UserConnections, fan_out
from . import shapes
from .context import (
    DEFAULT_LIMIT,
    FAN_OUT_SECONDS,
    budget_of,
    connections_of,
    decode_cursor,
    decode_fan_out_cursor,
    encode_cursor,
    failure_of,
    note,
)
from .fields import CustomFields, field_values
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset

Limit = Annotated[int, Field(ge=1, le=100, description="How many to return: 25 by default, at most 100.")]
Cursor = Annotated[str | None, Field(description="The next_cursor of the previous page, to continue.")]
Detail = Annotated[
    Literal["summary", "full"],
    Field(description="summary (short, the default for lists) or full (every field, long text cut to fit)."),
]
MAX_NATIVE_QUERY = 4000


def _utc(moment: datetime | date | None) -> datetime | None:
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def same_connection(view: ConnectionView, other: ConnectionView, what: str) -> None:
    if other.slug != view.slug:
        raise ToolFailure(
            f"The {what} must be in the same connection as the task ({view.slug}), not {other.slug}."
        )


async def person_id(
    conns: UserConnections, view: ConnectionView, spec: str, project_id: str | None, where: str
) -> str:
    """A person given as me, an email, a name or a user ref, as the provider's native user id."""
    if spec.strip().lower() == "me":
        return (await conns.run(view, lambda a: a.current_user())).id

    def lookup(adapter):
        return adapter.list_users(project_id), adapter.current_user()

    candidates, me = await conns.run(view, lookup)
    return match_person(spec, candidates, me=me, where=where).id


# --- listing -----------------------------------------------------------------------


class ListTasksArgs(ToolInput):
    project: str | None = Field(None, description="Project ref, such as 'acme-jira:PROJ'.")
    connection: str | None = Field(
        None, description="Connection slug, when no project, sprint or epic is given."
    )
    assignee: str | None = Field(
        None, description="'me', an email, a name or a user ref; 'none' for unassigned."
    )
    status: str | None = Field(None, description="A status name of the project (needs `project`).")
    status_category: str | None = Field(
        None, description="todo, in_progress, done, or open (todo and in progress)."
    )
    text: str | None = Field(
        None, description="Words to find in titles (and descriptions where the provider searches them)."
    )
    sprint: str | None = Field(None, description="Sprint ref.")
    epic: str | None = Field(None, description="Epic ref.")
    updated_since: datetime | date | None = Field(None, description="ISO 8601 date or time.")
    blocked: bool = Field(
        False, description="Only tasks blocked now: linked as 'is blocked by' to a task that is not done."
    )
    native_query: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_NATIVE_QUERY,
        description="The vendor's own query, sent as it is with no other filter: JQL for JIRA, a filter "
        "array (JSON) for OpenProject, a saved query id or query string for Redmine, a view id for ClickUp. "
        "Give `connection` with it. Not on the built-in tracker.",
    )
    sort: Literal["updated", "created", "priority", "due", "key"] = "updated"
    order: Literal["asc", "desc"] = "desc"
    detail: Detail = "summary"
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


NATIVE_QUERY_ALONE = (
    "project",
    "assignee",
    "status",
    "status_category",
    "text",
    "sprint",
    "epic",
    "updated_since",
    "blocked",
)


def _native_query(
    call: ToolCall, conns: UserConnections, args: ListTasksArgs
) -> tuple[ConnectionView, TaskQuery]:
    """A vendor query, passed through whole: our filters are refused beside it rather than spliced in."""
    mixed = sorted(
        name for name in NATIVE_QUERY_ALONE if name in args.model_fields_set and getattr(args, name)
    )
    if mixed:
        raise ToolFailure(
            f"native_query is the vendor's whole query: put {', '.join(mixed)} into it, or drop native_query "
            "and use the filters (give `connection` to say where it runs)."
        )
    view = conns.choose(args.connection)
    note(call, view)
    if view.is_local:
        raise ToolFailure(
            "The built-in tracker has no query language of its own: use list_tasks' filters (project, "
            "assignee, status, text, sprint, epic, blocked ...) instead of native_query."
        )
    return view, TaskQuery(native_query=args.native_query)


async def _build_query(
    call: ToolCall, conns: UserConnections, args: ListTasksArgs
) -> tuple[ConnectionView, TaskQuery]:
    if args.native_query is not None:
        return _native_query(call, conns, args)
    view: ConnectionView | None = None
    project_id = sprint_id = epic_id = None
    for value, what in ((args.project, "project"), (args.sprint, "sprint"), (args.epic, "epic")):
        if value:
            found, native = conns.resolve(value, what)
            if view is not None and found.slug != view.slug:
                raise ToolFailure("project, sprint and epic must all be in the same connection.")
            view = found
            if what == "project":
                project_id = native
            elif what == "sprint":
                sprint_id = native
            else:
                epic_id = native
    if view is None:
        view = conns.choose(args.connection)
    note(call, view, args.project or args.sprint or args.epic)
    assignee = None
    unassigned = False
    if args.assignee:
        spec = args.assignee.strip()
        if spec.lower() in ("none", "unassigned"):
            unassigned = True
        elif spec.lower() == "me":
            assignee = ME
        else:
            assignee = await person_id(conns, view, spec, project_id, "among the people of this connection")
    statuses: tuple[Status, ...] = ()
    if args.status:
        if not project_id:
            raise ToolFailure("Filtering by status name needs a project; or use status_category.")
        known = await conns.run(view, lambda a: a.list_statuses(project_id))
        statuses = (match_status(args.status, known, where=f"in {args.project}"),)
    categories = parse_category(args.status_category) if args.status_category else frozenset()
    return view, TaskQuery(
        project_id=project_id,
        assignee=assignee,
        unassigned=unassigned,
        statuses=statuses,
        categories=categories,
        text=args.text or None,
        sprint_id=sprint_id,
        epic_id=epic_id,
        updated_since=_utc(args.updated_since),
        sort=TaskSort(args.sort),
        descending=args.order == "desc",
        blocked=args.blocked,
    )


def _shaped(call: ToolCall, tasks: list, detail: str) -> list[shapes.TaskSummaryOut]:
    """Tasks as a list returns them: summaries, or full with each description's share of the ceiling."""
    if detail != "full":
        return [shapes.task_summary(t) for t in tasks]
    each = budget_of(call).each(len(tasks), share=4)
    return [shapes.task_full(t, each) for t in tasks]


async def _fan_out_tasks(
    call: ToolCall, tool: str, query: TaskQuery, limit: int, cursor: str | None, detail: str = "summary"
) -> shapes.TaskList:
    """Query every usable connection at once; each returns up to its share of `limit`."""
    conns = await connections_of(call)
    positions = decode_fan_out_cursor(cursor, tool)
    if positions is None:
        pending = {v.slug: None for v in conns.usable}
    else:
        pending = {slug: c for slug, c in positions.items() if slug in conns.slugs}
    targets = [v for v in conns.usable if v.slug in pending]
    share = share_per_connection(limit, len(targets))

    async def one(view: ConnectionView):
        page_request = PageRequest(limit=share, cursor=pending[view.slug])
        return await conns.run(view, lambda a: a.list_tasks(query, page_request))

    results, failures = await fan_out(targets, one, time_limit=FAN_OUT_SECONDS)
    tasks, following = merge_task_pages([view.slug for view in targets], results)
    failed = []
    for slug, exc in failures.items():
        error_class, message = failure_of(slug, exc, call)
        failed.append(shapes.ConnectionFailure(connection=slug, error_class=error_class, message=message))
    return shapes.TaskList(
        tasks=_shaped(call, tasks, detail),
        next_cursor=encode_cursor(tool, following),
        failures=failed,
    )


class MyTasksArgs(ToolInput):
    include_done: bool = Field(False, description="Also list tasks in a done status.")
    detail: Detail = "summary"
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


class SearchArgs(ToolInput):
    text: str = Field(
        min_length=1, description="Words to find in task titles (and descriptions where supported)."
    )
    include_done: bool = Field(True, description="Also find tasks in a done status.")
    detail: Detail = "summary"
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


# --- one task -----------------------------------------------------------------------


class TaskRefArgs(ToolInput):
    task: str = Field(description="Task ref, such as 'acme-jira:PROJ-12'.")


class GetTaskArgs(TaskRefArgs):
    include_comments: bool = Field(False, description="Also return comments, newest first.")
    include_transitions: bool = Field(False, description="Also return the statuses the task can move to.")
    include: list[Literal["comments", "transitions", "links", "worklogs"]] = Field(
        default_factory=list,
        max_length=4,
        description="What else to return: links (to other tasks, with the refs unlink_tasks takes), "
        "worklogs (the first 20), comments (newest first), transitions.",
    )
    comments_limit: int = Field(10, ge=1, le=50, description="How many comments at a time (10 by default).")
    comments_cursor: str | None = Field(
        None, description="The next_comments_cursor of the previous call, for older comments."
    )
    description_offset: int = Field(
        0, ge=0, description="Read the description from this character on (where a cut one says to)."
    )
    detail: Detail = "full"


class TaskDetail(ToolOutput):
    task: shapes.TaskOut
    comments: list[shapes.CommentOut] | None = None
    comment_count: int | None = None
    next_comments_cursor: str | None = None
    available_statuses: list[shapes.StatusOut] | None = None
    links: list[shapes.LinkOut] | None = None
    worklogs: list[shapes.WorklogOut] | None = None
    notes: list[str] = Field(default_factory=list, description="What was asked for but could not be read")

    def text(self) -> str:
        task = self.task
        out = [task.line(), task.url]
        facts = [
            ("Type", task.type),
            ("Project", task.project),
            ("Epic", task.epic),
            ("Parent", task.parent),
            ("Sprint", task.sprint),
            ("Story points", task.story_points),
            ("Estimate (h)", task.estimate_hours),
        ]
        out += [
            f"{label}: {value:g}" if isinstance(value, float) else f"{label}: {value}"
            for label, value in facts
            if value is not None
        ]
        if task.description:
            out += ["", task.description]
        if self.available_statuses is not None:
            out.append("Can move to: " + (", ".join(s.name for s in self.available_statuses) or "nothing"))
        if self.links:
            out += ["", "Links:"] + [link.line() for link in self.links]
        if self.worklogs:
            out += ["", "Logged:"] + [w.line() for w in self.worklogs]
        if self.comments:
            out.append("")
            out.append(f"Comments, newest first ({len(self.comments)} of {self.comment_count}):")
            out += [f"- {c.author or 'someone'} ({c.created_at}): {c.body}" for c in self.comments]
        if self.next_comments_cursor:
            out.append(f'(older comments: pass comments_cursor="{self.next_comments_cursor}" to get_task)')
        return "\n".join(out + self.notes)


class TaskChanged(ToolOutput):
    task: shapes.TaskOut
    message: str

    def text(self) -> str:
        return f"{self.message}\n{self.task.line()}\n{self.task.url}"


class CreateTaskArgs(ToolInput):
    project: str = Field(description="Project ref to create the task in.")
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, description="Markdown.")
    type: str | None = Field(
        None, description="Task type where the provider has them (Task, Bug, Story ...)."
    )
    priority: str | None = Field(
        None, description="Priority name, or a level: lowest, low, medium, high, highest."
    )
    assignee: str | None = Field(None, description="'me', an email, a name or a user ref.")
    due: date | None = Field(None, description="Due date, ISO 8601 (YYYY-MM-DD).")
    estimate_hours: float | None = Field(None, ge=0)
    story_points: float | None = Field(None, ge=0)
    parent: str | None = Field(None, description="Parent task ref.")
    epic: str | None = Field(None, description="Epic ref.")
    sprint: str | None = Field(None, description="Sprint ref.")
    labels: list[str] = Field(default_factory=list)
    fields: CustomFields = None


class UpdateTaskArgs(ToolInput):
    task: str = Field(description="Task ref.")
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, description="Markdown; null clears it.")
    priority: str | None = Field(None, description="Priority name or level; null clears it where allowed.")
    due: date | None = Field(None, description="ISO 8601 date; null clears it.")
    estimate_hours: float | None = Field(None, ge=0)
    story_points: float | None = Field(None, ge=0)
    parent: str | None = Field(None, description="Parent task ref; null removes the parent.")
    epic: str | None = Field(None, description="Epic ref; null removes the task from its epic.")
    sprint: str | None = Field(None, description="Sprint ref; null moves it out of its sprint.")
    fields: CustomFields = None


class SetStatusArgs(TaskRefArgs):
    status: str = Field(min_length=1, description="The status name to move to (case-insensitive).")


class AssignArgs(TaskRefArgs):
    assignee: str | None = Field(
        description="'me', an email, a name or a user ref; null or 'none' to unassign.",
    )


class Deleted(ToolOutput):
    ref: str
    deleted: bool

    def text(self) -> str:
        return f"Deleted {self.ref}."


async def in_same_connection(
    conns: UserConnections, view: ConnectionView, value: str | None, what: str
) -> str | None:
    if value is None:
        return None
    other, native = conns.resolve(value, what)
    same_connection(view, other, what)
    return native


toolset = Toolset()


@toolset.tool("list_tasks", title="List tasks", read_only=True)
async def list_tasks(call: ToolCall, args: ListTasksArgs) -> shapes.TaskList:
    """Tasks of one connection, filtered by project, assignee ('me' works), status or status category,
    text, sprint, epic and last update, sorted. Returns short summaries and a next_cursor when there are
    more; use get_task for a task's full description."""
    conns = await connections_of(call)
    view, query = await _build_query(call, conns, args)
    page_request = PageRequest(limit=args.limit, cursor=decode_cursor(args.cursor, "list_tasks"))
    page = await conns.run(view, lambda a: a.list_tasks(query, page_request))
    return shapes.TaskList(
        tasks=_shaped(call, page.items, args.detail),
        next_cursor=encode_cursor("list_tasks", page.next_cursor),
    )


@toolset.tool("list_my_tasks", title="List my tasks", read_only=True)
async def list_my_tasks(call: ToolCall, args: MyTasksArgs) -> shapes.TaskList:
    """Open tasks assigned to me across all my connections at once (done ones too with include_done).
    A connection that fails or is slow is reported in `failures`; the others' tasks are still returned."""
    query = my_tasks_query(include_done=args.include_done)
    return await _fan_out_tasks(call, "list_my_tasks", query, args.limit, args.cursor, args.detail)


@toolset.tool("search_tasks", title="Search tasks", read_only=True)
async def search_tasks(call: ToolCall, args: SearchArgs) -> shapes.TaskList:
    """Find tasks by text across all my active connections at once. A connection that fails or is slow is
    reported in `failures`; the others' results are still returned."""
    query = TaskQuery(text=args.text, categories=frozenset() if args.include_done else OPEN)
    return await _fan_out_tasks(call, "search_tasks", query, args.limit, args.cursor, args.detail)


@toolset.tool("get_task", title="Get a task", read_only=True)
async def get_task(call: ToolCall, args: GetTaskArgs) -> TaskDetail:
    """One task in full: description (Markdown), people, dates, estimates, epic, parent and sprint;
    optionally (`include`) its links to other tasks, logged work, comments (newest first, paged) and the
    statuses it can move to. Long text is cut with a note saying how to read on."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    budget = budget_of(call)
    comments_offset = decode_cursor(args.comments_cursor, "get_task") or 0
    if not isinstance(comments_offset, int) or comments_offset < 0:
        raise ToolFailure("That comments_cursor is not one get_task returned: omit it to start over.")
    wanted = set(args.include)
    wanted |= {"comments"} if args.include_comments or args.comments_cursor else set()
    wanted |= {"transitions"} if args.include_transitions else set()
    read_extra = {
        **_READ_EXTRA,
        "comments": lambda adapter, native: comment_window(
            adapter, native, offset=comments_offset, limit=args.comments_limit
        ),
    }

    def read(adapter):
        task = adapter.get_task(native)
        extras: dict[str, Any] = {}
        notes: list[str] = []
        for part in sorted(wanted):
            try:
                extras[part] = read_extra[part](adapter, native)
            except provider_errors.NotSupported as exc:
                notes.append(f"No {part}: {exc}")
        return task, extras, notes

    task, extras, notes = await conns.run(view, read)
    if args.detail == "summary" and args.description_offset == 0:
        description_chars = shapes.SUMMARY_CHARS
    else:
        description_chars = budget.description
    window = extras.get("comments")
    comments = None
    if window is not None:
        each = budget.each(len(window.comments))
        comments = [shapes.comment(c, each, task_ref=task.ref) for c in window.comments]
    return TaskDetail(
        task=shapes.task_full(task, description_chars, description_offset=args.description_offset),
        comments=comments,
        comment_count=window.total if window is not None else None,
        next_comments_cursor=encode_cursor("get_task", window.next_offset) if window is not None else None,
        available_statuses=[shapes.status(s) for s in extras["transitions"]]
        if "transitions" in extras
        else None,
        links=[shapes.link(x) for x in extras["links"]] if "links" in extras else None,
        worklogs=[shapes.worklog(w) for w in extras["worklogs"]] if "worklogs" in extras else None,
        notes=notes,
    )


_READ_EXTRA = {
    "transitions": lambda adapter, native: adapter.available_statuses(native),
    "links": lambda adapter, native: adapter.list_links(native),
    "worklogs": lambda adapter, native: adapter.list_worklogs(native, PageRequest(limit=20)).items,
}


@dataclass
class PreparedCreate:
    """A create_task checked against the connection, ready to write."""

    view: ConnectionView
    project_id: str
    draft: TaskDraft


async def prepare_create(call: ToolCall, conns: UserConnections, args: CreateTaskArgs) -> PreparedCreate:
    """Resolve and check every argument of a create (reads only); raises what the tool would report."""
    view, project_id = conns.resolve(args.project, "project")
    note(call, view, args.project)
    parent_id = await in_same_connection(conns, view, args.parent, "parent")
    epic_id = await in_same_connection(conns, view, args.epic, "epic")
    sprint_id = await in_same_connection(conns, view, args.sprint, "sprint")
    assignee_id = None
    if args.assignee:
        assignee_id = await person_id(
            conns, view, args.assignee, project_id, f"who can be assigned in {args.project}"
        )
    priority = None
    if args.priority:
        known = await conns.run(view, lambda a: a.list_priorities(project_id))
        priority = match_priority(args.priority, known, where=f"in {args.project}")
    custom = await field_values(
        conns,
        view,
        project_id,
        args.type,
        args.fields or {},
        person=_person_lookup(conns, view, project_id, args.project),
        where=f"of {args.project}",
    )
    draft = TaskDraft(
        title=args.title,
        description=args.description,
        type=args.type,
        priority=priority,
        assignee_id=assignee_id,
        due=args.due,
        estimate_hours=args.estimate_hours,
        story_points=args.story_points,
        parent_id=parent_id,
        epic_id=epic_id,
        sprint_id=sprint_id,
        labels=tuple(args.labels),
        fields=custom,
    )
    return PreparedCreate(view=view, project_id=project_id, draft=draft)


def _person_lookup(conns: UserConnections, view: ConnectionView, project_id: str | None, where: str):
    async def lookup(spec: str) -> str:
        return await person_id(conns, view, spec, project_id, f"among the people of {where}")

    return lookup


@toolset.tool("create_task", title="Create a task", read_only=False)
async def create_task(call: ToolCall, args: CreateTaskArgs) -> TaskChanged:
    """Create a task in a project. People are 'me', an email, a name or a user ref; the priority is a name
    or a level; dates are ISO 8601; the description is Markdown; the project's own fields go in `fields` by
    the names list_fields shows."""
    conns = await connections_of(call)
    prepared = await prepare_create(call, conns, args)
    task = await conns.run(prepared.view, lambda a: a.create_task(prepared.project_id, prepared.draft))
    call.target = task.ref
    return TaskChanged(
        task=shapes.task_full(task, budget_of(call).description), message=f"Created {task.ref}."
    )


@dataclass
class PreparedUpdate:
    """An update_task checked against the connection, ready to write."""

    view: ConnectionView
    task_id: str
    changes: TaskChanges
    given: list[str]


async def prepare_update(call: ToolCall, conns: UserConnections, args: UpdateTaskArgs) -> PreparedUpdate:
    """Resolve and check every argument of an update (reads only); raises what the tool would report."""
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    given = args.model_fields_set - {"task"}
    if not given:
        raise ToolFailure(
            "Nothing to change: give at least one field (title, description, priority, due, fields ...)."
        )
    if "title" in given and args.title is None:
        raise ToolFailure("A task's title can't be cleared.")
    changes: dict[str, Any] = {name: getattr(args, name) for name in _PLAIN_CHANGES if name in given}
    for name, field_name in (("parent", "parent_id"), ("epic", "epic_id"), ("sprint", "sprint_id")):
        if name in given:
            changes[field_name] = await in_same_connection(conns, view, getattr(args, name), name)
    needs_task = (args.priority is not None and "priority" in given) or bool(args.fields)
    current = await conns.run(view, lambda a: a.get_task(native)) if needs_task else None
    project_id = current.project_ref.partition(":")[2] if current and current.project_ref else None
    if "priority" in given:
        changes["priority"] = None
        if args.priority is not None:
            known = await conns.run(view, lambda a: a.list_priorities(project_id))
            changes["priority"] = match_priority(args.priority, known, where=f"for {args.task}")
    if args.fields:
        if project_id is None:
            raise ToolFailure(f"{args.task} belongs to no project whose fields could be checked.")
        changes["fields"] = await field_values(
            conns,
            view,
            project_id,
            current.type if current else None,
            args.fields,
            person=_person_lookup(conns, view, project_id, args.task),
            where=f"of {args.task}",
        )
    return PreparedUpdate(view=view, task_id=native, changes=TaskChanges(**changes), given=sorted(given))


_PLAIN_CHANGES = ("title", "description", "due", "estimate_hours", "story_points")


@toolset.tool("update_task", title="Update a task", read_only=False, idempotent=True)
async def update_task(call: ToolCall, args: UpdateTaskArgs) -> TaskChanged:
    """Change a task's title, description, priority, due date, estimate, story points, epic, parent,
    sprint or its project's own fields (`fields`, by the names list_fields shows). Only the fields given
    change; a field given as null is cleared. Use set_task_status and assign_task for status and assignee."""
    conns = await connections_of(call)
    prepared = await prepare_update(call, conns, args)
    task = await conns.run(prepared.view, lambda a: a.update_task(prepared.task_id, prepared.changes))
    return TaskChanged(
        task=shapes.task_full(task, budget_of(call).description),
        message=f"Updated {task.ref}: {', '.join(prepared.given)}.",
    )


@toolset.tool("set_task_status", title="Move a task to a status", read_only=False, idempotent=True)
async def set_task_status(call: ToolCall, args: SetStatusArgs) -> TaskChanged:
    """Move a task to the status with this name (case-insensitive). On JIRA the matching workflow
    transition is used. An unknown or unreachable status gets an error listing the valid ones."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    current, targets = await conns.run(view, lambda a: (a.get_task(native), a.available_statuses(native)))
    if current.status is not None and current.status.name.lower() == args.status.strip().lower():
        return TaskChanged(
            task=shapes.task_full(current, budget_of(call).description),
            message=f"{current.ref} is already {current.status.name}.",
        )
    target = match_status(args.status, targets, where=f"that {args.task} can move to")
    task = await conns.run(view, lambda a: a.set_task_status(native, target))
    return TaskChanged(
        task=shapes.task_full(task, budget_of(call).description), message=f"{task.ref} is now {target.name}."
    )


@toolset.tool("assign_task", title="Assign a task", read_only=False, idempotent=True)
async def assign_task(call: ToolCall, args: AssignArgs) -> TaskChanged:
    """Assign a task to someone ('me', an email, a name or a user ref), or unassign it with null or 'none'.
    An unknown person gets an error listing who can be assigned."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    user_id = None
    if args.assignee and args.assignee.strip().lower() not in ("none", "unassigned"):
        current = await conns.run(view, lambda a: a.get_task(native))
        project_id = current.project_ref.partition(":")[2] if current.project_ref else None
        user_id = await person_id(conns, view, args.assignee, project_id, f"who can be assigned {args.task}")
    task = await conns.run(view, lambda a: a.assign_task(native, user_id))
    who = task.assignee.name if task.assignee else "nobody"
    return TaskChanged(
        task=shapes.task_full(task, budget_of(call).description), message=f"{task.ref} is assigned to {who}."
    )


@toolset.tool("delete_task", title="Delete a task", read_only=False, destructive=True, idempotent=True)
async def delete_task(call: ToolCall, args: TaskRefArgs) -> Deleted:
    """Delete a task for good. This can't be undone; where the provider has no delete, the error says so."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    note(call, view, args.task)
    await conns.run(view, lambda a: a.delete_task(native))
    return Deleted(ref=f"{view.slug}:{native}", deleted=True)
