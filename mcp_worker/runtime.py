"""What the worker holds for its lifetime: settings, database, vault, outbound policy, thread limits."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread

from portal.core.config import Settings
from portal.core.db import Database
from portal.core.providers.http import HttpPolicy
from portal.core.vault import Vault

T = TypeVar("T")

# Blocking work (database, vendor HTTP) runs in threads, never on the event loop,
# with a bound on how many at once: the database pool has this many connections.
DATABASE_THREADS = 10
PROVIDER_THREADS = 32
# Of those, what one user and one of their connections may hold at once: a user whose own vendor
# is slow waits for their own calls, never takes the threads everyone else needs.
PROVIDER_THREADS_PER_USER = 8
PROVIDER_THREADS_PER_CONNECTION = 4


class ThreadShares:
    """Per-user and per-connection shares of the vendor threads.

    A share is held until the thread itself ends, not only while a task awaits it: a call given
    up on (a fan-out's time limit) leaves its thread running until the vendor request's deadline,
    and that thread still counts against its user.
    """

    def __init__(
        self, per_user: int = PROVIDER_THREADS_PER_USER, per_connection: int = PROVIDER_THREADS_PER_CONNECTION
    ):
        self.per_user = per_user
        self.per_connection = per_connection
        self._limiters: dict[Hashable, anyio.CapacityLimiter] = {}

    def limiters(self, user_id: int, connection: Hashable) -> list[anyio.CapacityLimiter]:
        # The connection's share first: a call queued behind its own connection holds none of its
        # user's share, which the user's calls on other connections can then use.
        wanted = [
            (("connection", user_id, connection), self.per_connection),
            (("user", user_id), self.per_user),
        ]
        out = []
        for key, tokens in wanted:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = anyio.CapacityLimiter(tokens)
            out.append(limiter)
        return out

    def release(self, limiters: list[anyio.CapacityLimiter], borrower: object) -> None:
        for limiter in limiters:
            limiter.release_on_behalf_of(borrower)
        # Forget idle limiters, so the table holds only users with calls in flight.
        for key in [
            k
            for k, v in self._limiters.items()
            if v.borrowed_tokens == 0 and not v.statistics().tasks_waiting
        ]:
            del self._limiters[key]


@dataclass
class Runtime:
    settings: Settings
    database: Database
    vault: Vault
    policy: HttpPolicy
    db_limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(DATABASE_THREADS))
    provider_limiter: anyio.CapacityLimiter = field(
        default_factory=lambda: anyio.CapacityLimiter(PROVIDER_THREADS)
    )
    shares: ThreadShares = field(default_factory=ThreadShares)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            database=Database(settings.database_url),
            vault=Vault(settings.credentials_keys),
            policy=HttpPolicy.from_settings(settings),
        )

    async def in_db_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking database work in a bounded worker thread."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=self.db_limiter)

    async def in_provider_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking vendor call in a bounded worker thread."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args, **kwargs), limiter=self.provider_limiter, abandon_on_cancel=True
        )

    async def in_connection_thread(self, user_id: int, connection: Hashable, fn: Callable[[], T]) -> T:
        """Run a blocking call on one of a user's connections, within that user's and connection's share."""
        limiters = self.shares.limiters(user_id, connection)
        borrower = object()
        held: list[anyio.CapacityLimiter] = []
        try:
            for limiter in limiters:
                await limiter.acquire_on_behalf_of(borrower)
                held.append(limiter)
        except BaseException:
            self.shares.release(held, borrower)
            raise
        lock = threading.Lock()
        state = {"started": False, "released": False}

        def work() -> T:
            with lock:
                if state["released"]:  # given up on before it started
                    raise anyio.get_cancelled_exc_class()()
                state["started"] = True
            try:
                return fn()
            finally:
                try:
                    anyio.from_thread.run_sync(self.shares.release, held, borrower)
                except RuntimeError:
                    pass  # the event loop has ended: nothing is left to share

        try:
            return await anyio.to_thread.run_sync(work, limiter=self.provider_limiter, abandon_on_cancel=True)
        except BaseException:
            with lock:
                release_here = not state["started"] and not state["released"]
                state["released"] = True
            if release_here:
                self.shares.release(held, borrower)
            raise
