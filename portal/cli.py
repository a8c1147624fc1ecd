"""`pm-portal`: the portal's command line (a Flask CLI group).

pm-portal db upgrade
pm-portal create-user EMAIL [--admin] [--password-stdin]
pm-portal create-key EMAIL --name NAME [--client cursor] [--read-only] [--expires-days N]
pm-portal revoke-key EMAIL NAME
pm-portal add-connection / check-connection / rotate-credentials / seed-demo
pm-portal run
"""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from portal.app import create_app
from portal.core.config import ConfigError, mask_database_url
from portal.core.db import DatabaseUnavailable


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def cli() -> None:
    """Manage the PM MCP server's portal: database, users, keys and connections."""


def main() -> None:
    """Entry point: turn configuration and database failures into one clear line."""
    try:
        cli.main(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except DatabaseUnavailable as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except (OperationalError, ProgrammingError) as exc:
        click.echo(f"Error: {_database_failure(exc)}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        click.echo(f"Error: the database refused the operation: {type(exc).__name__}.", err=True)
        sys.exit(1)


def _database_failure(exc: SQLAlchemyError) -> str:
    from portal.core.config import Settings

    try:
        url = Settings.from_env().database_url
    except ConfigError:
        url = "the configured database"
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "no such table" in reason or "does not exist" in reason and "relation" in reason:
        return f"The database at {mask_database_url(url)} has no tables yet: run `pm-portal db upgrade`."
    return f"Cannot use the database at {mask_database_url(url)}: {reason}"


if __name__ == "__main__":
    main()
