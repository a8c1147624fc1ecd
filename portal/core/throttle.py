"""Sliding-window counters for refusing repeated failures from one address."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class FailureThrottle:
    """Counts failures per key (an address) and refuses once `limit` fall within `window` seconds.

    In-process and thread-safe; each portal or worker process keeps its own
    counts, which bounds an attacker to `limit` tries per window per process.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        entries = self._failures.get(key)
        if entries is None:
            return None
        while entries and entries[0] <= now - self.window:
            entries.popleft()
        if not entries:
            del self._failures[key]
            return None
        return entries

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None if it is not being refused."""
        with self._lock:
            now = self._clock()
            entries = self._recent(key, now)
            if entries is None or len(entries) < self.limit:
                return None
            return max(1.0, entries[0] + self.window - now)

    def record_failure(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            if key not in self._failures and len(self._failures) >= self._max_keys:
                self._evict(now)
            entries = self._recent(key, now) or self._failures.setdefault(key, deque())
            entries.append(now)
            self._failures[key] = entries

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _evict(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= self._max_keys:
            self._failures.pop(next(iter(self._failures)))
