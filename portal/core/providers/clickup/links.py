"""ClickUp's task relationships: dependencies (waiting on / blocking) and task links.

ClickUp has two kinds: a dependency, where one task waits on another (which blocks
it), and a plain task link between two tasks. Neither has an id of its own, so a
link's id names its kind and its two tasks: `dep.<waiting>.<blocker>` and
`link.<from>.<to>`. Both are on every task body (`dependencies`, `linked_tasks`),
on both tasks of the pair; they are read by which side the task is on, never by
ClickUp's `type` number.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..base import LinkKind, LinkType, TaskLink, make_ref
from .parse import APP_URL, is_done
from .query import path
from .workspace import ClickUpWorkspace

DEPENDENCY = LinkType(
    id="dependency", name="Dependency", outward="blocking", inward="waiting on", kind=LinkKind.BLOCKS
)
TASK_LINK = LinkType(
    id="link", name="Task link", outward="links to", inward="links to", kind=LinkKind.RELATES
)
LINK_TYPES = (DEPENDENCY, TASK_LINK)
OTHER_TASK_LOOKUPS = 20
"""Linked tasks whose titles and states one list_links reads at most (one request each)."""


# --- pure functions ------------------------------------------------------------------------------


def dependency_id(waiting: str, blocker: str) -> str:
    return f"dep.{waiting}.{blocker}"


def task_link_id(source: str, target: str) -> str:
    return f"link.{source}.{target}"


def read_link_id(link_id: str) -> tuple[str, str, str]:
    """A link id -> (kind, first task, second task); InvalidInput for anything else."""
    parts = link_id.split(".")
    if len(parts) != 3 or parts[0] not in ("dep", "link") or not parts[1] or not parts[2]:
        raise errors.InvalidInput(
            f"{link_id!r} is not a ClickUp link id; take the ref of a link from get_task's links.",
            field_errors={"link": "expected dep.<task>.<task> or link.<task>.<task>"},
        )
    return parts[0], parts[1], parts[2]


def parse_links(slug: str, data: dict[str, Any]) -> list[TaskLink]:
    """The dependencies and task links on a task body, as read from that task."""
    task_id = str(data["id"])
    task_ref = make_ref(slug, task_id)
    links: dict[str, TaskLink] = {}

    def add(link_id: str, kind: LinkKind, label: str, other: str, extra: dict[str, Any]) -> None:
        if other and other != task_id and link_id not in links:
            links[link_id] = TaskLink(
                ref=make_ref(slug, link_id),
                id=link_id,
                kind=kind,
                label=label,
                task_ref=task_ref,
                other_ref=make_ref(slug, other),
                other_key=other,
                url=f"{APP_URL}/t/{other}",
                extra=extra,
            )

    for dependency in data.get("dependencies") or []:
        if not isinstance(dependency, dict):
            continue
        waiting, blocker = str(dependency.get("task_id") or ""), str(dependency.get("depends_on") or "")
        extra = {"type": "dependency", "created_at": dependency.get("date_created")}
        if waiting == task_id:
            add(dependency_id(waiting, blocker), LinkKind.BLOCKED_BY, DEPENDENCY.inward, blocker, extra)
        elif blocker == task_id:
            add(dependency_id(waiting, blocker), LinkKind.BLOCKS, DEPENDENCY.outward, waiting, extra)
    for link in data.get("linked_tasks") or []:
        if not isinstance(link, dict):
            continue
        source, target = str(link.get("task_id") or ""), str(link.get("link_id") or "")
        other = target if source == task_id else source if target == task_id else ""
        extra = {"type": "link", "created_at": link.get("date_created")}
        add(task_link_id(source, target), LinkKind.RELATES, TASK_LINK.outward, other, extra)
    return list(links.values())


class ClickUpLinks(ClickUpWorkspace):
    """Dependencies and task links between tasks of the Workspace."""

    def list_link_types(self) -> list[LinkType]:
        return list(LINK_TYPES)

    def list_links(self, task_id: str) -> list[TaskLink]:
        """A task's links, with each other task's title and whether it is done (one request per other task)."""
        links = parse_links(self.slug, self.raw_task(task_id))
        seen: dict[str, dict[str, Any] | None] = {}
        for link in links:
            other = link.other_key or ""
            if other not in seen and len(seen) < OTHER_TASK_LOOKUPS:
                try:
                    seen[other] = self.raw_task(other)
                except errors.NotFound:
                    seen[other] = None
            body = seen.get(other)
            if body:
                link.other_title = body.get("name")
                link.other_key = body.get("custom_id") or other
                link.other_done = is_done(body)
        return links

    def link_tasks(
        self, task_id: str, other_id: str, link_type: LinkType, *, outward: bool = True
    ) -> TaskLink:
        """A dependency (outward: this task blocks the other) or a task link; Conflict when it exists."""
        if task_id == other_id:
            raise errors.InvalidInput("A task can't be linked to itself.", field_errors={"other": other_id})
        if link_type.id not in (DEPENDENCY.id, TASK_LINK.id):
            names = ", ".join(t.name for t in LINK_TYPES)
            raise errors.InvalidInput(
                f"ClickUp has no link type {link_type.name!r}; its link types are: {names}.",
                field_errors={"kind": f"one of: {names}"},
            )
        if link_type.id == DEPENDENCY.id:
            waiting, blocker = (other_id, task_id) if outward else (task_id, other_id)
            link_id = dependency_id(waiting, blocker)
        else:
            link_id = task_link_id(task_id, other_id)
        existing = parse_links(self.slug, self.raw_task(task_id))
        if any(link.other_key == other_id and link.extra["type"] == link_type.id for link in existing):
            raise errors.Conflict(f"ClickUp tasks {task_id} and {other_id} are already linked that way.")
        if link_type.id == DEPENDENCY.id:
            self.call("POST", path("task", waiting, "dependency"), body={"depends_on": blocker})
        else:
            self.call("POST", path("task", task_id, "link", other_id))
        kind = link_type.kind if outward or link_type.kind != LinkKind.BLOCKS else LinkKind.BLOCKED_BY
        label = link_type.outward if outward else link_type.inward
        return TaskLink(
            ref=make_ref(self.slug, link_id),
            id=link_id,
            kind=kind,
            label=label,
            task_ref=make_ref(self.slug, task_id),
            other_ref=make_ref(self.slug, other_id),
            other_key=other_id,
            url=f"{APP_URL}/t/{other_id}",
            extra={"type": link_type.id},
        )

    def unlink_tasks(self, link_id: str) -> None:
        """Remove a dependency or task link; NotFound when the tasks are not linked so."""
        kind, first, second = read_link_id(link_id)
        if link_id not in {link.id for link in parse_links(self.slug, self.raw_task(first))}:
            raise errors.NotFound(f"ClickUp has no link {link_id} (it was removed, or never made).")
        if kind == "dep":
            self.call("DELETE", path("task", first, "dependency"), params={"depends_on": second})
        else:
            self.call("DELETE", path("task", first, "link", second))

    def blocked_now(self, waiting_on: list[str], done: dict[str, bool]) -> bool:
        """Whether any of these blockers is not done; `done` caches what is known (and is filled in)."""
        for blocker in waiting_on:
            if blocker not in done:
                try:
                    done[blocker] = is_done(self.raw_task(blocker))
                except errors.NotFound:
                    done[blocker] = True  # a deleted blocker blocks nothing
            if not done[blocker]:
                return True
        return False
