"""My open tasks across every connection: the query, each connection's share, and the merge.

The worker's `list_my_tasks` tool (asking every connection concurrently on its
event loop) and the portal's dashboard (in threads) both build the query and
merge the pages here, so the two show the same tasks in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..providers.base import ME, Page, PageRequest, StatusCategory, Task, TaskQuery
from .connections import ConnectionView
from .fan_out import ConnectionFailure, ConnectionRunner, describe_failure, run_for_each

OPEN = frozenset({StatusCategory.TODO, StatusCategory.IN_PROGRESS})
FAN_OUT_SECONDS = 20.0


def my_tasks_query(*, include_done: bool = False) -> TaskQuery:
    """Tasks assigned to the connection's own user; open ones only unless `include_done`."""
    return TaskQuery(assignee=ME, categories=frozenset() if include_done else OPEN)


def share_per_connection(limit: int, connections: int) -> int:
    """How many tasks to ask each connection for, so that together they fill `limit`."""
    return max(1, math.ceil(limit / max(1, connections)))


def merge_task_pages(
    order: Sequence[str], pages: Mapping[str, Page[Task]]
) -> tuple[list[Task], dict[str, str]]:
    """The tasks of every connection's page, most recently updated first, and each connection's next cursor.

    `order` lists the slugs asked (a missing page is a connection that failed).
    """
    tasks: list[Task] = []
    following: dict[str, str] = {}
    for slug in order:
        page = pages.get(slug)
        if page is None:
            continue
        tasks.extend(page.items)
        if page.next_cursor:
            following[slug] = page.next_cursor
    tasks.sort(key=lambda t: t.updated_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return tasks, following


@dataclass
class MyTasks:
    tasks: list[tuple[ConnectionView, Task]]
    failures: list[ConnectionFailure] = field(default_factory=list)
    more: bool = False  # some connection has further tasks


def gather_my_tasks(
    runner: ConnectionRunner, *, limit: int = 25, time_limit: float = FAN_OUT_SECONDS
) -> MyTasks:
    """My open tasks from every usable connection at once (blocking; for callers without an event loop)."""
    targets = runner.usable
    query = my_tasks_query()
    request = PageRequest(limit=share_per_connection(limit, len(targets)))
    results, errors = run_for_each(
        targets,
        lambda view: runner.run(view, lambda adapter: adapter.list_tasks(query, request)),
        time_limit=time_limit,
    )
    order = [view.slug for view in targets]
    tasks, following = merge_task_pages(order, results)
    by_slug = {view.slug: view for view in targets}
    owner = {id(task): by_slug[slug] for slug, page in results.items() for task in page.items}
    return MyTasks(
        tasks=[(owner[id(task)], task) for task in tasks[:limit]],
        failures=[describe_failure(slug, errors[slug]) for slug in order if slug in errors],
        more=bool(following) or len(tasks) > limit,
    )
