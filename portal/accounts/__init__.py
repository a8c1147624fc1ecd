"""Sign-up, sign-in, sign-out and the account page."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .routes import bp, enforce_password_change

    app.register_blueprint(bp)
    app.before_request(enforce_password_change)
