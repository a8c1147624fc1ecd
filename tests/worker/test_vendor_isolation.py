"""One member's slow or oversized vendor neither stalls nor bloats the worker for everyone else:
the real worker process, the official client, a JIRA fake turned hostile."""

from __future__ import annotations

import time

import anyio
import pytest

from . import worlds
from .harness import mcp_client, start_worker

pytestmark = pytest.mark.anyio


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def test_a_slow_and_a_huge_vendor_leave_other_users_fast(
    worker_env, tmp_path, app, make_user, make_key, jira_fake
):
    worker = start_worker(
        {**worker_env, "VENDOR_DEADLINE_SECONDS": "5", "VENDOR_MAX_RESPONSE_BYTES": str(1024 * 1024)},
        tmp_path / "worker.log",
    )
    try:
        ana = make_user("ana@example.com", "Ana Silva")
        bo = make_user("bo@example.com", "Bo Berg")
        email, token = jira_fake.credentials()
        for slug in ("slow-one", "slow-two"):
            worlds.add_connection(
                app, ana, provider="jira", slug=slug, url=jira_fake.base_url, token=token, username=email
            )
        ana_key, bo_key = make_key(ana), make_key(bo)
        jira_fake.misbehave("drip")

        ana_results = []
        bo_times: list[float] = []
        bo_errors: list[str] = []

        async def ana_calls(slug: str, count: int) -> None:
            async with mcp_client(worker.url, ana_key) as client:
                async with anyio.create_task_group() as group:
                    for _ in range(count):

                        async def one() -> None:
                            ana_results.append(
                                await client.call_tool("get_project", {"project": f"{slug}:ALPHA"})
                            )

                        group.start_soon(one)

        async def bo_calls() -> None:
            await anyio.sleep(0.5)  # Ana's calls hold their threads by now
            async with mcp_client(worker.url, bo_key) as client:
                for _ in range(5):
                    started = time.monotonic()
                    result = await client.call_tool("get_current_user", {"connection": "local"})
                    bo_times.append(time.monotonic() - started)
                    if result.is_error:
                        bo_errors.append(result.content[0].text)

        # 34 slow calls: more than the worker's 32 vendor threads, were one user allowed them all.
        async with anyio.create_task_group() as group:
            group.start_soon(ana_calls, "slow-one", 17)
            group.start_soon(ana_calls, "slow-two", 17)
            group.start_soon(bo_calls)

        assert bo_errors == []
        # Generous: ~0.05 s each alone; 4.5 s or more if Ana's calls held the threads.
        assert len(bo_times) == 5 and max(bo_times) < 3.5, bo_times
        assert len(ana_results) == 34
        for result in ana_results:
            assert result.is_error
            text = result.content[0].text
            assert "JIRA" in text and "5 seconds" in text and "VENDOR_DEADLINE_SECONDS" in text, text

        # A 50 MB answer is refused at 1 MB, without the worker holding it.
        before = _rss_mib(worker.process.pid)
        jira_fake.misbehave("oversize", size=50 * 1024 * 1024)
        async with mcp_client(worker.url, ana_key) as client:
            for _ in range(3):
                result = await client.call_tool("get_project", {"project": "slow-one:ALPHA"})
                assert result.is_error
                text = result.content[0].text
                assert "JIRA" in text and "VENDOR_MAX_RESPONSE_BYTES" in text, text
        assert _rss_mib(worker.process.pid) - before < 40
    finally:
        worker.stop()
