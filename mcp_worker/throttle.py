"""The worker's throttle on wrong MCP API keys, behind a small interface.

Only a presented key that is wrong (malformed, unknown, revoked, expired)
counts as a failure; a request without a key, and any request with a valid key,
never does. The interface is async so that an implementation shared by several
worker processes (a database table) can do its I/O off the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from portal.core.throttle import FailureThrottle


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
