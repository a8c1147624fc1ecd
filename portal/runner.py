"""The signed-in user's connections, ready to be asked (for the dashboard and the sprint pages)."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from portal.core.db import Database
from portal.core.services.fan_out import ConnectionRunner
from portal.extensions import db


def connection_runner() -> ConnectionRunner:
    return ConnectionRunner(
        db.session,
        current_user.id,
        portal_url=current_app.extensions["pm_settings"].public_portal_url,
        vault=current_app.extensions["pm_vault"],
        policy=current_app.extensions["pm_http_policy"],
        # The built-in tracker's adapter works on the portal's own engine.
        database=Database.from_engine(db.engine),
    )
