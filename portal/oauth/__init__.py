"""The portal as the OAuth 2.1 authorization server for the MCP worker."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .routes import bp
    from .server import create_server

    app.extensions["pm_oauth_server"] = create_server(app)
    app.register_blueprint(bp)
