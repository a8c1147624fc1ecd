"""Audit rows survive a transient database error, and what SIGKILL can lose is bounded by the batch interval."""

from __future__ import annotations

import signal
import sqlite3

import anyio
import psycopg
import pytest
from sqlalchemy import create_engine, event, func, select

from mcp_worker.audit import BATCH_INTERVAL, AuditRecord, UsageRecorder
from mcp_worker.runtime import Runtime
from portal.core.config import Settings
from portal.core.db import Database, engine_options
from portal.core.keys import hash_key
from portal.core.models import AuditEvent, McpApiKey, utcnow
from portal.extensions import db

from .harness import mcp_client, start_worker

pytestmark = pytest.mark.anyio


def _short_wait_engine(url: str):
    """An engine that gives up on a lock after ~0.2 s, so a held lock is a quick transient error."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **engine_options(url))

        @event.listens_for(engine, "checkout")
        def _short_busy_timeout(dbapi_connection, _record, _proxy):
            dbapi_connection.execute("PRAGMA busy_timeout=200")

        return engine
    options = engine_options(url)
    options["connect_args"] = {**options["connect_args"], "options": "-c lock_timeout=200"}
    return create_engine(url, **options)


class _TableLock:
    """Another client holding a write lock on the audit table (SQLite: the whole file)."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            dsn = self.url.replace("postgresql+psycopg://", "postgresql://")
            self.conn = psycopg.connect(dsn)
            self.conn.execute("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
        return self

    def __exit__(self, *exc):
        self.conn.rollback() if not self.url.startswith("sqlite") else self.conn.execute("ROLLBACK")
        self.conn.close()


async def test_audit_rows_are_kept_through_a_transient_database_error(
    app, database_url, worker_env, make_user
):
    user_id = make_user()
    settings = Settings.from_env(worker_env)
    engine = _short_wait_engine(database_url)
    runtime = Runtime.from_settings(settings)
    runtime.database = Database(database_url, engine)
    recorder = UsageRecorder(runtime)
    recorder.audit(AuditRecord(at=_now(), user_id=user_id, key_id=None, tool="whoami", ok=True))
    try:
        with _TableLock(database_url):
            assert await recorder.flush() is False  # the lock made the write fail: kept for later
            assert recorder.pending == 1
            recorder.audit(
                AuditRecord(at=_now(), user_id=user_id, key_id=None, tool="list_my_tasks", ok=True)
            )
        assert await recorder.flush() is True
        assert recorder.pending == 0 and recorder.dropped == 0
        with app.app_context():
            tools = db.session.scalars(select(AuditEvent.tool).where(AuditEvent.user_id == user_id)).all()
        assert sorted(tools) == ["list_my_tasks", "whoami"]
    finally:
        engine.dispose()


def _now():
    return utcnow()


async def test_sigkill_loses_no_audit_row_older_than_the_batch_interval(
    app, worker_env, tmp_path, make_user, make_key
):
    """README: a SIGKILL loses at most the rows of calls that ended in the last batch interval (0.5 s)."""
    key = make_key(make_user())
    worker = start_worker(worker_env, tmp_path / "worker.log")
    try:
        async with mcp_client(worker.url, key) as client:
            for _ in range(25):
                assert not (await client.call_tool("whoami", {})).is_error
        # The documented window, twice over, then no chance to flush on the way out.
        await anyio.sleep(2 * BATCH_INTERVAL)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(timeout=10)
    finally:
        worker.stop()
    with app.app_context():
        key_id = db.session.scalar(select(McpApiKey.id).where(McpApiKey.key_hash == hash_key(key)))
        count = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == "tool_call", AuditEvent.key_id == key_id)
        )
    assert count == 25
