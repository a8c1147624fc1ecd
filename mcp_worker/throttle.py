"""The worker's throttle on wrong MCP API keys, behind a small interface.

Only a presented key that is wrong (malformed, unknown, revoked, expired)
counts as a failure; a request without a key, and any request with a valid key,
never does. The interface is async so that an implementation shared by several
worker processes (a database table) can do its I/O off the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import delete, func, select

from portal.core.models import AuthFailure, utcnow
from portal.core.throttle import FailureThrottle

if TYPE_CHECKING:
    from .runtime import Runtime


class AuthThrottle(Protocol):
    """Counts wrong keys per client address and says when an address must wait."""

    async def retry_after(self, address: str) -> float | None:
        """Seconds until `address` may present another key, or None if it isn't refused."""
        ...

    async def record_failure(self, address: str) -> None:
        """Count one wrong key from `address`."""
        ...

    async def reset(self, address: str) -> None:
        """Forget the failures counted for `address`."""
        ...


class InProcessAuthThrottle:
    """AuthThrottle kept in this process's memory: each worker process counts on its own."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self._counts = FailureThrottle(limit, window, clock=clock)

    async def retry_after(self, address: str) -> float | None:
        return self._counts.retry_after(address)

    async def record_failure(self, address: str) -> None:
        self._counts.record_failure(address)

    async def reset(self, address: str) -> None:
        self._counts.reset(address)


class DatabaseAuthThrottle:
    """AuthThrottle counted in a table that every worker process shares, so N workers allow no more than one.

    One row per wrong credential; an address already refused adds no rows, so an
    address has at most `limit` rows in a window. Rows older than the window are
    deleted now and then by whichever worker records a failure.
    """

    PRUNE_EVERY = 100  # failures recorded between deletions of expired rows

    def __init__(self, runtime: Runtime, limit: int, window: float):
        self._runtime = runtime
        self.limit = limit
        self.window = timedelta(seconds=window)
        self._recorded = 0

    async def retry_after(self, address: str) -> float | None:
        return await self._runtime.in_db_thread(self._retry_after, address)

    async def record_failure(self, address: str) -> None:
        self._recorded += 1
        prune = self._recorded % self.PRUNE_EVERY == 1
        await self._runtime.in_db_thread(self._record, address, prune)

    async def reset(self, address: str) -> None:
        await self._runtime.in_db_thread(self._reset, address)

    def _retry_after(self, address: str) -> float | None:
        now = utcnow()
        with self._runtime.database.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(AuthFailure.at)).where(
                    AuthFailure.address == address[:64], AuthFailure.at > now - self.window
                )
            ).one()
        if count < self.limit or oldest is None:
            return None
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        return max(1.0, (oldest + self.window - now).total_seconds())

    def _record(self, address: str, prune: bool) -> None:
        now = utcnow()
        with self._runtime.database.session() as session:
            session.add(AuthFailure(address=address[:64], at=now))
            if prune:
                session.execute(delete(AuthFailure).where(AuthFailure.at <= now - self.window))

    def _reset(self, address: str) -> None:
        with self._runtime.database.session() as session:
            session.execute(delete(AuthFailure).where(AuthFailure.address == address[:64]))
