"""The connection service, without Flask: validation, check-then-save, checks, rotation, listing.

The vendor is the ClickUp fake on 127.0.0.1; the database is the test database.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from portal.core import accounts
from portal.core.db import Database
from portal.core.models import AuditEvent, ProviderConnection, User
from portal.core.providers import errors
from portal.core.providers.http import HttpPolicy
from portal.core.services import connections as service
from portal.core.vault import Vault
from tests.conftest import PASSWORD, empty_tables
from tests.contract.suite import TEST_POLICY
from tests.fakes.clickup import TOKEN, ClickUpFake

# Fast failure: no retries, short reads, so the timeout test takes a second, not a minute.
FAST_POLICY = replace(TEST_POLICY, read_timeout=0.5, retries=0)
PORTAL_URL = "http://portal.example"


@pytest.fixture
def database(schema, database_url) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()
    empty_tables(database_url)


@pytest.fixture
def session(database: Database):
    session = database.sessions()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def user(session) -> User:
    user = accounts.create_user(session, email="ana@example.com", password=PASSWORD, display_name="Ana")
    session.commit()
    return user


@pytest.fixture
def vault() -> Vault:
    return Vault([Fernet.generate_key().decode()])


@pytest.fixture
def clickup() -> Iterator[ClickUpFake]:
    fake = ClickUpFake()
    fake.start()
    yield fake
    fake.stop()


def clickup_input(fake: ClickUpFake, **changes) -> service.ConnectionInput:
    data = service.ConnectionInput(
        provider_type="clickup", slug="acme-clickup", name="Acme ClickUp", base_url=fake.base_url, token=TOKEN
    )
    return replace(data, **changes)


def save(session, user, data, vault, database, policy: HttpPolicy = FAST_POLICY, existing=None):
    return service.save_connection(
        session, user, data, vault=vault, policy=policy, database=database, existing=existing
    )


def rows(session) -> list[ProviderConnection]:
    return list(session.scalars(select(ProviderConnection).order_by(ProviderConnection.id)))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"provider_type": "trello"}, "provider_type", "Choose one of"),
        ({"slug": "Acme Jira!"}, "slug", "lowercase letters"),
        ({"slug": "local"}, "slug", "built-in tracker"),
        ({"slug": "-acme"}, "slug", "lowercase letters"),
        ({"name": "  "}, "name", "Give the connection a name"),
        ({"name": "x" * 121}, "name", "At most 120"),
        ({"base_url": ""}, "base_url", "starting with https://"),
        ({"base_url": "ftp://files.example"}, "base_url", "must start with https://"),
        ({"base_url": "https://ana:secret@acme.example"}, "base_url", "not in the URL"),
        ({"token": ""}, "token", "Enter the API token"),
        ({"token": "   "}, "token", "Enter the API token"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    session, user, vault, database, clickup, changes, field, words
):
    with pytest.raises(service.ConnectionInputError) as caught:
        save(session, user, clickup_input(clickup, **changes), vault, database)
    assert words in caught.value.field_errors[field]
    assert rows(session) == []
    assert clickup.requests == []  # bad input never reaches the vendor


def test_jira_needs_the_account_email(session, user, vault, database):
    data = service.ConnectionInput(
        provider_type="jira",
        slug="acme-jira",
        name="Acme",
        base_url="https://acme.atlassian.net",
        token=TOKEN,
    )
    with pytest.raises(service.ConnectionInputError) as caught:
        save(session, user, data, vault, database)
    assert "email" in caught.value.field_errors["username"]


def test_plain_http_is_refused_unless_the_host_is_allowed(session, user, vault, database, clickup):
    with pytest.raises(service.ConnectionInputError) as caught:
        save(session, user, clickup_input(clickup), vault, database, policy=HttpPolicy())
    assert caught.value.field_errors["base_url"].startswith("Address not allowed:")
    assert "does not use https" in caught.value.field_errors["base_url"]
    assert caught.value.outcome is None  # refused as input, before any check


def test_slugs_are_unique_per_user_only(session, user, vault, database, clickup):
    save(session, user, clickup_input(clickup), vault, database)
    with pytest.raises(service.ConnectionInputError) as caught:
        save(session, user, clickup_input(clickup, name="Again"), vault, database)
    assert "already have a connection 'acme-clickup'" in caught.value.field_errors["slug"]
    other = accounts.create_user(session, email="bo@example.com", password=PASSWORD)
    row, _ = save(session, other, clickup_input(clickup), vault, database)
    assert row.user_id == other.id and row.slug == "acme-clickup"


# --- saving ------------------------------------------------------------------------------------


def test_a_new_connection_is_checked_then_saved_encrypted(session, user, vault, database, clickup):
    row, outcome = save(
        session, user, clickup_input(clickup, slug=" Acme-ClickUp ", token=f" {TOKEN}\n"), vault, database
    )
    session.commit()
    assert outcome is not None and outcome.ok
    assert outcome.message == "Connected to ClickUp workspace Acme as Ana Silva, ana@acme.example"
    assert row.slug == "acme-clickup"
    assert row.token_hint == TOKEN[-4:]
    assert TOKEN not in row.credentials_encrypted
    assert vault.decrypt(row.credentials_encrypted)["token"] == TOKEN  # stripped of the paste's whitespace
    assert row.last_check_ok is True and row.last_checked_at is not None
    assert row.last_check_summary == outcome.message and row.last_check_error is None
    assert [r.headers["authorization"] for r in clickup.requests] == [TOKEN, TOKEN]
    event = session.scalar(select(AuditEvent))
    assert (event.kind, event.target, event.connection_id) == (
        "connection_changed",
        "created acme-clickup",
        row.id,
    )


def test_a_failed_check_saves_nothing_and_points_at_the_token(session, user, vault, database, clickup):
    with pytest.raises(service.ConnectionInputError) as caught:
        save(session, user, clickup_input(clickup, token="pk_wrong_token_0000000000000"), vault, database)
    assert caught.value.field_errors["token"].startswith("Token rejected:")
    assert caught.value.outcome.kind == "authentication_failed"
    assert "pk_wrong_token" not in str(caught.value)
    assert rows(session) == []
    assert session.scalar(select(AuditEvent)) is None


def test_a_failed_check_points_at_the_url_when_the_address_is_wrong(session, user, vault, database):
    data = service.ConnectionInput(
        provider_type="clickup",
        slug="acme",
        name="Acme",
        base_url=f"http://127.0.0.1:{closed_port()}",
        token=TOKEN,
    )
    with pytest.raises(service.ConnectionInputError) as caught:
        save(session, user, data, vault, database)
    assert caught.value.field_errors["base_url"].startswith("Unreachable:")
    assert rows(session) == []


def test_a_workspace_the_token_cannot_see_is_reported_on_that_option(session, user, vault, database, clickup):
    with pytest.raises(service.ConnectionInputError) as caught:
        save(session, user, clickup_input(clickup, options={"team_id": "999"}), vault, database)
    assert "not one this token can see" in caught.value.field_errors["team_id"]
    assert rows(session) == []


def test_editing_with_a_blank_token_keeps_the_stored_one(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    stored = row.credentials_encrypted
    clickup.requests.clear()
    # A rename changes nothing the vendor sees: no check, same ciphertext.
    row, outcome = save(
        session, user, clickup_input(clickup, name="Renamed", token=""), vault, database, existing=row
    )
    assert outcome is None and clickup.requests == []
    assert row.name == "Renamed" and row.credentials_encrypted == stored
    # A new URL is checked with the stored token.
    row, outcome = save(
        session,
        user,
        clickup_input(clickup, base_url=clickup.base_url + "/api/v2/", token=None),
        vault,
        database,
        existing=row,
    )
    assert outcome is not None and outcome.ok
    assert {r.headers["authorization"] for r in clickup.requests} == {TOKEN}
    assert row.base_url == clickup.base_url + "/api/v2"
    assert vault.decrypt(row.credentials_encrypted)["token"] == TOKEN


def test_a_changed_option_is_checked_before_it_is_saved(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    with pytest.raises(service.ConnectionInputError):
        save(
            session,
            user,
            clickup_input(clickup, token="", options={"team_id": "999"}),
            vault,
            database,
            existing=row,
        )
    session.rollback()
    assert session.get(ProviderConnection, row.id).options == {}
    row, outcome = save(
        session,
        user,
        clickup_input(clickup, token="", options={"team_id": clickup.team.id}),
        vault,
        database,
        existing=row,
    )
    assert outcome.ok and row.options == {"team_id": clickup.team.id}


def test_a_wrong_new_token_on_edit_keeps_the_old_one(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    with pytest.raises(service.ConnectionInputError) as caught:
        save(
            session,
            user,
            clickup_input(clickup, token="pk_wrong_token_0000000000000"),
            vault,
            database,
            existing=row,
        )
    session.rollback()
    assert "token" in caught.value.field_errors
    assert vault.decrypt(session.get(ProviderConnection, row.id).credentials_encrypted)["token"] == TOKEN


def test_unreadable_stored_token_asks_for_it_again(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    other_vault = Vault([Fernet.generate_key().decode()])
    with pytest.raises(service.ConnectionInputError) as caught:
        save(
            session,
            user,
            clickup_input(clickup, base_url=clickup.base_url + "/api", token=""),
            other_vault,
            database,
            existing=row,
        )
    assert "enter the token again" in caught.value.field_errors["token"]
    session.rollback()
    # Entering the token again repairs it under the new key.
    row, outcome = save(session, user, clickup_input(clickup), other_vault, database, existing=row)
    assert outcome.ok and other_vault.decrypt(row.credentials_encrypted)["token"] == TOKEN


# --- the stored token only goes where it was saved for -------------------------------------------


@pytest.fixture
def second_clickup() -> Iterator[ClickUpFake]:
    """Another server (another port) that records whatever reaches it."""
    fake = ClickUpFake()
    fake.start()
    yield fake
    fake.stop()


LOCALHOST_POLICY = replace(FAST_POLICY, allowed_hosts=("127.0.0.1", "localhost"))


def moved_to(fake: ClickUpFake, second: ClickUpFake) -> dict[str, str]:
    """The same fake under another host name, another port (a second server), and another scheme."""
    port = fake.base_url.rsplit(":", 1)[1]
    return {
        "host": f"http://localhost:{port}",
        "port": second.base_url,
        "scheme": f"https://127.0.0.1:{port}",
    }


@pytest.mark.parametrize("change", ["host", "port", "scheme"])
def test_a_new_server_with_a_blank_token_asks_for_the_token_and_sends_nothing(
    session, user, vault, database, clickup, second_clickup, change
):
    row, _ = save(session, user, clickup_input(clickup), vault, database, policy=LOCALHOST_POLICY)
    session.commit()
    stored = (row.base_url, row.credentials_encrypted, row.last_checked_at)
    clickup.requests.clear()
    new_url = moved_to(clickup, second_clickup)[change]
    for blank in ("", None, "  "):
        with pytest.raises(service.ConnectionInputError) as caught:
            save(
                session,
                user,
                clickup_input(clickup, base_url=new_url, token=blank),
                vault,
                database,
                policy=LOCALHOST_POLICY,
                existing=row,
            )
        assert list(caught.value.field_errors) == ["token"]
        assert caught.value.field_errors["token"] == (
            f"The stored token is only sent to {clickup.base_url}, where it was saved. "
            f"Enter the API token again to use {new_url}."
        )
        assert caught.value.outcome is None
        session.rollback()
    # No request of any kind reached either server, under any name.
    assert clickup.requests == [] and second_clickup.requests == []
    row = session.get(ProviderConnection, row.id)
    assert (row.base_url, row.credentials_encrypted, row.last_checked_at) == stored


def test_a_new_server_with_the_token_entered_again_is_saved_and_sealed_to_it(
    session, user, vault, database, clickup, second_clickup
):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    clickup.requests.clear()
    row, outcome = save(session, user, clickup_input(second_clickup), vault, database, existing=row)
    assert outcome.ok and clickup.requests == []
    assert {r.headers["authorization"] for r in second_clickup.requests} == {TOKEN}
    assert vault.decrypt(row.credentials_encrypted) == {
        "token": TOKEN,
        "origin": second_clickup.base_url,
        "provider_type": "clickup",
    }


def test_the_same_server_under_another_path_or_spelling_keeps_the_token(
    session, user, vault, database, clickup
):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    port = clickup.base_url.rsplit(":", 1)[1]
    for url in (clickup.base_url + "/api/v2", f"HTTP://127.0.0.1:{port}/"):
        row, outcome = save(
            session, user, clickup_input(clickup, base_url=url, token=""), vault, database, existing=row
        )
        assert outcome.ok
    assert service.token_origin("https://Acme.Example:443/jira") == "https://acme.example"
    assert service.token_origin("https://acme.example:8443") == "https://acme.example:8443"
    assert service.token_origin("http://[::1]:8080/x") == "http://[::1]:8080"


def test_another_provider_type_with_a_blank_token_asks_for_the_token(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    clickup.requests.clear()
    with pytest.raises(service.ConnectionInputError) as caught:
        save(
            session,
            user,
            clickup_input(clickup, provider_type="openproject", token=""),
            vault,
            database,
            existing=row,
        )
    assert caught.value.field_errors == {
        "token": "The stored token was saved for ClickUp. Enter the API token again for OpenProject."
    }
    assert clickup.requests == []
    session.rollback()
    assert session.get(ProviderConnection, row.id).provider_type == "clickup"


def test_a_url_changed_behind_the_services_back_gets_no_token(
    session, user, vault, database, clickup, second_clickup
):
    # Whatever writes the row (an older version, a hand edit of the database), the sealed token stays home.
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    row.base_url = second_clickup.base_url
    session.commit()
    with pytest.raises(service.TokenNotForThisServer, match="never sent to"):
        service.config_for(row, vault)
    outcome = service.check_connection(row, vault, FAST_POLICY, database)
    assert not outcome.ok and outcome.field == "token"
    assert outcome.message == (
        f"The stored token was saved for {clickup.base_url} and is never sent to {second_clickup.base_url}, "
        "where this connection now points. Enter the token again to use this server."
    )
    assert not service.credentials_readable(row, vault)
    assert service.list_connections(session, user.id, PORTAL_URL, vault)[1].state == "broken"
    row.provider_type = "openproject"
    row.base_url = clickup.base_url
    with pytest.raises(service.TokenNotForThisServer, match="saved for ClickUp, not OpenProject"):
        service.config_for(row, vault)
    assert second_clickup.requests == []


def test_credentials_stored_before_sealing_work_and_are_sealed_at_the_next_save(
    session, user, vault, database, clickup
):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    row.credentials_encrypted = vault.encrypt({"token": TOKEN})
    session.commit()
    assert service.config_for(row, vault).token == TOKEN
    row, _ = save(
        session,
        user,
        clickup_input(clickup, base_url=clickup.base_url + "/api", token=""),
        vault,
        database,
        existing=row,
    )
    assert vault.decrypt(row.credentials_encrypted)["origin"] == clickup.base_url


# --- checking ----------------------------------------------------------------------------------


def test_check_connection_records_success_and_failure(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    session.commit()
    first_check = row.last_checked_at
    clickup.fail_next(401)
    outcome = service.check_connection(row, vault, FAST_POLICY, database)
    assert not outcome.ok and outcome.kind == "authentication_failed" and outcome.field == "token"
    assert row.last_check_ok is False and row.last_check_error == outcome.message
    assert row.last_check_summary is None and row.last_checked_at > first_check
    assert service.view_of(row).state == "failing"
    outcome = service.check_connection(row, vault, FAST_POLICY, database)
    assert outcome.ok and row.last_check_ok and row.last_check_error is None
    assert service.view_of(row).state == "active"


def test_try_connection_records_nothing(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    checked_at = row.last_checked_at
    clickup.fail_next(401)
    outcome = service.try_connection(row, vault, FAST_POLICY, database)
    assert not outcome.ok
    assert row.last_checked_at == checked_at and row.last_check_ok is True


def test_check_with_unreadable_credentials_says_so(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    clickup.requests.clear()
    outcome = service.check_connection(row, Vault([Fernet.generate_key().decode()]), FAST_POLICY, database)
    assert not outcome.ok and outcome.kind == "credentials_unreadable"
    assert "can't be decrypted" in outcome.message and "Enter the token again" in outcome.message
    assert clickup.requests == []


def test_a_stored_internal_address_is_refused_when_checked(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    clickup.requests.clear()
    # The operator no longer allows 127.0.0.1: the stored connection is refused before any request.
    outcome = service.check_connection(row, vault, HttpPolicy(), database)
    assert outcome.kind == "address_not_allowed"
    assert outcome.message.startswith("Address not allowed:")
    assert clickup.requests == []


LABEL, HOST = "ClickUp", "api.clickup.com"


@pytest.mark.parametrize(
    ("error", "starts", "contains"),
    [
        (errors.AuthenticationFailed("401"), "Token rejected:", "did not accept these credentials"),
        (errors.PermissionDenied("nope"), "Permission denied:", "nope"),
        (errors.NotFound("ClickUp found no such object (404)"), "Wrong URL or not ClickUp:", "answered 404"),
        (errors.NotThisProduct("answered with text/html"), "Wrong URL or not ClickUp:", "text/html"),
        (errors.TLSFailure("handshake failed."), "TLS failure:", "handshake"),
        (errors.TimedOut("no answer within 20 seconds."), "Timed out:", "Try again later"),
        (errors.Unreachable("connection refused."), "Unreachable:", "connection refused"),
        (errors.RateLimited("slow down;"), "Rate limited:", "Try again in a moment"),
        (errors.AddressNotAllowed("10.0.0.1 is private."), "Address not allowed:", "private"),
        (errors.Unavailable("server error (503)"), "ClickUp is unavailable:", "503"),
        (
            errors.InvalidInput("bad", field_errors={"team_id": "no"}),
            "ClickUp refused these settings:",
            "team_id",
        ),
        (errors.ProviderError("odd"), "The check failed:", "odd"),
    ],
)
def test_explain_check_failure_names_the_problem(error, starts, contains):
    message = service.explain_check_failure(error, LABEL, HOST)
    assert message.startswith(starts)
    assert contains in message


@pytest.mark.parametrize(
    ("error", "field"),
    [
        (errors.AuthenticationFailed("x"), "token"),
        (errors.PermissionDenied("x"), "token"),
        (errors.InvalidInput("x", field_errors={"team_id": "y"}), "team_id"),
        (errors.InvalidInput("x"), "base_url"),
        (errors.Unreachable("x"), "base_url"),
        (errors.RateLimited("x"), "base_url"),
    ],
)
def test_problem_field(error, field):
    assert service.problem_field(error) == field


# --- listing, enabling, deleting, rotating -------------------------------------------------------


def test_listing_puts_local_first_and_marks_broken_credentials(session, user, vault, database, clickup):
    save(session, user, clickup_input(clickup, slug="zeta"), vault, database)
    save(session, user, clickup_input(clickup, slug="alpha"), vault, database)
    views = service.list_connections(session, user.id, PORTAL_URL, vault)
    assert [v.slug for v in views] == ["local", "alpha", "zeta"]
    local = views[0]
    assert local.is_local and local.state == "active" and local.host == "portal.example"
    assert all(v.state == "active" and not v.credentials_broken for v in views)
    assert TOKEN not in repr(views)
    broken = service.list_connections(session, user.id, PORTAL_URL, Vault([Fernet.generate_key().decode()]))
    assert [v.state for v in broken] == ["active", "broken", "broken"]
    # Without a vault nothing is decrypted and nothing is marked.
    assert [v.state for v in service.list_connections(session, user.id, PORTAL_URL)] == ["active"] * 3


def test_states(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    service.set_connection_active(session, user, row, False)
    assert service.view_of(row).state == "disabled"
    service.set_connection_active(session, user, row, True)
    row.last_check_ok = None
    assert service.view_of(row).state == "unchecked"
    targets = session.scalars(select(AuditEvent.target).order_by(AuditEvent.id)).all()
    assert targets == ["created acme-clickup", "disabled acme-clickup", "enabled acme-clickup"]


def test_delete(session, user, vault, database, clickup):
    row, _ = save(session, user, clickup_input(clickup), vault, database)
    service.delete_connection(session, user, row)
    assert rows(session) == []
    assert (
        session.scalars(select(AuditEvent.target).order_by(AuditEvent.id)).all()[-1] == "deleted acme-clickup"
    )


def test_rotate_credentials_reencrypts_readable_ones_and_names_the_rest(session, user, database, clickup):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    save(session, user, clickup_input(clickup, slug="one"), Vault([old]), database)
    two, _ = save(session, user, clickup_input(clickup, slug="two"), Vault([old]), database)
    two.credentials_encrypted = Vault([old]).encrypt({"token": TOKEN})  # stored before tokens were sealed
    save(
        session, user, clickup_input(clickup, slug="lost"), Vault([Fernet.generate_key().decode()]), database
    )
    rotated, unreadable = service.rotate_credentials(session, Vault([new, old]))
    assert rotated == 2
    assert unreadable == ["connection 'lost' of ana@example.com"]
    by_slug = {row.slug: row for row in rows(session)}
    for slug in ("one", "two"):
        assert Vault([new]).decrypt(by_slug[slug].credentials_encrypted) == {
            "token": TOKEN,
            "origin": clickup.base_url,
            "provider_type": "clickup",
        }
        with pytest.raises(service.CredentialsUnreadable):
            Vault([old]).decrypt(by_slug[slug].credentials_encrypted)


def test_connection_options_parse_key_value_pairs():
    assert service.connection_options("clickup", ["team_id=123", " a = b=c "]) == {
        "team_id": "123",
        "a": "b=c",
    }
    with pytest.raises(service.ConnectionInputError) as caught:
        service.connection_options("clickup", ["team_id"])
    assert "KEY=VALUE" in caught.value.field_errors["options"]


def test_the_token_stays_out_of_reprs():
    data = service.ConnectionInput(
        provider_type="clickup", slug="s", name="n", base_url="https://x", token=TOKEN
    )
    assert TOKEN not in repr(data)
