"""The vendor deadline's watchdog: sockets shut at their deadline, in deadline order, on one thread
however many requests are in flight; a cancelled deadline leaves its socket alone."""

from __future__ import annotations

import socket
import threading
import time

from portal.core.providers.deadline import Deadline, _Watchdog


def _blocked_read_ends(sock: socket.socket, within: float) -> float:
    """Seconds until a blocked recv on `sock` returned (at most `within`)."""
    sock.settimeout(within)
    started = time.monotonic()
    assert sock.recv(1) == b""  # shut down: end of stream, not a timeout
    return time.monotonic() - started


def test_a_blocked_read_returns_at_the_deadline():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        deadline = Deadline(0.3, _Watchdog())
        deadline.watch(ours)
        waited = _blocked_read_ends(ours, within=5)
        assert 0.2 <= waited < 2
        assert deadline.expired and deadline.passed()


def test_many_requests_share_one_watchdog_thread():
    watchdog = _Watchdog()
    pairs = [socket.socketpair() for _ in range(50)]
    threads_before = threading.active_count()
    try:
        deadlines = []
        for ours, _ in pairs:
            deadline = Deadline(0.5, watchdog)
            deadline.watch(ours)
            deadlines.append(deadline)
        # At most one more (threads of earlier tests may still be ending meanwhile), not one per request.
        assert threading.active_count() <= threads_before + 1
        assert watchdog._thread is not None and watchdog._thread.is_alive()
        assert watchdog.pending() == 50
        for ours, _ in pairs:
            _blocked_read_ends(ours, within=5)
        assert all(deadline.expired for deadline in deadlines)
        assert watchdog.pending() == 0
    finally:
        for ours, theirs in pairs:
            ours.close()
            theirs.close()


def test_a_nearer_deadline_registered_later_fires_first():
    watchdog = _Watchdog()
    far_ours, far_theirs = socket.socketpair()
    near_ours, near_theirs = socket.socketpair()
    with far_ours, far_theirs, near_ours, near_theirs:
        far = Deadline(30, watchdog)
        far.watch(far_ours)  # the watchdog now sleeps until this one's time
        near = Deadline(0.2, watchdog)
        near.watch(near_ours)
        assert _blocked_read_ends(near_ours, within=5) < 2
        assert near.expired and not far.expired
        far.cancel()


def test_a_cancelled_deadline_leaves_its_socket_alone():
    watchdog = _Watchdog()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        deadline = Deadline(0.2, watchdog)
        deadline.watch(ours)
        deadline.cancel()
        assert watchdog.pending() == 0
        signal = Deadline(0.4, watchdog)  # a later deadline: once it fired, the first one's time had passed
        probe_ours, probe_theirs = socket.socketpair()
        with probe_ours, probe_theirs:
            signal.watch(probe_ours)
            _blocked_read_ends(probe_ours, within=5)
        assert not deadline.expired
        theirs.sendall(b"x")
        ours.settimeout(5)
        assert ours.recv(1) == b"x"  # still open for reading


def test_a_deadline_already_passed_shuts_the_socket_at_once():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        deadline = Deadline(0.05, _Watchdog())
        time.sleep(0.1)  # the deadline passing before the socket is watched is the case under test
        deadline.watch(ours)
        assert deadline.expired
        assert _blocked_read_ends(ours, within=1) < 0.5
