"""Links between tasks: link_tasks and unlink_tasks (get_task shows a task's links with include=links)."""

from __future__ import annotations

from pydantic import Field

from portal.core.providers.base import LinkKind, LinkType

from . import shapes
from .context import connections_of, note
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset
from .tasks import same_connection

toolset = Toolset()

GENERIC_KINDS = {
    "blocks": LinkKind.BLOCKS,
    "is blocked by": LinkKind.BLOCKED_BY,
    "blocked by": LinkKind.BLOCKED_BY,
    "relates to": LinkKind.RELATES,
    "relates": LinkKind.RELATES,
    "duplicates": LinkKind.DUPLICATES,
    "is duplicated by": LinkKind.DUPLICATED_BY,
    "duplicated by": LinkKind.DUPLICATED_BY,
}


class LinkTasksArgs(ToolInput):
    task: str = Field(description="Task ref: the task the kind is read from ('task blocks other').")
    other: str = Field(description="The other task's ref, in the same connection.")
    kind: str = Field(
        min_length=1,
        max_length=100,
        description="blocks, is blocked by, relates to, duplicates, is duplicated by; or the provider's own "
        "link type by name (such as JIRA's 'clones').",
    )


class LinkMade(ToolOutput):
    link: shapes.LinkOut

    def text(self) -> str:
        return f"Linked: {self.link.line()}"


class UnlinkArgs(ToolInput):
    link: str = Field(description="The link's ref, as get_task (include=links) or link_tasks shows it.")


class Unlinked(ToolOutput):
    ref: str
    removed: bool

    def text(self) -> str:
        return f"Removed the link {self.ref}."


def choose_link_type(kind: str, types: list[LinkType]) -> tuple[LinkType, bool]:
    """(link type, outward) for a kind as a person writes it; ToolFailure listing the valid kinds."""
    wanted = " ".join(kind.lower().replace("_", " ").split())
    generic = GENERIC_KINDS.get(wanted)
    if generic is not None:
        for link_type in types:
            if link_type.kind == generic:
                return link_type, True
        for link_type in types:
            if link_type.kind == generic.inverse and generic.inverse != generic:
                return link_type, False
    else:
        for link_type in types:
            if wanted in (link_type.name.lower(), link_type.outward.lower()):
                return link_type, True
            if wanted == link_type.inward.lower():
                return link_type, False
    offered = [t.outward for t in types] + [t.inward for t in types if t.inward != t.outward]
    raise ToolFailure(
        f"{kind[:100]!r} is not a kind of link this connection offers; use one of: "
        f"{', '.join(dict.fromkeys(offered)) or 'none'}."
    )


@toolset.tool("link_tasks", title="Link two tasks", read_only=False)
async def link_tasks(call: ToolCall, args: LinkTasksArgs) -> LinkMade:
    """Say how two tasks relate: task blocks other, is blocked by it, relates to it, duplicates it or is
    duplicated by it, or link them by one of the provider's own link types. Returns the link's ref
    (for unlink_tasks)."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.task, "task")
    other_view, other_native = conns.resolve(args.other, "task")
    same_connection(view, other_view, "other task")
    note(call, view, args.task)
    if native == other_native:
        raise ToolFailure("A task can't be linked to itself: give two different tasks.")
    types = await conns.run(view, lambda a: a.list_link_types())
    link_type, outward = choose_link_type(args.kind, types)
    made = await conns.run(view, lambda a: a.link_tasks(native, other_native, link_type, outward=outward))
    call.target = made.ref
    return LinkMade(link=shapes.link(made))


@toolset.tool(
    "unlink_tasks", title="Remove a link between tasks", read_only=False, destructive=True, idempotent=True
)
async def unlink_tasks(call: ToolCall, args: UnlinkArgs) -> Unlinked:
    """Remove a link between two tasks, by the link's ref (get_task with include=links lists them). The
    tasks themselves stay."""
    conns = await connections_of(call)
    view, native = conns.resolve(args.link, "link")
    note(call, view, args.link)
    await conns.run(view, lambda a: a.unlink_tasks(native))
    return Unlinked(ref=f"{view.slug}:{native}", removed=True)
