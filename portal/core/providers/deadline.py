"""The total deadline of one vendor request, and the one thread that enforces every deadline.

A vendor dripping its headers or body would hold a thread past any socket timeout (each read
returns a byte in time). So every socket a request uses is registered with its Deadline, and
when the deadline passes the socket is shut down: a read blocked on it returns at once. One
watchdog thread keeps the pending shutdowns in a heap, however many requests are in flight,
rather than a timer thread per request.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable


class _Watchdog:
    """Runs each registered action at its time, on one daemon thread started on first use."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._times: list[tuple[float, int]] = []  # a heap; a cancelled entry stays until its time
        self._actions: dict[int, Callable[[], None]] = {}
        self._numbers = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, at: float, action: Callable[[], None]) -> int:
        """Run `action` at monotonic time `at`; the number returned cancels it."""
        with self._changed:
            number = next(self._numbers)
            self._actions[number] = action
            heapq.heappush(self._times, (at, number))
            if self._thread is None or not self._thread.is_alive():  # first use, or a forked child
                self._thread = threading.Thread(target=self._run, name="vendor-deadlines", daemon=True)
                self._thread.start()
            self._changed.notify()
            return number

    def cancel(self, number: int) -> None:
        """The action will not run, unless it already has."""
        with self._changed:
            self._actions.pop(number, None)

    def pending(self) -> int:
        """Actions scheduled and neither run nor cancelled."""
        with self._changed:
            return len(self._actions)

    def _run(self) -> None:
        while True:
            with self._changed:
                action = self._next_due()
            try:
                action()
            except Exception:  # noqa: S110 - an action only shuts a socket down; nothing may stop the watchdog
                pass

    def _next_due(self) -> Callable[[], None]:
        """Wait (holding the condition) for the earliest action that is due and not cancelled."""
        while True:
            if not self._times:
                self._changed.wait()
                continue
            at, number = self._times[0]
            if number not in self._actions:
                heapq.heappop(self._times)  # cancelled
                continue
            wait = at - time.monotonic()
            if wait <= 0:
                heapq.heappop(self._times)
                return self._actions.pop(number)
            self._changed.wait(timeout=wait)


WATCHDOG = _Watchdog()


class Deadline:
    """The end of one logical vendor request; sockets used for it are shut down when it passes."""

    def __init__(self, seconds: float, watchdog: _Watchdog = WATCHDOG):
        self.at = time.monotonic() + seconds
        self.expired = False
        self._watchdog = watchdog
        self._scheduled: list[int] = []

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down at the deadline: a blocked read then returns at once."""

        def expire() -> None:
            self.expired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

        if self.remaining() <= 0:
            expire()
            return
        self._scheduled.append(self._watchdog.schedule(self.at, expire))

    def cancel(self) -> None:
        """The request ended: its sockets are left alone (they go back to the pool)."""
        for number in self._scheduled:
            self._watchdog.cancel(number)
        self._scheduled.clear()
