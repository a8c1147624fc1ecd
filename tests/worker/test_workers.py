"""Several worker processes on one PostgreSQL database: SSE across processes, revocation notices,
shared throttle, graceful SIGTERM, database outages; and the per-key session cap and idle expiry."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Iterator

import anyio
import psycopg
import pytest
import requests
from mcp.shared.exceptions import MCPError
from sqlalchemy import select

from mcp_worker.runtime import Runtime
from mcp_worker.throttle import DatabaseAuthThrottle
from portal.core import keys as key_service
from portal.core.config import Settings
from portal.core.db import Database
from portal.core.keys import hash_key
from portal.core.models import McpApiKey
from portal.extensions import db

from .harness import INITIALIZE_REQUEST, WorkerProcess, key_headers, mcp_client, start_worker
from .test_auth import ACCEPT, post_mcp
from .worlds import local_world

pytestmark = pytest.mark.anyio

NEEDS_POSTGRES = "several workers share state through PostgreSQL (SQLite runs one worker process)"
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


@pytest.fixture
def postgres(database_url) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip(NEEDS_POSTGRES)
    return database_url


@pytest.fixture
def two_workers(postgres, worker_env, tmp_path) -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    # A long key cache: only the notices can make a revocation take effect within a second.
    env = {**worker_env, "MCP_KEY_CACHE_SECONDS": "10"}
    first = start_worker(env, tmp_path / "first.log")
    try:
        second = start_worker(env, tmp_path / "second.log")
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


def _revoke(app, key: str) -> None:
    """Revoke through the core, as the keys page and `pm-portal revoke-key` do."""
    with app.app_context():
        row = db.session.scalar(select(McpApiKey).where(McpApiKey.key_hash == hash_key(key)))
        key_service.revoke_key(db.session, row)
        db.session.commit()


def _events(lines: Iterator[bytes]) -> Iterator[tuple[str, str]]:
    event = "message"
    for raw in lines:
        line = raw.decode()
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            yield event, line[5:].strip()
            event = "message"


def test_sse_messages_posted_to_other_workers_reach_the_stream_in_order(two_workers, make_user, make_key):
    holder, other = two_workers
    key = make_key(make_user())
    bo_key = make_key(make_user("bo@example.com", "Bo"), name="bo")
    with requests.get(f"{holder.url}/sse", headers=key_headers(key), stream=True, timeout=20) as stream:
        events = _events(stream.iter_lines())
        kind, endpoint = next(events)
        assert kind == "endpoint"
        # Every message goes to the worker that does not hold the stream.
        assert post_mcp(other, key_headers(key), path=endpoint, body=INITIALIZE_REQUEST).status_code == 202
        assert json.loads(next(events)[1])["id"] == 1
        assert post_mcp(other, key_headers(key), path=endpoint, body=INITIALIZED).status_code == 202
        call = {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}},
        }
        assert post_mcp(other, key_headers(key), path=endpoint, body=call).status_code == 202
        reply = json.loads(next(events)[1])
        assert reply["id"] == 3 and reply["result"]["structuredContent"]["email"] == "ana@example.com"
        # Over NOTIFY's 8000-byte limit: carried by a stored payload.
        big = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "x" * 9000}}
        assert post_mcp(other, key_headers(key), path=endpoint, body=big).status_code == 202
        reply = json.loads(next(events)[1])
        assert reply["id"] == 4 and reply["result"]["isError"] is True
        # Another user's key finds no session, on either worker; a bad body is refused where it lands.
        for worker in (holder, other):
            stolen = post_mcp(worker, key_headers(bo_key), path=endpoint, body=PING)
            assert stolen.status_code == 404
            assert stolen.json()["error"]["data"]["reason"] == "session_not_found"
        bad = requests.post(
            f"{other.url}{endpoint}", data="{", headers={**key_headers(key), **ACCEPT}, timeout=10
        )
        assert bad.status_code == 400 and "JSON-RPC" in bad.json()["error"]["message"]
        # Ten pings alternating between the workers come back in order.
        for n in range(10, 20):
            target = (holder, other)[n % 2]
            ping = {"jsonrpc": "2.0", "id": n, "method": "ping"}
            assert post_mcp(target, key_headers(key), path=endpoint, body=ping).status_code == 202
        assert [json.loads(next(events)[1])["id"] for _ in range(10)] == list(range(10, 20))


async def test_a_revoked_key_is_refused_by_every_worker_within_a_second(
    app, two_workers, make_user, make_key
):
    key = make_key(make_user())
    async with (
        mcp_client(two_workers[0].url, key) as http,
        mcp_client(two_workers[1].url, key, transport="sse") as sse,
    ):
        assert not (await http.call_tool("whoami", {})).is_error
        assert not (await sse.call_tool("whoami", {})).is_error
        _revoke(app, key)
        revoked_at = time.monotonic()
        with pytest.raises(MCPError) as refused:
            await http.call_tool("whoami", {})
        assert refused.value.data["reason"] == "revoked"
        with pytest.raises(MCPError):  # the stream was closed by the worker holding it
            with anyio.fail_after(5):
                await sse.call_tool("whoami", {})
        assert time.monotonic() - revoked_at < 1.0  # the cache is 10 s: only the notice does this


def test_wrong_keys_are_counted_across_workers(postgres, worker_env, tmp_path):
    env = {**worker_env, "MCP_AUTH_FAILURE_LIMIT": "4"}
    workers = [start_worker(env, tmp_path / f"w{n}.log") for n in range(2)]
    try:
        wrong = key_headers("mcp_" + "0" * 64)
        statuses = [post_mcp(workers[n % 2], wrong).status_code for n in range(6)]
    finally:
        for worker in workers:
            worker.stop()
    # Four failures in all (two on each worker), then both refuse: not four on each.
    assert statuses == [401, 401, 401, 401, 429, 429]


async def test_shared_throttle_in_process(app, database_url, worker_env):
    """DatabaseAuthThrottle on either database: two instances (two workers) share one count."""
    runtime = Runtime.from_settings(Settings.from_env(worker_env))
    try:
        first, second = (DatabaseAuthThrottle(runtime, limit=3, window=60) for _ in range(2))
        for throttle in (first, second, first):
            assert await throttle.retry_after("198.51.100.9") is None
            await throttle.record_failure("198.51.100.9")
        wait = await second.retry_after("198.51.100.9")
        assert wait is not None and 1 <= wait <= 60
        assert await first.retry_after("198.51.100.10") is None
        await second.reset("198.51.100.9")
        assert await first.retry_after("198.51.100.9") is None
    finally:
        runtime.database.dispose()


# --- Streamable HTTP sessions: cap per key, idle expiry, revocation ends them -----------------------


@pytest.fixture
def capped_worker(request, worker_env, tmp_path) -> Iterator[WorkerProcess]:
    idle_minutes = getattr(request, "param", "5")
    env = {**worker_env, "MCP_SESSIONS_PER_KEY": "2", "MCP_SESSION_IDLE_MINUTES": idle_minutes}
    worker = start_worker(env, tmp_path / "capped.log")
    yield worker
    worker.stop()


def test_one_key_cannot_take_every_session_slot(app, capped_worker, make_user, make_key):
    key = make_key(make_user())
    other_key = make_key(make_user("bo@example.com", "Bo"), name="bo")
    opened = [post_mcp(capped_worker, key_headers(key)) for _ in range(2)]
    assert all(r.status_code == 200 and r.headers.get("mcp-session-id") for r in opened)
    refused = post_mcp(capped_worker, key_headers(key))
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["data"]["reason"] == "too_many_sessions" and "2 open sessions" in error["message"]
    assert post_mcp(capped_worker, key_headers(other_key)).status_code == 200  # others are not affected

    # Revoking the key ends its sessions (the log says so) and frees the slots.
    _revoke(app, key)
    deadline = time.monotonic() + 10
    while "ended 2 Streamable HTTP sessions" not in capped_worker.log():
        assert time.monotonic() < deadline, capped_worker.log()[-2000:]
        time.sleep(0.1)


@pytest.mark.parametrize("capped_worker", ["0.05"], indirect=True)
def test_idle_sessions_expire(capped_worker, make_user, make_key):
    key = make_key(make_user())
    session_id = post_mcp(capped_worker, key_headers(key)).headers["mcp-session-id"]
    headers = {**key_headers(key), "mcp-session-id": session_id, "mcp-protocol-version": "2025-11-25"}
    assert post_mcp(capped_worker, headers, body=PING).status_code == 200
    deadline = time.monotonic() + 15  # idle expiry is 3 s in this worker
    while post_mcp(capped_worker, headers, body=PING).status_code == 200:
        assert time.monotonic() < deadline, "the idle session never expired"
        time.sleep(4)
    assert post_mcp(capped_worker, headers, body=PING).status_code == 404


# --- SIGTERM -------------------------------------------------------------------------------------------


async def test_sigterm_finishes_calls_in_flight_and_ends_streams_cleanly(
    worker_env, tmp_path, make_user, make_key, app
):
    from portal.core.models import AuditEvent

    key = make_key(make_user())
    worker = start_worker(worker_env, tmp_path / "stopping.log")
    try:
        async with mcp_client(worker.url, key, transport="sse") as sse:
            assert not (await sse.call_tool("whoami", {})).is_error
            worker.process.send_signal(signal.SIGTERM)
            # The stream ends cleanly: the session sees the connection closed, not an error mid-message.
            with pytest.raises(MCPError) as closed:
                with anyio.fail_after(10):
                    while True:
                        await sse.call_tool("whoami", {})
                        await anyio.sleep(0.05)
            assert closed.value.message == "Connection closed"
        assert worker.process.wait(timeout=25) == 0
    finally:
        worker.stop()
    assert "Traceback" not in worker.log()
    with app.app_context():
        assert db.session.query(AuditEvent).filter(AuditEvent.kind == "tool_call").count() >= 1


# --- the database going away ----------------------------------------------------------------------


@pytest.fixture
def blockable_database(postgres, tmp_path) -> Iterator[str]:
    """A database of its own, so that this test can refuse its connections without touching others'."""
    from portal.core.db import make_engine
    from portal.core.models import Base

    name = f"pm_outage_{int(time.time() * 1000) % 10_000_000}"
    admin = postgres.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _set_reachable(url: str, reachable: bool) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if reachable else "false"}')
        if not reachable:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


async def test_database_outage_answers_503_keeps_streams_and_recovers(
    blockable_database, worker_env, tmp_path
):
    from portal.core import accounts

    url = blockable_database
    database = Database(url)
    with database.session() as session:
        user = accounts.create_user(
            session, email="ana@example.com", password="correct horse battery", display_name="Ana"
        )
        key = key_service.mint_key(session, user, name="k").raw_key
        fresh = key_service.mint_key(session, user, name="fresh").raw_key
    worker = start_worker({**worker_env, "DATABASE_URL": url}, tmp_path / "outage.log")
    try:
        async with mcp_client(worker.url, key, transport="sse") as sse:
            assert not (await sse.call_tool("whoami", {})).is_error
            _set_reachable(url, False)
            try:
                # A key not cached: the worker can't check it, and says so with a JSON-RPC error.
                refused = post_mcp(worker, key_headers(fresh))
                assert refused.status_code == 503
                assert refused.json()["error"]["data"]["reason"] == "database_unavailable"
                assert requests.get(f"{worker.url}/healthz", timeout=10).status_code == 503
                await anyio.sleep(2)  # several stream re-checks fail meanwhile
            finally:
                _set_reachable(url, True)
            # The worker recovers by itself: pool reconnected, LISTEN re-subscribed.
            deadline = time.monotonic() + 15
            while (
                requests.get(f"{worker.url}/healthz", timeout=10).json().get("notifications") != "listening"
            ):
                assert time.monotonic() < deadline, worker.log()[-3000:]
                await anyio.sleep(0.2)
            # And the stream survived the outage.
            with anyio.fail_after(20):
                while True:
                    result = await sse.call_tool("whoami", {})
                    if not result.is_error:
                        break
                    await anyio.sleep(0.5)
        assert post_mcp(worker, key_headers(fresh)).status_code == 200
        assert "listening for revocations and forwarded messages again" in worker.log()
    finally:
        worker.stop()
        database.dispose()


async def test_a_locked_sqlite_database_is_reported_busy(database_url, worker, app, make_user, make_key):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    user_id = make_user()
    world = local_world(app, user_id, make_user("bo@example.com", "Bo"))
    key = make_key(user_id)
    async with mcp_client(worker.url, key) as client:
        assert not (await client.call_tool("whoami", {})).is_error
        lock = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the busy timeout
            result = await client.call_tool("create_task", {"project": world.project_ref, "title": "Locked"})
        finally:
            lock.execute("ROLLBACK")
            lock.close()
    assert result.is_error
    assert "busy" in result.content[0].text and "can't be reached" not in result.content[0].text


def test_a_second_worker_on_one_sqlite_file_says_to_run_one(database_url, worker, worker_env, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the single-process rule of SQLite")
    second = start_worker(worker_env, tmp_path / "second.log")  # `worker` already serves this file
    try:
        assert "With SQLite run one worker process" in second.log()
        assert "use PostgreSQL" in second.log()
    finally:
        second.stop()


def test_portal_changes_are_announced_when_they_commit(postgres, app, make_user, make_key):
    """The notices the workers listen for: sent by the core's revoke, disable and connection changes, on commit."""
    from portal.core import accounts, revocations
    from portal.core.models import User

    key = make_key(make_user())
    dsn = postgres.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {revocations.CHANNEL}")
        with app.app_context():
            row = db.session.scalar(select(McpApiKey).where(McpApiKey.key_hash == hash_key(key)))
            key_service.revoke_key(db.session, row)
            db.session.rollback()  # a rolled-back revocation announces nothing
            row = db.session.scalar(select(McpApiKey).where(McpApiKey.key_hash == hash_key(key)))
            key_service.revoke_key(db.session, row)
            user = db.session.get(User, row.user_id)
            accounts.set_active(db.session, user, False)
            db.session.commit()
            expected = [("key", row.id, user.id), ("user", user.id, user.id)]
        notices = [revocations.parse(n.payload) for n in listener.notifies(timeout=5, stop_after=2)]
    assert notices == expected
