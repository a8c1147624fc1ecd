"""MCP API keys: create, list, revoke, rotate, and the client configuration snippets."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .routes import bp

    app.register_blueprint(bp)
