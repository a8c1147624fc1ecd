"""What a vendor request's deadline costs: one timer thread per watched socket (as before) against
the one shared watchdog (portal/core/providers/deadline.py), for requests that end before their
deadline, the common case: watch a socket, then cancel. Sequential, and from 32 threads at once
(the worker's vendor threads).

    .venv/bin/python benchmarks/deadline_bench.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from portal.core.providers.deadline import Deadline, _Watchdog


def timer_per_request(sock: socket.socket) -> None:
    timer = threading.Timer(30, lambda: sock.shutdown(socket.SHUT_RDWR))
    timer.daemon = True
    timer.start()
    timer.cancel()


def shared_watchdog(watchdog: _Watchdog) -> Callable[[socket.socket], None]:
    def one(sock: socket.socket) -> None:
        deadline = Deadline(30, watchdog)
        deadline.watch(sock)
        deadline.cancel()

    return one


def measure(one: Callable[[socket.socket], None], requests: int, threads: int) -> tuple[float, int]:
    """Microseconds per request and the most threads alive while it ran."""
    ours, theirs = socket.socketpair()
    peak = threading.active_count()
    started = time.perf_counter()

    def batch(count: int) -> int:
        most = 0
        for n in range(count):
            one(ours)
            if n % 100 == 0:
                most = max(most, threading.active_count())
        return most

    if threads == 1:
        peak = max(peak, batch(requests))
    else:
        with ThreadPoolExecutor(threads) as pool:
            peak = max([peak, *pool.map(batch, [requests // threads] * threads)])
    elapsed = time.perf_counter() - started
    ours.close()
    theirs.close()
    return elapsed / requests * 1e6, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    print("| deadline | callers | µs per request | peak threads |")
    print("|---|---|---|---|")
    for threads in (1, 32):
        for name, one in (
            ("timer thread per request", timer_per_request),
            ("shared watchdog", shared_watchdog(_Watchdog())),
        ):
            micros, peak = measure(one, args.requests, threads)
            print(f"| {name} | {threads} | {micros:.1f} | {peak} |")


if __name__ == "__main__":
    main()
