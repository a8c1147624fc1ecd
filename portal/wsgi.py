"""The portal as a WSGI application, for hypercorn (`hypercorn portal.wsgi:app`).

Built at import, with a check that the database answers: a portal that can't
reach its database stops with one line naming it (password masked).
"""

import os
import sys
from collections.abc import Iterable, Iterator

from portal.app import create_app
from portal.core.config import ConfigError
from portal.core.db import DatabaseUnavailable, ping_engine
from portal.core.vault import VaultKeyError


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


def _build():
    try:
        app = create_app()
        from portal.extensions import db

        with app.app_context():
            ping_engine(db.engine, app.config["SQLALCHEMY_DATABASE_URI"])
    except (ConfigError, DatabaseUnavailable, VaultKeyError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        # The server loading this module would turn SystemExit into a clean exit; stop with a failure.
        os._exit(1)
    return NeverEmptyBody(app)


app = _build()
