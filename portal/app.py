"""The portal's application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.core.config import Settings
from portal.core.db import engine_options
from portal.core.errors import UserFacingError
from portal.core.models import User
from portal.core.providers.base import MAX_DATABASE_ID
from portal.core.providers.http import HttpPolicy
from portal.core.vault import Vault
from portal.extensions import csrf, db, login_manager, migrate
from portal.proxy_fix import TrustedProxyFix

log = logging.getLogger(__name__)

# Shipped inside the package, so an installed portal (not only a checkout) can run `pm-portal db upgrade`.
MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


class RowIdConverter(IntegerConverter):
    """`<int:…>` in every route is a row id: a number beyond any id is a 404, not a database overflow."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DATABASE_ID)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal. `config` overrides environment settings (tests pass their own).

    Keys of `config` that name Settings fields (DATABASE_URL, SECRET_KEY, APP_ENV,
    CREDENTIALS_KEY, ...) are applied before the settings are resolved; the rest
    go into `app.config` as they are.
    """
    config = dict(config or {})
    settings = Settings.from_env(**{k: v for k, v in config.items() if k.isupper()})
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.url_map.converters["int"] = RowIdConverter
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_portal_url.startswith("https://"),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.public_portal_url.startswith("https://"),
        # A form's CSRF token lasts this long (seconds); a page left open longer asks for a reload.
        WTF_CSRF_TIME_LIMIT=4 * 3600,
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Sign-in failures within LOGIN_FAILURE_WINDOW seconds: per account (the typed email) and per address.
        LOGIN_MAX_FAILURES=5,
        LOGIN_MAX_ADDRESS_FAILURES=30,
        LOGIN_FAILURE_WINDOW=300,
        TESTING=settings.env == "testing",
    )
    app.config.update(config)
    app.extensions["pm_settings"] = settings
    app.extensions["pm_vault"] = Vault(settings.credentials_keys)
    app.extensions["pm_http_policy"] = HttpPolicy.from_settings(settings)
    # Flask's documented way to wrap the app in WSGI middleware.
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, settings.forwarded_allow_ips)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from portal import accounts, activity, admin, commands, connections, keys, main, oauth, sprints, tracker

    for module in (main, accounts, admin, keys, oauth, connections, tracker, activity, sprints, commands):
        module.init_app(app)

    _register_error_pages(app)
    _register_security_headers(app)
    return app


@login_manager.user_loader
def _load_user(session_id: str):
    """Sessions carry 'user id.session version': a disabled user or a changed password ends them."""
    from portal.accounts.session_user import SessionUser

    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit():
        return None
    user = db.session.scalar(select(User).where(User.id == int(user_id)))
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return SessionUser(user)


# The HTTP status of a refusal no route turned into a form error or a flash message.
_STATUS_BY_ERROR_CLASS = {"not_found": 404, "permission_denied": 403}


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(UserFacingError)
    def refused(error: UserFacingError):
        db.session.rollback()  # nothing half-written
        status = _STATUS_BY_ERROR_CLASS.get(error.error_class, 400)
        template = "errors/404.html" if status == 404 else "errors/400.html"
        return render_template(template, message=str(error)), status

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def not_allowed(_error):
        return render_template("errors/404.html"), 405

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("errors/400.html", message="That request was too large."), 413

    @app.errorhandler(400)
    def bad_request(error):
        message = getattr(error, "description", None) or "The request could not be understood."
        if "CSRF" in str(message):
            message = "The form expired or was sent from another site. Reload the page and try again."
        return render_template("errors/400.html", message=message), 400

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        return render_template("errors/500.html"), 500


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        if (
            request.endpoint
            and request.endpoint.startswith(
                ("keys.", "connections.", "accounts.", "admin.", "oauth.", "activity.")
            )
            and request.endpoint != "oauth.metadata"
        ):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
