"""Three worker processes behind HAProxy (round-robin, no stickiness) on PostgreSQL, driven by the official
MCP client: both transports and both Streamable HTTP revisions under load, revocation everywhere within a
second, and a SIGTERM under load that fails no call."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator

import anyio
import pytest
import requests
from mcp.shared.exceptions import MCPError
from sqlalchemy import select

from portal.core import keys as key_service
from portal.core.keys import hash_key
from portal.core.models import McpApiKey, SseSessionOwner
from portal.extensions import db

from .balancer import Balancer, haproxy_path, start_balancer
from .harness import WorkerProcess, key_headers, mcp_client, start_worker
from .test_auth import post_mcp

pytestmark = pytest.mark.anyio

CLIENTS = 50
CALLS = 40
# (transport, mode): SSE; Streamable HTTP with the 2025-11-25 initialize handshake; sessionless 2026-07-28.
KINDS = [("sse", "legacy"), ("http", "legacy"), ("http", "auto")]


@pytest.fixture
def cluster(database_url, worker_env, tmp_path) -> Iterator[tuple[Balancer, list[WorkerProcess]]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share state through PostgreSQL (SQLite runs one worker process)")
    if haproxy_path() is None:
        if os.environ.get("HAPROXY_REQUIRED") == "1":
            pytest.fail("HAPROXY_REQUIRED=1 but haproxy is not installed (apt-get install haproxy)")
        pytest.skip("haproxy is not installed (apt-get install haproxy); .ci/run installs it")
    env = {
        **worker_env,
        "MCP_STATELESS": "1",  # /mcp on several workers: see the README
        "MCP_KEY_CACHE_SECONDS": "10",  # revocation within a second must come from the notices
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "MCP_ACCESS_LOG": "1",
    }
    workers: list[WorkerProcess] = []
    balancer = None
    try:
        for n in range(3):
            workers.append(start_worker(env, tmp_path / f"worker{n}.log"))
        balancer = start_balancer([w.url for w in workers], tmp_path)
        yield balancer, workers
    finally:
        if balancer is not None:
            balancer.stop()
        for worker in workers:
            worker.stop()


async def _client_calls(url: str, key: str, kind: tuple[str, str], calls: int, failures: list[str]) -> int:
    transport, mode = kind
    done = 0
    try:
        # Generous connect timeouts: 50 clients, three workers and the balancer share two cores here.
        async with mcp_client(url, key, transport=transport, mode=mode, timeout=30) as client:
            for _ in range(calls):
                with anyio.fail_after(30):
                    result = await client.call_tool("whoami", {})
                if result.is_error:
                    failures.append(f"{kind}: {result.content[0].text[:200]}")
                done += 1
    except Exception as exc:  # every failure is counted, none hidden
        failures.append(f"{kind} after {done} calls: {_describe(exc)}")
    return done


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    detail = f" (code {exc.code}, data {str(exc.data)[:200]})" if isinstance(exc, MCPError) else ""
    return f"{type(exc).__name__}: {str(exc)[:300]}{detail}"


def _served(worker: WorkerProcess) -> Counter:
    """Requests per path this worker answered, from its access log."""
    counts: Counter = Counter()
    for line in worker.log().splitlines():
        for path in ("POST /mcp", "GET /sse", "POST /messages/"):
            if f'"{path}' in line:
                counts[path] += 1
    return counts


async def test_three_workers_behind_haproxy(cluster, app, make_user, make_key):
    balancer, workers = cluster
    key = make_key(make_user())

    # 50 concurrent clients x 40 calls, the three kinds mixed: zero errors.
    failures: list[str] = []
    stream_holders: set[str] = set()

    async def watch_streams() -> None:
        while True:
            with app.app_context():
                stream_holders.update(db.session.scalars(select(SseSessionOwner.worker).distinct()).all())
                db.session.rollback()
            await anyio.sleep(0.5)

    started = time.monotonic()
    async with anyio.create_task_group() as outer:
        outer.start_soon(watch_streams)
        async with anyio.create_task_group() as tg:
            for n in range(CLIENTS):
                tg.start_soon(_client_calls, balancer.url, key, KINDS[n % len(KINDS)], CALLS, failures)
        outer.cancel_scope.cancel()
    elapsed = time.monotonic() - started
    assert failures == [], failures[:5]
    served = [_served(worker) for worker in workers]
    # Round-robin reached every worker with Streamable HTTP requests and SSE messages, and the SSE
    # streams were held by more than one worker: messages crossed between processes.
    assert all(s["POST /mcp"] > 0 and s["POST /messages/"] > 0 for s in served), served
    assert len(stream_holders) >= 2, stream_holders
    assert elapsed < 120, f"{CLIENTS * CALLS} calls took {elapsed:.0f} s"

    # Revoke the key: every worker refuses it within a second (their caches are 10 s long).
    with app.app_context():
        row = db.session.scalar(select(McpApiKey).where(McpApiKey.key_hash == hash_key(key)))
        key_service.revoke_key(db.session, row)
        db.session.commit()
    revoked_at = time.monotonic()
    pending = {worker.url for worker in workers}
    while pending:
        for url in list(pending):
            response = requests.post(
                f"{url}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={**key_headers(key), "Accept": "application/json, text/event-stream"},
                timeout=5,
            )
            if response.status_code == 401:
                assert response.json()["error"]["data"]["reason"] == "revoked"
                pending.discard(url)
        assert time.monotonic() - revoked_at < 1.0, f"still accepted by {pending}"
        await anyio.sleep(0.02)


async def test_sigterm_one_worker_under_load_fails_no_call(cluster, make_user, make_key):
    balancer, workers = cluster
    key = make_key(make_user())
    failures: list[str] = []
    done: list[int] = []
    stopping = workers[1]

    async def client(kind: tuple[str, str]) -> None:
        done.append(await _client_calls(balancer.url, key, kind, CALLS, failures))

    async with anyio.create_task_group() as tg:
        # Streamable HTTP clients, both revisions: no state lives in a worker, so none is lost with it.
        for n in range(20):
            tg.start_soon(client, KINDS[1 + n % 2])
        # Once the load is spread over all three, stop one of them in the middle of it.
        with anyio.fail_after(60):
            while _served(stopping)["POST /mcp"] < 30:
                await anyio.sleep(0.1)
        stopping.process.send_signal(signal.SIGTERM)
    assert failures == [], failures[:5]
    assert sum(done) == 20 * CALLS
    assert stopping.process.wait(timeout=30) == 0
    assert "Traceback" not in stopping.log()
    # The other two kept serving.
    for worker in (workers[0], workers[2]):
        assert requests.get(f"{worker.url}/healthz", timeout=5).status_code == 200
    assert post_mcp(workers[0], key_headers(key)).status_code == 200
