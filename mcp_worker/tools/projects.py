"""Connections, projects, statuses and people."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from portal.core.models import ProviderConnection
from portal.core.providers.base import PageRequest
from portal.core.services import connections as connection_service
from portal.core.services.connections import ConnectionView
from portal.core.services.resolve import ResolveError

from ..connections import fan_out
from . import shapes
from .context import (
    DEFAULT_LIMIT,
    FAN_OUT_SECONDS,
    connections_of,
    decode_fan_out_cursor,
    encode_cursor,
    failure_of,
    note,
)
from .registry import ToolCall, ToolInput, ToolOutput, Toolset
from .tasks import Cursor, Limit


class ConnectionOut(shapes.BaseModel):
    slug: str
    provider: str
    name: str
    state: str = Field(description="active, disabled, failing (last check failed) or unchecked")
    host: str | None = None
    last_checked_at: datetime | None = None
    last_check: str | None = Field(
        None, description="The last check's result: who we are there, or the problem"
    )


class ConnectionList(ToolOutput):
    connections: list[ConnectionOut]

    def text(self) -> str:
        return "\n".join(
            f"{c.slug} ({c.provider}, {c.name}): {c.state}" + (f" - {c.last_check}" if c.last_check else "")
            for c in self.connections
        )


class ListConnectionsArgs(ToolInput):
    check: bool = Field(
        False, description="Test every active connection now, concurrently, and report who we are there."
    )


class ConnectionArg(ToolInput):
    connection: str | None = Field(None, description="Connection slug; optional when you have only one.")


class CurrentUser(ToolOutput):
    connection: str
    user: shapes.PersonOut

    def text(self) -> str:
        email = f" <{self.user.email}>" if self.user.email else ""
        return f"On {self.connection} you are {self.user.name}{email} ({self.user.ref})."


class ListProjectsArgs(ToolInput):
    connection: str | None = Field(None, description="Connection slug; all connections when omitted.")
    text: str | None = Field(None, description="Words to find in project names.")
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None


class ProjectList(ToolOutput):
    projects: list[shapes.ProjectOut]
    next_cursor: str | None = None
    failures: list[shapes.ConnectionFailure] = Field(default_factory=list)

    def text(self) -> str:
        return (
            shapes.lines(self.projects, lambda p: f"{p.ref} {p.name}", "No projects.")
            + shapes.more_text(self.next_cursor)
            + shapes.failures_text(self.failures)
        )


class ProjectArg(ToolInput):
    project: str = Field(description="Project ref, such as 'acme-jira:PROJ'.")


class ProjectDetail(ToolOutput):
    project: shapes.ProjectOut

    def text(self) -> str:
        p = self.project
        return f"{p.ref} {p.name}\n{p.url}" + (f"\n\n{p.description}" if p.description else "")


class StatusList(ToolOutput):
    project: str
    statuses: list[shapes.StatusOut]

    def text(self) -> str:
        return f"Statuses of {self.project}: " + ", ".join(f"{s.name} ({s.category})" for s in self.statuses)


class ListUsersArgs(ToolInput):
    project: str | None = Field(None, description="Project ref: the people its tasks can be assigned to.")
    connection: str | None = Field(None, description="Connection slug, when no project is given.")
    text: str | None = Field(None, description="Part of a name or email to look for.")


class UserList(ToolOutput):
    people: list[shapes.PersonOut]

    def text(self) -> str:
        return shapes.lines(
            self.people, lambda u: f"{u.ref} {u.name}" + (f" <{u.email}>" if u.email else ""), "Nobody."
        )


def _connection_out(view: ConnectionView) -> ConnectionOut:
    return ConnectionOut(
        slug=view.slug,
        provider=view.provider_type,
        name=view.name,
        state=view.state,
        host=None if view.is_local else view.host,
        last_checked_at=view.last_checked_at,
        last_check=view.last_check_summary if view.last_check_ok else view.last_check_error,
    )


toolset = Toolset()


@toolset.tool("list_connections", title="List my connections", read_only=True, idempotent=True)
async def list_connections(call: ToolCall, args: ListConnectionsArgs) -> ConnectionList:
    """My PM connections (the built-in tracker 'local' included): slug, provider, name, state and the last
    check's result. With check=true every active connection is tested now, concurrently, and the results
    are stored."""
    conns = await connections_of(call)
    views = conns.views
    if args.check:
        runtime = call.runtime

        async def test(view: ConnectionView):
            if view.is_local:
                return None
            row = conns.rows[view.slug]

            def run():
                with runtime.database.session() as session:
                    # Read the row afresh: the cached one may be a moment old.
                    fresh = session.get(ProviderConnection, row.id)
                    if fresh is None:
                        raise ResolveError(
                            f"The connection {view.slug!r} was just deleted.", error_class="not_found"
                        )
                    connection_service.check_connection(
                        fresh, runtime.vault, runtime.policy, runtime.database
                    )
                    checked = connection_service.view_of(fresh)
                    if call.principal.read_only:
                        session.rollback()  # a read-only key sees the result; nothing is stored
                    return checked

            return await runtime.in_connection_thread(call.principal.user_id, view.slug, run)

        results, failures = await fan_out([v for v in views if v.is_active], test, time_limit=FAN_OUT_SECONDS)
        checked = {slug: view for slug, view in results.items() if view is not None}
        outs = []
        for view in views:
            out = _connection_out(checked.get(view.slug, view))
            if view.slug in failures:
                _, out.last_check = failure_of(view.slug, failures[view.slug], call)
                out.state = "failing"
            outs.append(out)
        return ConnectionList(connections=outs)
    return ConnectionList(connections=[_connection_out(v) for v in views])


@toolset.tool("get_current_user", title="Who am I on a connection", read_only=True, idempotent=True)
async def get_current_user(call: ToolCall, args: ConnectionArg) -> CurrentUser:
    """Who the connection's credentials belong to on that system (its user ref is what 'me' means there)."""
    conns = await connections_of(call)
    view = conns.choose(args.connection)
    note(call, view)
    user = await conns.run(view, lambda a: a.current_user())
    return CurrentUser(connection=view.slug, user=shapes.person(user))


@toolset.tool("list_projects", title="List projects", read_only=True)
async def list_projects(call: ToolCall, args: ListProjectsArgs) -> ProjectList:
    """Projects on one connection, or on all connections at once when none is named (then a connection
    that fails is reported in `failures` and the others still answer)."""
    conns = await connections_of(call)
    positions = decode_fan_out_cursor(args.cursor, "list_projects")
    if args.connection:
        targets = [conns.choose(args.connection)]
        note(call, targets[0])
    else:
        targets = conns.usable
    pending = positions or {v.slug: None for v in targets}
    targets = [v for v in targets if v.slug in pending]
    share = max(1, -(-args.limit // max(1, len(targets))))

    async def one(view: ConnectionView):
        request = PageRequest(limit=share if len(targets) > 1 else args.limit, cursor=pending[view.slug])
        return await conns.run(view, lambda a: a.list_projects(request, args.text))

    results, failures = await fan_out(targets, one, time_limit=FAN_OUT_SECONDS)
    projects, following = [], {}
    for view in targets:
        page = results.get(view.slug)
        if page is not None:
            projects += [shapes.project(p) for p in page.items]
            if page.next_cursor:
                following[view.slug] = page.next_cursor
    failed = []
    for slug, exc in failures.items():
        if len(targets) == 1:
            raise exc
        error_class, message = failure_of(slug, exc, call)
        failed.append(shapes.ConnectionFailure(connection=slug, error_class=error_class, message=message))
    return ProjectList(
        projects=projects,
        next_cursor=encode_cursor("list_projects", following),
        failures=failed,
    )


@toolset.tool("get_project", title="Get a project", read_only=True)
async def get_project(call: ToolCall, args: ProjectArg) -> ProjectDetail:
    """One project: key, name, description and its page on the vendor's site."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.project, "project")
    note(call, view, args.project)
    return ProjectDetail(project=shapes.project(await conns.run(view, lambda a: a.get_project(native))))


@toolset.tool("list_statuses", title="List a project's statuses", read_only=True)
async def list_statuses(call: ToolCall, args: ProjectArg) -> StatusList:
    """The statuses tasks in a project can have, each with its category (todo, in_progress, done)."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.project, "project")
    note(call, view, args.project)
    statuses = await conns.run(view, lambda a: a.list_statuses(native))
    return StatusList(project=args.project, statuses=[shapes.status(s) for s in statuses])


@toolset.tool("list_users", title="List people", read_only=True)
async def list_users(call: ToolCall, args: ListUsersArgs) -> UserList:
    """People tasks in a project can be assigned to (or everyone visible on a connection), with the user
    refs and emails that assign_task and the assignee filters accept."""
    conns = await connections_of(call)
    project_id = None
    if args.project:
        view, project_id = conns.resolve(args.project, "project")
    else:
        view = conns.choose(args.connection)
    note(call, view, args.project)
    people = await conns.run(view, lambda a: a.list_users(project_id, args.text))
    if args.text:
        needle = args.text.lower()
        people = [u for u in people if needle in u.name.lower() or needle in (u.email or "").lower()]
    return UserList(people=[shapes.person(u) for u in people])
