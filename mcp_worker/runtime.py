"""What the worker holds for its lifetime: settings, database, vault, outbound policy, thread limits."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
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

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            database=Database(settings.database_url),
            vault=Vault(settings.credentials_keys),
            policy=HttpPolicy(
                allowed_hosts=settings.allowed_provider_hosts, ca_bundle=settings.outbound_ca_bundle
            ),
        )

    async def in_db_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking database work in a bounded worker thread."""
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=self.db_limiter)

    async def in_provider_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking vendor call in a bounded worker thread."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args, **kwargs), limiter=self.provider_limiter, abandon_on_cancel=True
        )
