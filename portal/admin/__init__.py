"""The administrators' pages: team members."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .routes import bp

    app.register_blueprint(bp, url_prefix="/admin")
