"""How the worker holds its client connections: descriptors, a connection cap, prompt release.

- At start the soft open-file limit is raised to the hard one (unless MCP_RAISE_OPEN_FILE_LIMIT=0),
  and the figure is logged.
- hypercorn keeps a connection's task group open until its keep-alive timer fires, even after the
  client has closed its end: the socket sits in CLOSE-WAIT, holding a descriptor, for the whole
  keep-alive timeout. `bounded_tcp_server` closes it as soon as the client's EOF is read.
- Beyond MCP_MAX_CONNECTIONS open connections, a new one is answered 503 (a JSON-RPC error saying to
  retry) and closed, rather than running the worker out of descriptors.
- When accept() fails for want of descriptors, asyncio pauses accepting for a second and reports it;
  `ThrottledLoopErrors` logs that once per interval with a count, not once per failed accept.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import resource
import time
from typing import Any

from hypercorn.asyncio import run as hypercorn_run
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.utils import wrap_app

log = logging.getLogger(__name__)

# Descriptors kept for what is not a client connection: the database pool, vendor sockets, logs.
RESERVED_DESCRIPTORS = 64
DEFAULT_CONNECTION_CEILING = 10_000
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def raise_open_file_limit(enabled: bool = True) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (when `enabled`), log it, and return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = soft
    if enabled and hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("Could not raise the open-file limit from %d to %d: %s", soft, hard, exc)
    if soft != before:
        log.info("Open-file limit: %d (raised from %d)", soft, before)
    else:
        log.info("Open-file limit: %d%s", soft, "" if enabled else " (MCP_RAISE_OPEN_FILE_LIMIT=0)")
    return soft


def default_connection_cap(open_file_limit: int) -> int:
    """A connection cap that leaves room under the open-file limit for everything else."""
    return max(16, min(DEFAULT_CONNECTION_CEILING, open_file_limit - RESERVED_DESCRIPTORS))


async def _over_capacity(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI app a connection beyond the cap is served by: 503, a JSON-RPC error, and close."""
    if scope["type"] == "lifespan":
        return
    if scope["type"] != "http":
        await send({"type": "websocket.close", "code": 1013})
        return
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32000,
                "message": "The MCP worker has too many open connections right now; retry in a few seconds.",
            },
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"2"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ConnectionCount:
    """Open client connections, for the cap (the event loop is single-threaded: no lock)."""

    def __init__(self, cap: int):
        self.cap = cap
        self.open = 0
        self.refused = 0


def bounded_tcp_server(count: ConnectionCount, wsgi_max_body_size: int) -> type[TCPServer]:
    """hypercorn's TCPServer with the connection cap and a prompt close on the client's EOF."""
    # A plain ASGI callable; hypercorn's signature names its own typed scopes and events.
    busy_app = wrap_app(_over_capacity, wsgi_max_body_size, "asgi")  # type: ignore[arg-type]

    class BoundedTCPServer(TCPServer):
        async def run(self) -> None:
            count.open += 1
            if count.open > count.cap:
                count.refused += 1
                self.app = busy_app
            try:
                await super().run()
            finally:
                count.open -= 1

        async def _read_data(self) -> None:
            await super()._read_data()
            # The client is gone (or the read failed): release the socket now, not when the
            # keep-alive timer would have fired; a response still being written has nowhere to go.
            await self._close()

        async def _idle_timeout(self) -> None:
            if self.reader.at_eof():
                await asyncio.shield(self._initiate_server_close())
                return
            await super()._idle_timeout()

    return BoundedTCPServer


def install_bounded_tcp_server(count: ConnectionCount, wsgi_max_body_size: int) -> None:
    """Make hypercorn's asyncio worker serve each connection with `bounded_tcp_server`."""
    hypercorn_run.TCPServer = bounded_tcp_server(count, wsgi_max_body_size)  # type: ignore[misc]


class ThrottledLoopErrors:
    """An event-loop exception handler that logs running out of descriptors once per interval."""

    def __init__(self, interval: float = 60.0, clock=time.monotonic):
        self.interval = interval
        self._clock = clock
        self._last: float | None = None
        self._suppressed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in OUT_OF_DESCRIPTORS:
            now = self._clock()
            if self._last is not None and now - self._last < self.interval:
                self._suppressed += 1
                return
            more = f" ({self._suppressed} more since the last report)" if self._suppressed else ""
            self._last, self._suppressed = now, 0
            log.error(
                "Out of file descriptors (%s): new connections wait until some close%s. "
                "Raise the open-file limit (ulimit -n) or lower MCP_MAX_CONNECTIONS.",
                exc.strerror or exc,
                more,
            )
            return
        if context.get("exception") is not None and type(exc).__name__ == "SSLError":
            return  # a client's failed TLS handshake, as hypercorn's own handler does
        loop.default_exception_handler(context)
