"""The portal as a WSGI application, for hypercorn (`hypercorn portal.wsgi:app`).

Built at import, with a check that the database answers: a portal that can't
reach its database stops with one line naming it (password masked).
"""

import os
import sys

from portal.app import create_app
from portal.core.config import ConfigError
from portal.core.db import DatabaseUnavailable, ping_engine
from portal.core.vault import VaultKeyError


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
    return app


app = _build()
