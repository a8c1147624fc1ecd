"""Command-line commands for this area, registered on the app's CLI."""

from flask import Flask


def register(app: Flask) -> None:
    return None
