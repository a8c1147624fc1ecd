"""Connection commands of `pm-portal`: add, check and list connections, rotate the credentials key.

pm-portal add-connection EMAIL --type jira --slug acme-jira --url https://acme.atlassian.net \\
    --username ana@acme.com --token-stdin < token.txt
pm-portal edit-connection EMAIL SLUG [--url URL] [--type TYPE] [--name NAME] [--username EMAIL] \\
    [--option KEY=VALUE] [--token-stdin]
pm-portal check-connection EMAIL SLUG
pm-portal list-connections EMAIL
pm-portal rotate-credentials

Failures are one line on stderr, "Error: ...", and exit status 1.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.core import accounts
from portal.core.db import Database
from portal.core.models import ProviderConnection, User
from portal.core.providers.registry import EXTERNAL_PROVIDER_TYPES, PROVIDER_LABELS
from portal.core.services import connections as service
from portal.extensions import db

# The command-line option each service field comes from, for error lines.
OPTION_OF_FIELD = {
    "provider_type": "--type",
    "slug": "--slug",
    "base_url": "--url",
    "name": "--name",
    "username": "--username",
    "token": "the token",
    "options": "--option",
}


class CommandError(click.ClickException):
    """One clear line on stderr and exit status 1."""

    def __init__(self, message: str):
        # A vendor message could span lines; the contract is one line.
        super().__init__(" ".join(message.split()))


def _user_or_fail(email: str) -> User:
    user = accounts.find_user(db.session, email)
    if user is None:
        raise CommandError(
            f"No account with the email {accounts.normalize_email(email)!r}. Create it with `pm-portal create-user`."
        )
    return user


def _describe_problems(field_errors: dict[str, str]) -> str:
    parts = []
    for name, message in field_errors.items():
        option = OPTION_OF_FIELD.get(name, f"--option {name}")
        parts.append(f"{option}: {message}")
    return "; ".join(parts)


def _read_token(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    # Hidden typing; the check that follows is the confirmation.
    return click.prompt("API token", hide_input=True, default="", show_default=False).strip()


def _portal_parts():
    extensions = current_app.extensions
    return extensions["pm_vault"], extensions["pm_http_policy"], Database.from_engine(db.engine)


@click.command("add-connection")
@click.argument("email")
@click.option(
    "--type",
    "provider_type",
    required=True,
    type=click.Choice(EXTERNAL_PROVIDER_TYPES),
    help="The PM system.",
)
@click.option(
    "--slug", required=True, help="Short and unique per user; it starts every reference (acme-jira:PROJ-12)."
)
@click.option(
    "--url", "base_url", required=True, help="The server's address, such as https://acme.atlassian.net."
)
@click.option("--name", default=None, help="Display name (defaults to the provider and host).")
@click.option("--username", default=None, help="The account email, where the vendor needs one (JIRA).")
@click.option(
    "--option",
    "raw_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A vendor option, such as team_id=123.",
)
@click.option("--token-stdin", is_flag=True, help="Read the API token from the first line of standard input.")
@with_appcontext
def add_connection(
    email: str,
    provider_type: str,
    slug: str,
    base_url: str,
    name: str | None,
    username: str | None,
    raw_options: tuple[str, ...],
    token_stdin: bool,
) -> None:
    """Test a connection with the vendor, then store it for a user (nothing is stored if the test fails)."""
    user = _user_or_fail(email)
    try:
        options = service.connection_options(provider_type, raw_options)
    except service.ConnectionInputError as exc:
        raise CommandError(_describe_problems(exc.field_errors)) from None
    token = _read_token(token_stdin)
    host = urlsplit(base_url.strip()).hostname or base_url.strip()
    data = service.ConnectionInput(
        provider_type=provider_type,
        slug=slug,
        name=name or f"{PROVIDER_LABELS[provider_type]} {host}",
        base_url=base_url,
        username=username,
        token=token,
        options=options,
    )
    vault, policy, database = _portal_parts()
    try:
        row, outcome = service.save_connection(
            db.session, user, data, vault=vault, policy=policy, database=database
        )
    except service.ConnectionInputError as exc:
        db.session.rollback()
        # The vendor's refusal reads best on its own; malformed input names the option to fix.
        problem = exc.outcome.message if exc.outcome is not None else _describe_problems(exc.field_errors)
        raise CommandError(problem) from None
    db.session.commit()
    click.echo(f"Added {row.slug} ({PROVIDER_LABELS[row.provider_type]}) for {user.email}.")
    if outcome is not None:
        click.echo(outcome.message)
        workspaces = outcome.result.workspaces if outcome.result else ()
        if len(workspaces) > 1 and "team_id" not in row.options:
            choices = ", ".join(
                f"{workspace_name} (team_id={workspace_id})" for workspace_id, workspace_name in workspaces
            )
            click.echo(
                f"This token sees several workspaces: {choices}. Choose one on the Connections page.",
                err=True,
            )


@click.command("edit-connection")
@click.argument("email")
@click.argument("slug")
@click.option("--url", "base_url", default=None, help="A new address of the server.")
@click.option(
    "--type",
    "provider_type",
    default=None,
    type=click.Choice(EXTERNAL_PROVIDER_TYPES),
    help="A new PM system at that address.",
)
@click.option("--name", default=None, help="A new display name.")
@click.option("--username", default=None, help="A new account email, where the vendor needs one (JIRA).")
@click.option(
    "--option",
    "raw_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set a vendor option, such as team_id=123 (others are kept).",
)
@click.option(
    "--token-stdin",
    is_flag=True,
    help="Read a new API token from the first line of standard input; without it the stored token is kept, "
    "which is only allowed while the server (scheme, host and port) and the type stay the same.",
)
@with_appcontext
def edit_connection(
    email: str,
    slug: str,
    base_url: str | None,
    provider_type: str | None,
    name: str | None,
    username: str | None,
    raw_options: tuple[str, ...],
    token_stdin: bool,
) -> None:
    """Change a user's connection; a change the vendor would see is tested first (nothing is saved if it fails)."""
    user = _user_or_fail(email)
    row = _own_or_fail(user, slug)
    provider_type = provider_type or row.provider_type
    try:
        options = dict(row.options or {}) | service.connection_options(provider_type, raw_options)
    except service.ConnectionInputError as exc:
        raise CommandError(_describe_problems(exc.field_errors)) from None
    data = service.ConnectionInput(
        provider_type=provider_type,
        slug=row.slug,
        name=name if name is not None else row.name,
        base_url=base_url if base_url is not None else row.base_url,
        username=username if username is not None else row.username,
        token=_read_token(True) if token_stdin else "",  # blank keeps the stored token
        options=options,
        is_active=row.is_active,
    )
    vault, policy, database = _portal_parts()
    try:
        saved, outcome = service.save_connection(
            db.session, user, data, vault=vault, policy=policy, database=database, existing=row
        )
    except service.ConnectionInputError as exc:
        db.session.rollback()
        problem = exc.outcome.message if exc.outcome is not None else _describe_problems(exc.field_errors)
        if "token" in exc.field_errors and exc.outcome is None and not token_stdin:
            problem += " Pass it on standard input with --token-stdin."
        raise CommandError(problem) from None
    db.session.commit()
    click.echo(f"Saved {saved.slug} ({PROVIDER_LABELS[saved.provider_type]}) for {user.email}.")
    if outcome is not None:
        click.echo(outcome.message)


def _own_or_fail(user: User, slug: str) -> ProviderConnection:
    row = service.own_connection(db.session, user.id, slug)
    if row is None:
        raise CommandError(
            f"{user.email} has no connection {slug!r}. See `pm-portal list-connections {user.email}`."
        )
    return row


@click.command("check-connection")
@click.argument("email")
@click.argument("slug")
@with_appcontext
def check_connection(email: str, slug: str) -> None:
    """Test a user's connection and record the result."""
    user = _user_or_fail(email)
    vault, policy, database = _portal_parts()
    if slug == service.LOCAL_SLUG:
        portal_url = current_app.extensions["pm_settings"].public_portal_url
        adapter = service.make_adapter("local", service.local_config(user.id, portal_url), policy, database)
        try:
            outcome = service.run_check(adapter, PROVIDER_LABELS["local"], urlsplit(portal_url).netloc)
        finally:
            adapter.close()
    else:
        row = _own_or_fail(user, slug)
        outcome = service.check_connection(row, vault, policy, database)
        db.session.commit()
    if not outcome.ok:
        raise CommandError(outcome.message)
    click.echo(outcome.message)


@click.command("list-connections")
@click.argument("email")
@with_appcontext
def list_connections(email: str) -> None:
    """List a user's connections (the built-in tracker first); tokens show only their last four characters."""
    user = _user_or_fail(email)
    vault = current_app.extensions["pm_vault"]
    portal_url = current_app.extensions["pm_settings"].public_portal_url
    for view in service.list_connections(db.session, user.id, portal_url, vault):
        if view.is_local:
            hint = "-"
        else:
            hint = f"…{view.token_hint}" if view.token_hint else "stored"
        if view.is_local:
            last = view.last_check_summary or ""
        elif view.last_checked_at is None:
            last = "never checked"
        else:
            said = view.last_check_summary if view.last_check_ok else view.last_check_error
            last = f"{view.last_checked_at:%Y-%m-%d %H:%M} UTC: {said}"
        if view.state == "broken":
            last = "broken: enter the token again"
        click.echo(f"{view.slug}\t{view.label}\t{view.name}\t{view.host}\t{hint}\t{view.state}\t{last}")


@click.command("rotate-credentials")
@with_appcontext
def rotate_credentials() -> None:
    """Re-encrypt every stored token with the newest key of CREDENTIALS_KEY (the first one)."""
    vault = current_app.extensions["pm_vault"]
    rotated, unreadable = service.rotate_credentials(db.session, vault)
    db.session.commit()
    click.echo(f"Re-encrypted {rotated} credential{'s' if rotated != 1 else ''} with the newest key.")
    if unreadable:
        click.echo(
            f"{len(unreadable)} could not be decrypted with any configured key and were left as they are: "
            + "; ".join(unreadable)
            + ". Their owners must enter the token again.",
            err=True,
        )


def register(app: Flask) -> None:
    for command in (add_connection, edit_connection, check_connection, list_connections, rotate_credentials):
        app.cli.add_command(command)
