"""Accounts, keys and database commands of `pm-portal`, registered on the app's CLI."""

from __future__ import annotations

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.core import accounts, keys
from portal.core.config import mask_database_url
from portal.core.db import ping_engine
from portal.core.models import MCP_CLIENTS
from portal.core.services.connections import connection_ids_for_slugs
from portal.core.toolsets import TOOLSETS
from portal.extensions import db


class CommandError(click.ClickException):
    """One clear line on stderr and exit status 1."""


def _user_or_fail(email: str):
    user = accounts.find_user(db.session, email)
    if user is None:
        raise CommandError(
            f"No account with the email {accounts.normalize_email(email)!r}. Create it with `pm-portal create-user`."
        )
    return user


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{prompt}: ")
    second = getpass.getpass(f"{prompt} (again): ")
    if first != second:
        raise CommandError("The two entries don't match.")
    return first


@click.command("create-user")
@click.argument("email")
@click.option(
    "--name", "display_name", default=None, help="Display name (defaults to the email's user part)."
)
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)
@click.option("--temporary", is_flag=True, help="The user must change the password at first sign-in.")
@with_appcontext
def create_user(
    email: str, display_name: str | None, admin: bool, password_stdin: bool, temporary: bool
) -> None:
    """Create a user account (the first account of an instance is always an administrator)."""
    password = _read_secret("Password", password_stdin)
    try:
        user = accounts.create_user(
            db.session,
            email=email,
            password=password,
            display_name=display_name,
            is_admin=admin,
            must_change_password=temporary,
        )
    except accounts.AccountError as exc:
        db.session.rollback()
        raise CommandError(exc.message) from None
    db.session.commit()
    role = "administrator" if user.is_admin else "member"
    click.echo(f"Created {role} {user.email}.")


@click.command("create-key")
@click.argument("email")
@click.option("--name", required=True, help="A name for the key, unique among the user's keys.")
@click.option("--client", type=click.Choice(list(MCP_CLIENTS)), default="other", show_default=True)
@click.option("--read-only", is_flag=True, help="Refuse every tool that changes data.")
@click.option(
    "--expires-days", type=click.IntRange(1, 3650), default=None, help="Days until the key expires."
)
@click.option(
    "--connections",
    default=None,
    metavar="SLUG,SLUG",
    help="Restrict the key to these connections (slugs; 'local' is the built-in tracker). Default: all.",
)
@click.option(
    "--toolsets",
    default=None,
    metavar="NAME,NAME",
    help=f"The toolsets the key exposes, among {', '.join(TOOLSETS)}. Default: all but bulk.",
)
@with_appcontext
def create_key(
    email: str,
    name: str,
    client: str,
    read_only: bool,
    expires_days: int | None,
    connections: str | None,
    toolsets: str | None,
) -> None:
    """Mint an MCP API key and print it once."""
    user = _user_or_fail(email)
    if not user.is_active:
        raise CommandError(f"{user.email} is disabled; enable the account before creating keys.")
    connection_ids = None
    if connections is not None:
        try:
            connection_ids = connection_ids_for_slugs(db.session, user.id, connections.split(","))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    try:
        minted = keys.mint_key(
            db.session,
            user,
            name=name,
            client=client,
            read_only=read_only,
            expires_days=expires_days,
            connection_ids=connection_ids,
            toolsets=toolsets.split(",") if toolsets is not None else None,
        )
    except keys.KeyRequestError as exc:
        db.session.rollback()
        raise CommandError(str(exc)) from None
    db.session.commit()
    click.echo(minted.raw_key)
    click.echo(
        f"Key '{minted.record.name}' ({minted.record.key_prefix}…) for {user.email}: store it now, it is not shown again.",
        err=True,
    )


@click.command("revoke-key")
@click.argument("email")
@click.argument("name")
@with_appcontext
def revoke_key(email: str, name: str) -> None:
    """Revoke a user's key by name; it stops working at once."""
    user = _user_or_fail(email)
    key = keys.live_key_named(db.session, user.id, name)
    if key is None:
        raise CommandError(f"{user.email} has no active key named {name!r}.")
    keys.revoke_key(db.session, key)
    db.session.commit()
    click.echo(f"Revoked key '{name}' ({key.key_prefix}…) of {user.email}.")


@click.command("reset-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new temporary password from the first line of standard input (else one is generated and printed).",
)
@with_appcontext
def reset_password(email: str, password_stdin: bool) -> None:
    """Give a user a temporary password they must change at sign-in; their sessions end."""
    user = _user_or_fail(email)
    given = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    try:
        password = accounts.reset_password(db.session, user, given)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise CommandError(exc.message) from None
    db.session.commit()
    if given is None:
        click.echo(password)
        click.echo(
            f"Temporary password of {user.email}: shown once; they must change it when they sign in.",
            err=True,
        )
    else:
        click.echo(
            f"{user.email} must change this temporary password when they sign in; their sessions ended."
        )


@click.command("generate-credentials-key")
def generate_credentials_key() -> None:
    """Print a new key for CREDENTIALS_KEY (put it first in the list to rotate)."""
    from portal.core.vault import Vault

    click.echo(Vault.generate_key())


@click.command("check-db")
@with_appcontext
def check_db() -> None:
    """Check that the database is reachable."""
    ping_engine(db.engine, current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo(f"Database reachable: {mask_database_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")


def init_app(app: Flask) -> None:
    for command in (create_user, create_key, revoke_key, reset_password, generate_credentials_key, check_db):
        app.cli.add_command(command)
