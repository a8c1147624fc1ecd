"""Batched writes of credential use and audit rows, so no request waits on a database write.

Every `interval` seconds (sooner once `FLUSH_AT` rows wait) the pending
`last_used_at` touches and audit rows are written in one transaction. A
transient database error (the server restarting, a lock, a dropped connection)
puts the batch back at the head of the queue and the next attempt waits longer,
up to `MAX_BACKOFF`; rows are dropped only beyond `MAX_PENDING` (oldest first,
logged with their count) or when the database refuses them for good.

What a crash can lose is what is still in memory: on SIGKILL, the rows of calls
that finished within the last `interval` seconds (plus, during a database
outage, those waiting for it to return). SIGTERM flushes before exiting.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from portal.core.db import DatabaseUnavailable
from portal.core.models import AuditEvent, McpApiKey, OAuthGrant, utcnow
from portal.core.principals import Principal

from .runtime import Runtime

log = logging.getLogger(__name__)

BATCH_INTERVAL = 0.5  # seconds between writes: what a SIGKILL can lose (README)
TOUCH_INTERVAL = 60.0  # seconds between last_used_at writes for one credential
FLUSH_AT = 200  # pending audit rows that wake the writer before its interval
MAX_PENDING = 50_000  # audit rows kept while the database is away
MAX_BACKOFF = 5.0  # seconds between attempts while the database is away


@dataclass
class AuditRecord:
    """One tools/call outcome, written later in a batch (never arguments, never secrets)."""

    at: datetime
    user_id: int
    key_id: int | None
    tool: str
    ok: bool
    connection_id: int | None = None
    target: str | None = None
    error_class: str | None = None
    duration_ms: int | None = None
    client_ip: str | None = None
    grant_id: int | None = None


def is_transient(exc: BaseException) -> bool:
    """True for a database error that a later attempt may not meet (outage, lock, lost connection)."""
    if isinstance(exc, DatabaseUnavailable | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class UsageRecorder:
    """Batches `last_used_at` touches and audit rows; retries a batch the database could not take."""

    def __init__(self, runtime: Runtime, interval: float = BATCH_INTERVAL):
        self._runtime = runtime
        self.interval = interval
        self._touched: dict[tuple[str, int], datetime] = {}
        self._last_touch: dict[object, float] = {}
        self._audit: deque[AuditRecord] = deque()
        self._wake = anyio.Event()
        self._failures = 0  # consecutive failed attempts, for the backoff
        self.dropped = 0  # audit rows given up on since start
        self._flushing = anyio.Lock()  # one write at a time: a batch is forgotten only once written

    @property
    def pending(self) -> int:
        """Audit rows not yet written."""
        return len(self._audit)

    def touch(self, principal: Principal, presented: object) -> None:
        """Note a key's or grant's use; written at most once a minute per credential."""
        now = time.monotonic()
        last = self._last_touch.get(presented)
        if last is not None and now - last < TOUCH_INTERVAL:
            return
        if len(self._last_touch) > 10_000:
            self._last_touch.clear()
        self._last_touch[presented] = now
        self._touched[(principal.kind, principal.credential_id)] = utcnow()

    def audit(self, record: AuditRecord) -> None:
        self._audit.append(record)
        overflow = len(self._audit) - MAX_PENDING
        if overflow > 0:
            for _ in range(overflow):
                self._audit.popleft()
            self.dropped += overflow
            log.error("the database has been away too long: dropped the %d oldest audit rows", overflow)
        if len(self._audit) >= FLUSH_AT:
            self._wake.set()

    async def run(self) -> None:
        """Flush pending writes until cancelled, then flush once more (retrying for a few seconds)."""
        try:
            while True:
                delay = (
                    self.interval
                    if not self._failures
                    else min(MAX_BACKOFF, self.interval * 2**self._failures)
                )
                with anyio.move_on_after(delay):
                    await self._wake.wait()
                self._wake = anyio.Event()
                await self.flush()
        finally:
            with anyio.CancelScope(shield=True):
                await self.drain(deadline=5.0)

    async def drain(self, deadline: float) -> bool:
        """Flush until nothing is pending or `deadline` seconds passed; True if everything was written."""
        with anyio.move_on_after(deadline):
            while await self.flush() is False:
                await anyio.sleep(min(0.5, deadline / 4))
            return True
        if self._audit:
            log.error("stopping with %d audit rows the database would not take", len(self._audit))
        return False

    async def flush(self) -> bool:
        """Write what is pending; False if a transient error put it back for the next attempt.

        Waits for a write already under way, so that what was noted before the call is written (or
        put back, or logged as dropped) when it returns.
        """
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> bool:
        touched, self._touched = self._touched, {}
        batch = list(self._audit)
        if not touched and not batch:
            return True
        try:
            await self._runtime.in_db_thread(self._write, touched, batch)
        except Exception as exc:
            if is_transient(exc):
                self._failures += 1
                # Newer touches win; the batch stays at the head of the queue (nothing was committed).
                self._touched = {**touched, **self._touched}
                log.warning(
                    "could not record %d audit rows yet (attempt %d), will retry: %s",
                    len(batch),
                    self._failures,
                    _first_line(exc),
                )
                return False
            self._failures = 0
            self._forget(len(batch))
            self.dropped += len(batch)
            log.exception("could not record key usage and %d audit rows; they are dropped", len(batch))
            return True
        self._failures = 0
        self._forget(len(batch))
        return True

    def _forget(self, count: int) -> None:
        for _ in range(min(count, len(self._audit))):
            self._audit.popleft()

    def _write(self, touched: dict[tuple[str, int], datetime], audit: list[AuditRecord]) -> None:
        try:
            with self._runtime.database.session() as session:
                for (kind, credential_id), at in touched.items():
                    table = McpApiKey if kind == "key" else OAuthGrant
                    session.execute(update(table).where(table.id == credential_id).values(last_used_at=at))
                session.add_all(_audit_row(record) for record in audit)
        except IntegrityError:
            # A user, key or connection was deleted since the call: keep the rows, without the dangling links.
            with self._runtime.database.session() as session:
                for record in audit:
                    row = _audit_row(record)
                    try:
                        with session.begin_nested():
                            session.add(row)
                    except IntegrityError:
                        row = _audit_row(record, orphaned=True)
                        session.add(row)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _audit_row(record: AuditRecord, *, orphaned: bool = False) -> AuditEvent:
    return AuditEvent(
        at=record.at,
        user_id=None if orphaned else record.user_id,
        key_id=None if orphaned else record.key_id,
        grant_id=None if orphaned else record.grant_id,
        kind="tool_call",
        tool=record.tool,
        connection_id=None if orphaned else record.connection_id,
        target=record.target[:200] if record.target else None,
        ok=record.ok,
        error_class=record.error_class,
        duration_ms=record.duration_ms,
        client_ip=record.client_ip,
    )
