"""PostgreSQL as the bus between worker processes: LISTEN/NOTIFY, nothing of our own to run.

- Revocation notices (`portal.core.revocations.CHANNEL`), sent by the portal and
  the command line inside the transaction that revokes, reach every worker.
- Each worker listens on a channel of its own for messages forwarded to it
  (an SSE message POSTed to another worker). A payload too large for NOTIFY
  (8000 bytes) is stored in `mcp_bus_payloads` and the notice carries its id.
- The listening connection is re-opened (and re-subscribed) by itself after a
  database restart; `on_resubscribed` runs then, because notices sent while it
  was away are lost.

On SQLite there is a single worker process and no bus: `WorkerBus.for_runtime`
returns None.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import anyio
import psycopg
from psycopg import sql
from sqlalchemy import delete, select, text

from portal.core import revocations
from portal.core.models import BusPayload, utcnow

from .runtime import Runtime

log = logging.getLogger(__name__)

NOTIFY_LIMIT = 7900  # bytes; PostgreSQL refuses payloads of 8000 bytes or more
KEEPALIVE = 15.0  # seconds without a notice before the listening connection is checked
PAYLOAD_LIFETIME = timedelta(minutes=5)  # stored payloads nobody fetched are deleted after this

RevocationHandler = Callable[[str, int, int | None], Awaitable[None]]
ForwardHandler = Callable[[dict[str, Any]], None]


class WorkerBus:
    """One worker's end of the bus: a listening connection, and publishing through the pool."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        on_revocation: RevocationHandler,
        on_forward: ForwardHandler,
        on_resubscribed: Callable[[], Awaitable[None]],
    ):
        self._runtime = runtime
        self.worker_id = uuid.uuid4().hex[:20]
        self.channel = f"pm_worker_{self.worker_id}"
        self._on_revocation = on_revocation
        self._on_forward = on_forward
        self._on_resubscribed = on_resubscribed
        url = runtime.database.engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self.listening = False
        self.subscriptions = 0  # times LISTEN was (re-)issued, for the logs and the tests

    @classmethod
    def for_runtime(cls, runtime: Runtime, **handlers: Any) -> WorkerBus | None:
        if runtime.database.engine.dialect.name != "postgresql":
            return None
        return cls(runtime, **handlers)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Listen until cancelled, reconnecting after a lost connection; started once first subscribed."""
        started = False
        pause = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=5
                ) as conn:
                    for channel in (revocations.CHANNEL, self.channel):
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.listening = True
                    self.subscriptions += 1
                    pause = 0.2
                    if not started:
                        started = True
                        task_status.started()
                    else:
                        log.info("listening for revocations and forwarded messages again")
                        await self._on_resubscribed()
                    await self._listen(conn)
            except (psycopg.Error, OSError) as exc:
                if self.listening:
                    log.warning("lost the database's notifications, reconnecting: %s", _first_line(exc))
                self.listening = False
                if not started:
                    started = True
                    task_status.started()
                await anyio.sleep(pause)
                pause = min(1.0, pause * 2)

    async def _listen(self, conn: psycopg.AsyncConnection) -> None:
        while True:
            async for notice in conn.notifies(timeout=KEEPALIVE):
                await self._dispatch(notice.channel, notice.payload)
            await conn.execute("SELECT 1")  # a silent network loss shows here, not never

    async def _dispatch(self, channel: str, payload: str) -> None:
        try:
            if channel == revocations.CHANNEL:
                parsed = revocations.parse(payload)
                if parsed is not None:
                    await self._on_revocation(*parsed)
            elif channel == self.channel:
                self._on_forward(json.loads(payload))
        except Exception:
            log.exception("could not handle a notice on %s", channel)

    async def forward(self, worker: str, message: dict[str, Any]) -> None:
        """Send `message` to `worker`'s channel; one committed NOTIFY, so order between senders holds."""
        await self._runtime.in_db_thread(self._forward, worker, message)

    def _forward(self, worker: str, message: dict[str, Any]) -> None:
        payload = json.dumps(message, separators=(",", ":"))
        with self._runtime.database.session() as session:
            if len(payload.encode()) > NOTIFY_LIMIT:
                row = BusPayload(body=payload)
                session.add(row)
                session.flush()
                payload = json.dumps({"ref": row.id, "session": message.get("session")})
            session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": f"pm_worker_{worker}", "payload": payload},
            )

    async def take_payload(self, ref: int) -> dict[str, Any] | None:
        """The stored message a notice referred to (deleted as it is read), or None if it is gone."""
        return await self._runtime.in_db_thread(self._take_payload, ref)

    def _take_payload(self, ref: int) -> dict[str, Any] | None:
        with self._runtime.database.session() as session:
            body = session.scalar(select(BusPayload.body).where(BusPayload.id == ref))
            session.execute(
                delete(BusPayload).where(
                    (BusPayload.id == ref) | (BusPayload.created_at < utcnow() - PAYLOAD_LIFETIME)
                )
            )
        return json.loads(body) if body is not None else None


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip()
    return text_.splitlines()[0][:200] if text_ else type(exc).__name__
