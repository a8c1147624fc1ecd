"""Many tasks at once: bulk_create_tasks and bulk_update_tasks.

Every item is checked (refs, people, priorities, fields) before the first write; one bad item refuses the
whole call with every problem listed, and nothing is written. Then the writes run a few at a time, and each
item gets its own result, so a write the vendor refuses halfway is reported, never hidden.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from pydantic import BaseModel, Field

from portal.core.providers import errors as provider_errors
from portal.core.providers.base import Task
from portal.core.services.resolve import ResolveError

from ..connections import ConnectionUnusable
from . import shapes
from .context import connections_of, explain_provider_error, failure_of
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset
from .tasks import CreateTaskArgs, UpdateTaskArgs, prepare_create, prepare_update

log = logging.getLogger(__name__)

MAX_ITEMS = 50
WRITES_AT_ONCE = 4  # kind to vendors' rate limits, yet ten tasks take a few round trips, not ten
EXPECTED = (ToolFailure, ResolveError, ConnectionUnusable, provider_errors.ProviderError)

P = TypeVar("P")
toolset = Toolset()


class BulkCreateArgs(ToolInput):
    items: list[CreateTaskArgs] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description=f"1 to {MAX_ITEMS} tasks, each as create_task takes it.",
    )


class BulkUpdateArgs(ToolInput):
    items: list[UpdateTaskArgs] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description=f"1 to {MAX_ITEMS} changes, each as update_task takes it, each to a different task.",
    )


class BulkItemOut(BaseModel):
    index: int = Field(description="The item's position in `items`, from 0")
    ok: bool
    task: shapes.TaskSummaryOut | None = None
    error: str | None = None


class BulkResult(ToolOutput):
    written: int
    failed: int
    results: list[BulkItemOut] = Field(description="One per item, in the order given")

    def text(self) -> str:
        head = f"{self.written} of {len(self.results)} written" + (
            f"; {self.failed} failed, see below." if self.failed else "."
        )
        rows = [
            f"{r.index}: {r.task.line()}" if r.ok and r.task else f"{r.index}: FAILED {r.error}"
            for r in self.results
        ]
        return "\n".join([head, *rows])


@toolset.tool("bulk_create_tasks", title="Create many tasks", read_only=False)
async def bulk_create_tasks(call: ToolCall, args: BulkCreateArgs) -> BulkResult:
    """Create up to 50 tasks in one call (each item as create_task takes it). All items are checked
    first: if any is invalid, nothing is created and every problem is listed. Each item then gets its
    result: the new task, or why the provider refused it."""
    conns = await connections_of(call)
    prepared = await _check_all(
        call, [functools.partial(prepare_create, call, conns, item) for item in args.items]
    )

    async def write(item) -> Task:
        return await conns.run(item.view, lambda a: a.create_task(item.project_id, item.draft))

    return await _write_all(call, prepared, write, lambda item: item.view.slug)


@toolset.tool("bulk_update_tasks", title="Change many tasks", read_only=False)
async def bulk_update_tasks(call: ToolCall, args: BulkUpdateArgs) -> BulkResult:
    """Change up to 50 tasks in one call (each item as update_task takes it, one item per task). All
    items are checked first: if any is invalid, nothing changes and every problem is listed. Each item
    then gets its result: the task as changed, or why the provider refused it."""
    conns = await connections_of(call)
    prepared = await _check_all(
        call, [functools.partial(prepare_update, call, conns, item) for item in args.items]
    )
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(prepared):
        first = seen.setdefault((item.view.slug, item.task_id), index)
        if first != index:
            raise ToolFailure(
                f"Nothing was changed: items {first} and {index} both change {item.view.slug}:{item.task_id}; "
                "put all of a task's changes in one item."
            )

    async def write(item) -> Task:
        return await conns.run(item.view, lambda a: a.update_task(item.task_id, item.changes))

    return await _write_all(call, prepared, write, lambda item: item.view.slug)


async def _check_all(call: ToolCall, checks: list[Callable[[], Awaitable[P]]]) -> list[P]:
    """Every item prepared (reads only), or ToolFailure listing every item's problem."""
    prepared: list[Any] = [None] * len(checks)
    problems: dict[int, str] = {}
    limiter = anyio.CapacityLimiter(WRITES_AT_ONCE)

    async def check(index: int) -> None:
        async with limiter:
            try:
                prepared[index] = await checks[index]()
            except EXPECTED as exc:
                problems[index] = _message(call, exc)

    async with anyio.create_task_group() as group:
        for index in range(len(checks)):
            group.start_soon(check, index)
    if problems:
        listed = "; ".join(f"item {index}: {problems[index]}" for index in sorted(problems))
        raise ToolFailure(
            f"Nothing was written: {len(problems)} of {len(checks)} items are invalid. {listed}"
        )
    return prepared


async def _write_all(
    call: ToolCall, prepared: list[P], write: Callable[[P], Awaitable[Task]], slug_of: Callable[[P], str]
) -> BulkResult:
    results: list[BulkItemOut | None] = [None] * len(prepared)
    limiter = anyio.CapacityLimiter(WRITES_AT_ONCE)

    async def one(index: int) -> None:
        async with limiter:
            try:
                task = await write(prepared[index])
            except Exception as exc:
                if not isinstance(exc, EXPECTED):
                    log.exception("bulk item %s failed", index)
                _, message = failure_of(slug_of(prepared[index]), exc, call)
                results[index] = BulkItemOut(index=index, ok=False, error=message)
            else:
                results[index] = BulkItemOut(index=index, ok=True, task=shapes.task_summary(task))

    async with anyio.create_task_group() as group:
        for index in range(len(prepared)):
            group.start_soon(one, index)
    done = [r for r in results if r is not None]
    written = sum(r.ok for r in done)
    if written == 0:
        raise ToolFailure(
            "Nothing was written: the provider refused every item. "
            + "; ".join(f"item {r.index}: {r.error}" for r in done)
        )
    return BulkResult(written=written, failed=len(done) - written, results=done)


def _message(call: ToolCall, exc: Exception) -> str:
    if isinstance(exc, provider_errors.ProviderError):
        return explain_provider_error(call, exc)
    return getattr(exc, "message", str(exc))
