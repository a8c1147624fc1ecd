"""`pm-worker` / `python -m mcp_worker`: serve the MCP worker under hypercorn on MCP_HOST:MCP_PORT."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app

from portal.core.config import ConfigError, Settings, mask_database_url
from portal.core.db import DatabaseUnavailable
from portal.core.vault import VaultKeyError

from .listener import (
    ConnectionCount,
    ThrottledLoopErrors,
    default_connection_cap,
    install_bounded_tcp_server,
    raise_open_file_limit,
)

# The request path without its query string: a misplaced key must not reach the access log.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus'


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    host = settings.mcp_host
    config.bind = [f"[{host}]:{settings.mcp_port}" if ":" in host else f"{host}:{settings.mcp_port}"]
    # hypercorn's loggers go through the root logger's one handler (given a handler of their own
    # as well, every error-log line would be printed twice). MCP_ACCESS_LOG=0 turns the access log off.
    access = logging.getLogger("hypercorn.access")
    access.setLevel(logging.INFO)  # LOG_LEVEL=WARNING quiets the rest, not the access log
    config.accesslog = access if settings.mcp_access_log else None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.access_log_format = ACCESS_LOG_FORMAT
    # Seconds, not minutes: an idle kept-alive connection holds a descriptor until then.
    config.keep_alive_timeout = settings.mcp_keep_alive_seconds
    # SIGTERM: calls in flight get this long to finish (below the 30 s platforms wait before SIGKILL).
    config.graceful_timeout = settings.mcp_shutdown_seconds
    return config


def main() -> None:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    logging.basicConfig(
        level=getattr(logging, settings.log_level), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        from .app import WorkerApp

        worker = WorkerApp(settings)
        worker.runtime.database.ping()
    except (ConfigError, VaultKeyError, DatabaseUnavailable) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    config = hypercorn_config(settings)
    open_files = raise_open_file_limit(settings.mcp_raise_open_file_limit)
    connections = ConnectionCount(settings.mcp_max_connections or default_connection_cap(open_files))
    install_bounded_tcp_server(connections, config.wsgi_max_body_size)
    try:
        # Bound before anything starts, so a busy port ends here with one line.
        sockets = config.create_sockets()
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        print(f"Error: {cannot_listen(settings.mcp_host, settings.mcp_port, exc.errno)}", file=sys.stderr)
        sys.exit(1)
    logging.getLogger(__name__).info(
        "MCP worker on http://%s:%s (database %s%s)",
        settings.mcp_host,
        settings.mcp_port,
        mask_database_url(settings.database_url),
        ", stateless /mcp" if settings.mcp_stateless else "",
    )
    logging.getLogger(__name__).info("At most %d client connections at once", connections.cap)
    asyncio.run(_serve(worker, config, sockets))


def cannot_listen(host: str, port: int, error: int) -> str:
    """One line saying why the worker can't listen on host:port, and what to change."""
    if error == errno.EADDRINUSE:
        why = f"port {port} on {host} is already in use"
    elif error == errno.EACCES:
        why = f"this user may not listen on port {port}"
    else:
        why = f"{host} is not an address of this machine"
    return (
        f"The MCP worker can't listen on {host}:{port}: {why}. Choose another with MCP_HOST / MCP_PORT "
        "(with make run: make run WEB_PORT=5001 MCP_PORT=8081)."
    )


async def _serve(app, config: Config, sockets: Sockets) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(ThrottledLoopErrors())

    def stopping() -> None:
        app.begin_shutdown()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping)
    # What hypercorn.asyncio.serve does, with the sockets bound above.
    await worker_serve(
        wrap_app(app, config.wsgi_max_body_size, "asgi"), config, sockets=sockets, shutdown_trigger=stop.wait
    )


if __name__ == "__main__":
    main()
