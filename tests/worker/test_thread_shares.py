"""Per-user and per-connection shares of the worker's vendor threads."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from mcp_worker.runtime import Runtime, ThreadShares

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _runtime(per_user: int, per_connection: int) -> Runtime:
    return Runtime(
        settings=None, database=None, vault=None, policy=None, shares=ThreadShares(per_user, per_connection)
    )  # type: ignore[arg-type]


async def test_a_call_given_up_on_keeps_its_share_until_its_thread_ends():
    runtime = _runtime(per_user=4, per_connection=1)
    release = threading.Event()
    order: list[str] = []

    def slow() -> str:
        release.wait(10)
        order.append("slow ended")
        return "slow"

    def quick() -> str:
        order.append("quick ran")
        return "quick"

    with anyio.move_on_after(0.2):  # the caller gives up; the thread runs on
        await runtime.in_connection_thread(1, "jira", slow)
    async with anyio.create_task_group() as group:
        group.start_soon(runtime.in_connection_thread, 1, "jira", quick)
        await anyio.sleep(0.3)
        assert order == []  # the abandoned thread still holds the connection's one slot
        # Another connection of the same user, and another user, are not held up.
        assert (
            await runtime.in_connection_thread(1, "redmine", lambda: "other connection") == "other connection"
        )
        assert await runtime.in_connection_thread(2, "jira", lambda: "other user") == "other user"
        release.set()
    assert order == ["slow ended", "quick ran"]


async def test_one_user_holds_at_most_their_share():
    runtime = _runtime(per_user=3, per_connection=3)
    running = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    async with anyio.create_task_group() as group:
        for n in range(12):
            group.start_soon(runtime.in_connection_thread, 7, f"conn{n % 4}", work)
    assert peak == 3
    assert runtime.shares._limiters == {}  # idle shares are forgotten
