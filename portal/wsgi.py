"""The portal as a WSGI application, for hypercorn (`hypercorn portal.wsgi:app`).

Built at import, with a check that the database answers: a portal that can't
reach its database stops with one line naming it (password masked).

The portal writes its own access log (one line per request, the client's
address behind trusted proxies, the path without its query string); the
Procfile leaves hypercorn's off, which logs some requests twice.
"""

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from portal.app import create_app
from portal.core.config import ConfigError
from portal.core.db import DatabaseUnavailable, ping_engine
from portal.core.vault import VaultKeyError

access_log = logging.getLogger("portal.access")


class NeverEmptyBody:
    """Make every response body yield at least one chunk.

    hypercorn's WSGI adapter sends the response status only along with the first
    body chunk, so a response without any (a 304 for a cached stylesheet, a 204,
    a HEAD) ends as a 500. An empty chunk is harmless on the wire.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        return _at_least_one_chunk(self.app(environ, start_response))


def _at_least_one_chunk(body: Iterable[bytes]) -> Iterator[bytes]:
    try:
        sent = False
        for chunk in body:
            sent = True
            yield chunk
        if not sent:
            yield b""
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


class AccessLog:
    """One access-log line per request, written when the response is done."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def recording_start_response(status_line: str, headers: Any, exc_info: Any = None):
            status[:] = [status_line.split(" ", 1)[0]]
            return start_response(status_line, headers, exc_info)

        body = self.app(environ, recording_start_response)
        return self._logged(body, environ, status, started)

    @staticmethod
    def _logged(body: Iterable[bytes], environ: dict[str, Any], status: list[str], started: float):
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            # REMOTE_ADDR was rewritten in place by TrustedProxyFix when a trusted proxy sent the request.
            access_log.info(
                '%s "%s %s %s" %s %d %.1fms',
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD", "-"),
                environ.get("PATH_INFO", "") or "/",
                environ.get("SERVER_PROTOCOL", "-"),
                status[0] if status else "-",
                size,
                (time.perf_counter() - started) * 1000,
            )


def _configure_logging(level: str) -> None:
    """The portal's own loggers print through one handler (hypercorn's keep theirs)."""
    logger = logging.getLogger("portal")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    access_log.setLevel(logging.INFO)  # LOG_LEVEL=WARNING quiets the rest, not the access log


def _build():
    try:
        app = create_app()
        _configure_logging(app.extensions["pm_settings"].log_level)
        from portal.extensions import db

        with app.app_context():
            ping_engine(db.engine, app.config["SQLALCHEMY_DATABASE_URI"])
    except (ConfigError, DatabaseUnavailable, VaultKeyError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        # The server loading this module would turn SystemExit into a clean exit; stop with a failure.
        os._exit(1)
    return AccessLog(NeverEmptyBody(app))


app = _build()
