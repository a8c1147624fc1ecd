"""The connection commands of `pm-portal`, against the ClickUp fake on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from portal.app import create_app
from portal.core.models import ProviderConnection
from portal.core.vault import CredentialsUnreadable, Vault
from portal.extensions import db
from tests.conftest import CREDENTIALS_KEY, empty_tables
from tests.fakes.clickup import TOKEN, ClickUpFake

WRONG_TOKEN = "pk_81000001_WRONGWRONGWRONGWRONGWRONG00"


@pytest.fixture
def clickup() -> Iterator[ClickUpFake]:
    fake = ClickUpFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def ana(auth) -> str:
    auth.create_user()
    return "ana@example.com"


def add(runner, fake: ClickUpFake, *extra: str, token: str = TOKEN, slug: str = "acme-clickup"):
    args = ["add-connection", "ana@example.com", "--type", "clickup", "--slug", slug, "--url", fake.base_url]
    return runner.invoke(args=[*args, *extra, "--token-stdin"], input=token + "\n")


def stored(app) -> list[ProviderConnection]:
    with app.app_context():
        return db.session.scalars(select(ProviderConnection).order_by(ProviderConnection.id)).all()


def assert_one_error_line(result, starts: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: " + starts), lines[0]
    assert "Traceback" not in result.output
    return lines[0]


def test_add_connection_checks_then_saves(runner, app, ana, clickup):
    result = add(runner, clickup, "--name", "Acme tasks")
    assert result.exit_code == 0, result.output
    assert "Added acme-clickup (ClickUp) for ana@example.com." in result.stdout
    assert "Connected to ClickUp workspace Acme as Ana Silva, ana@acme.example" in result.stdout
    assert TOKEN not in result.output
    (row,) = stored(app)
    assert (row.slug, row.name, row.provider_type, row.last_check_ok) == (
        "acme-clickup",
        "Acme tasks",
        "clickup",
        True,
    )
    assert TOKEN not in row.credentials_encrypted
    assert app.extensions["pm_vault"].decrypt(row.credentials_encrypted)["token"] == TOKEN


def test_add_connection_names_the_connection_after_the_provider_and_host(runner, app, ana, clickup):
    assert add(runner, clickup).exit_code == 0
    assert stored(app)[0].name == "ClickUp 127.0.0.1"


def test_add_connection_with_an_option(runner, app, ana, clickup):
    second = clickup.add_team("Acme Labs", [clickup.me_id])
    result = add(runner, clickup, "--option", f"team_id={second.id}")
    assert result.exit_code == 0, result.output
    assert "Connected to ClickUp workspace Acme Labs" in result.stdout
    assert stored(app)[0].options == {"team_id": second.id}


def test_add_connection_points_out_several_workspaces(runner, app, ana, clickup):
    second = clickup.add_team("Acme Labs", [clickup.me_id])
    result = add(runner, clickup)
    assert result.exit_code == 0
    assert f"Acme Labs (team_id={second.id})" in result.stderr and "Connections page" in result.stderr


def test_a_rejected_token_is_one_line_and_nothing_is_saved(runner, app, ana, clickup):
    line = assert_one_error_line(
        add(runner, clickup, token=WRONG_TOKEN), "Token rejected: ClickUp at 127.0.0.1"
    )
    assert WRONG_TOKEN not in line
    assert stored(app) == []


def test_rate_limiting_is_one_line(runner, app, ana, clickup):
    clickup.fail_next(429, headers=clickup.rate_limit_headers(remaining=0, reset_in=60))
    assert_one_error_line(add(runner, clickup), "Rate limited: ClickUp is rate limiting requests")
    assert stored(app) == []


@pytest.mark.parametrize(
    ("extra", "starts"),
    [
        (("--slug", "Bad Slug"), "--slug: Use 1 to 40 lowercase letters"),
        (("--option", "team_id"), "--option: Options are KEY=VALUE, not 'team_id'."),
        (("--url", "ftp://acme.example"), "--url: Address not allowed: The URL must start with https://"),
    ],
)
def test_bad_arguments_are_one_line(runner, app, ana, clickup, extra, starts):
    args = [
        "add-connection",
        "ana@example.com",
        "--type",
        "clickup",
        "--slug",
        "ok",
        "--url",
        clickup.base_url,
    ]
    result = runner.invoke(args=[*args, *extra, "--token-stdin"], input=TOKEN + "\n")
    assert_one_error_line(result, starts)
    assert stored(app) == [] and clickup.requests == []


def test_an_empty_token_and_an_unknown_account(runner, app, ana, clickup):
    assert_one_error_line(add(runner, clickup, token=""), "the token: Enter the API token.")
    result = runner.invoke(
        args=[
            "add-connection",
            "nobody@example.com",
            "--type",
            "clickup",
            "--slug",
            "x",
            "--url",
            clickup.base_url,
            "--token-stdin",
        ],
        input=TOKEN + "\n",
    )
    assert_one_error_line(result, "No account with the email 'nobody@example.com'")


def test_check_connection(runner, app, ana, clickup):
    add(runner, clickup)
    result = runner.invoke(args=["check-connection", "ana@example.com", "acme-clickup"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Connected to ClickUp workspace Acme as Ana Silva, ana@acme.example"
    clickup.fail_next(401)
    result = runner.invoke(args=["check-connection", "ana@example.com", "acme-clickup"])
    assert_one_error_line(result, "Token rejected: ClickUp at 127.0.0.1")
    (row,) = stored(app)
    assert row.last_check_ok is False and row.last_check_error.startswith("Token rejected:")


def test_check_connection_of_the_built_in_tracker_and_of_nothing(runner, app, ana):
    result = runner.invoke(args=["check-connection", "ana@example.com", "local"])
    assert result.exit_code == 0, result.output
    assert "Connected to the team tracker" in result.output and "ana@example.com" in result.output
    result = runner.invoke(args=["check-connection", "ana@example.com", "nope"])
    assert_one_error_line(result, "ana@example.com has no connection 'nope'.")


def test_list_connections(runner, app, ana, clickup):
    add(runner, clickup, "--name", "Acme tasks")
    result = runner.invoke(args=["list-connections", "ana@example.com"])
    assert result.exit_code == 0, result.output
    local, acme = result.output.strip().splitlines()
    assert local.startswith("local\tTeam tracker (built in)\tTeam tracker\t")
    host = clickup.base_url.removeprefix("http://")
    assert acme.startswith(f"acme-clickup\tClickUp\tAcme tasks\t{host}\t…{TOKEN[-4:]}\tactive\t")
    assert "Connected to ClickUp workspace Acme" in acme
    assert TOKEN not in result.output


@pytest.fixture
def second_clickup() -> Iterator[ClickUpFake]:
    """Another server (another port) that records every request that reaches it."""
    fake = ClickUpFake()
    fake.start()
    yield fake
    fake.stop()


def edit(runner, *extra: str, token: str | None = None):
    args = ["edit-connection", "ana@example.com", "acme-clickup", *extra]
    if token is None:
        return runner.invoke(args=args)
    return runner.invoke(args=[*args, "--token-stdin"], input=token + "\n")


def test_edit_connection_to_another_server_needs_the_token_and_sends_nothing(
    runner, app, ana, clickup, second_clickup
):
    add(runner, clickup)
    (before,) = stored(app)
    clickup.requests.clear()
    line = assert_one_error_line(
        edit(runner, "--url", second_clickup.base_url),
        f"the token: The stored token is only sent to {clickup.base_url}, where it was saved.",
    )
    assert line.endswith(
        f"Enter the API token again to use {second_clickup.base_url}. "
        "Pass it on standard input with --token-stdin."
    )
    assert second_clickup.requests == [] and clickup.requests == []
    (after,) = stored(app)
    assert (after.base_url, after.credentials_encrypted) == (before.base_url, before.credentials_encrypted)
    # Typed again, the token goes to the new server, which is checked before the save.
    result = edit(runner, "--url", second_clickup.base_url, "--name", "Moved", token=TOKEN)
    assert result.exit_code == 0, result.output
    assert "Saved acme-clickup (ClickUp) for ana@example.com." in result.stdout
    assert "Connected to ClickUp workspace Acme" in result.stdout
    assert {r.headers["authorization"] for r in second_clickup.requests} == {TOKEN}
    assert clickup.requests == []
    (after,) = stored(app)
    assert (after.name, after.base_url) == ("Moved", second_clickup.base_url)


def test_edit_connection_to_another_type_needs_the_token(runner, app, ana, clickup):
    add(runner, clickup)
    clickup.requests.clear()
    assert_one_error_line(
        edit(runner, "--type", "openproject"),
        "the token: The stored token was saved for ClickUp. Enter the API token again for OpenProject.",
    )
    assert clickup.requests == [] and stored(app)[0].provider_type == "clickup"


def test_edit_connection_on_the_same_server_keeps_the_token(runner, app, ana, clickup):
    add(runner, clickup)
    team = clickup.add_team("Acme Labs", [clickup.me_id])
    result = edit(runner, "--url", clickup.base_url + "/api/v2", "--option", f"team_id={team.id}")
    assert result.exit_code == 0, result.output
    assert "Connected to ClickUp workspace Acme Labs" in result.stdout
    (row,) = stored(app)
    assert row.base_url == clickup.base_url + "/api/v2" and row.options == {"team_id": team.id}
    assert_one_error_line(
        runner.invoke(args=["edit-connection", "ana@example.com", "nope", "--name", "x"]),
        "ana@example.com has no connection 'nope'.",
    )


def test_check_connection_never_sends_the_token_to_a_server_it_was_not_saved_for(
    runner, app, ana, clickup, second_clickup
):
    add(runner, clickup)
    with app.app_context():
        row = db.session.scalars(select(ProviderConnection)).one()
        row.base_url = second_clickup.base_url  # written behind the service's back
        db.session.commit()
    assert_one_error_line(
        runner.invoke(args=["check-connection", "ana@example.com", "acme-clickup"]),
        f"The stored token was saved for {clickup.base_url} and is never sent to {second_clickup.base_url}",
    )
    assert second_clickup.requests == []
    listing = runner.invoke(args=["list-connections", "ana@example.com"])
    assert "\tbroken\tbroken: enter the token again" in listing.output


@pytest.fixture
def app_with_keys(schema, database_url, app_config):
    """Builds a second portal on the same database with another CREDENTIALS_KEY."""
    apps = []

    def build(credentials_key: str):
        built = create_app(app_config | {"CREDENTIALS_KEY": credentials_key})
        apps.append(built)
        return built

    yield build
    for built in apps:
        with built.app_context():
            db.session.remove()
            db.engine.dispose()
    empty_tables(database_url)


def test_rotate_credentials_reencrypts_with_the_newest_key(runner, app, ana, clickup, app_with_keys):
    old = CREDENTIALS_KEY
    add(runner, clickup, slug="one")
    add(runner, clickup, slug="two")
    new = Fernet.generate_key().decode()
    rotating = app_with_keys(f"{new},{old}")
    result = rotating.test_cli_runner().invoke(args=["rotate-credentials"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Re-encrypted 2 credentials with the newest key."
    for row in stored(app):
        assert Vault([new]).decrypt(row.credentials_encrypted)["token"] == TOKEN
        with pytest.raises(CredentialsUnreadable):
            Vault([old]).decrypt(row.credentials_encrypted)
    # The old key can now be dropped: a portal with the new key alone still works.
    result = app_with_keys(new).test_cli_runner().invoke(args=["check-connection", "ana@example.com", "one"])
    assert result.exit_code == 0, result.output


def test_a_wrong_key_breaks_connections_clearly_and_rotation_names_them(
    runner, app, ana, clickup, app_with_keys
):
    add(runner, clickup, slug="one")
    other = app_with_keys(Fernet.generate_key().decode())
    cli = other.test_cli_runner()
    result = cli.invoke(args=["check-connection", "ana@example.com", "one"])
    assert_one_error_line(
        result, "The stored credentials can't be decrypted with the configured CREDENTIALS_KEY"
    )
    listing = cli.invoke(args=["list-connections", "ana@example.com"])
    assert listing.exit_code == 0 and "\tbroken\tbroken: enter the token again" in listing.output
    result = cli.invoke(args=["rotate-credentials"])
    assert result.exit_code == 0
    assert "Re-encrypted 0 credentials" in result.stdout
    assert "connection 'one' of ana@example.com" in result.stderr
    # Left as it was: the original key still reads it.
    assert app.extensions["pm_vault"].decrypt(stored(app)[0].credentials_encrypted)["token"] == TOKEN


def test_the_commands_are_registered_on_the_cli(app):
    for name in (
        "add-connection",
        "edit-connection",
        "check-connection",
        "list-connections",
        "rotate-credentials",
        "generate-credentials-key",
    ):
        assert name in app.cli.commands
