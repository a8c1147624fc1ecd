"""The Activity pages: a person's audit log, and the team-wide log for administrators."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .routes import bp

    app.register_blueprint(bp)
