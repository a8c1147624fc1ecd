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


class SignInThrottle:
    """The portal's sign-in throttle: failures counted per account and per address, separately.

    - An account (the typed email, whether or not it exists) is refused after
      `per_account` failures within `window`; only a successful sign-in to that
      same account clears its count, so one member's own sign-ins can't reset
      the count of guesses at another's password.
    - An address is refused after `per_address` failures within `window`
      (spraying many accounts from one place); it is never reset by a success,
      and is set higher than the per-account limit so that one locked account
      doesn't stop others behind the same address from signing in.
    """

    def __init__(
        self,
        *,
        per_account: int,
        per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.accounts = FailureThrottle(per_account, window, clock=clock)
        self.addresses = FailureThrottle(per_address, window, clock=clock)

    @staticmethod
    def _account(email: str) -> str:
        return (email or "").strip().lower()[:254]

    def retry_after(self, email: str, address: str) -> tuple[str, float] | None:
        """('account' or 'address', seconds to wait) when this attempt must be refused, else None."""
        account_wait = self.accounts.retry_after(self._account(email))
        if account_wait is not None:
            return "account", account_wait
        address_wait = self.addresses.retry_after(address)
        if address_wait is not None:
            return "address", address_wait
        return None

    def record_failure(self, email: str, address: str) -> None:
        self.accounts.record_failure(self._account(email))
        self.addresses.record_failure(address)

    def record_success(self, email: str) -> None:
        self.accounts.reset(self._account(email))
