"""Tracker pages and commands."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .commands import register
    from .routes import bp

    app.register_blueprint(bp)
    register(app)
