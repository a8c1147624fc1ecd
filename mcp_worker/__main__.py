"""`pm-worker` / `python -m mcp_worker`: serve the MCP worker under hypercorn on MCP_HOST:MCP_PORT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config

from portal.core.config import ConfigError, Settings, mask_database_url
from portal.core.db import DatabaseUnavailable
from portal.core.vault import VaultKeyError

# The request path without its query string: a misplaced key must not reach the access log.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus'


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    host = settings.mcp_host
    config.bind = [f"[{host}]:{settings.mcp_port}" if ":" in host else f"{host}:{settings.mcp_port}"]
    # MCP_ACCESS_LOG=0 turns the access log off (a proxy in front often keeps one already).
    config.accesslog = None if settings.extra.get("MCP_ACCESS_LOG", "1") == "0" else "-"
    config.errorlog = "-"
    config.access_log_format = ACCESS_LOG_FORMAT
    config.keep_alive_timeout = 75
    config.graceful_timeout = 5
    return config


def main() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
        from .app import WorkerApp

        worker = WorkerApp(settings)
        worker.runtime.database.ping()
    except (ConfigError, VaultKeyError, DatabaseUnavailable) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    config = hypercorn_config(settings)
    logging.getLogger(__name__).info(
        "MCP worker on http://%s:%s (database %s%s)",
        settings.mcp_host,
        settings.mcp_port,
        mask_database_url(settings.database_url),
        ", stateless /mcp" if settings.mcp_stateless else "",
    )
    asyncio.run(_serve(worker, config))


async def _serve(app, config: Config) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(app, config, shutdown_trigger=stop.wait, mode="asgi")


if __name__ == "__main__":
    main()
