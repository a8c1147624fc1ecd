"""The Connections pages, against the ClickUp and JIRA fakes on 127.0.0.1 (CSRF on, as in production)."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from html import unescape

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from portal.app import create_app
from portal.core.models import Base, ProviderConnection
from portal.core.vault import Vault
from portal.extensions import db
from tests.conftest import AuthActions, empty_tables, post_form
from tests.contract.suite import TEST_POLICY
from tests.fakes.base import FakeResponse, FakeVendor
from tests.fakes.clickup import TOKEN, ClickUpFake
from tests.fakes.jira import FakeJira

NEW_CLICKUP = "/connections/new?type=clickup"
FAST_POLICY = replace(TEST_POLICY, read_timeout=0.5, retries=0)
WRONG_TOKEN = "pk_81000001_WRONGWRONGWRONGWRONGWRONG00"


@pytest.fixture
def clickup() -> Iterator[ClickUpFake]:
    fake = ClickUpFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def signed_in(auth) -> AuthActions:
    auth.create_user()
    auth.login()
    return auth


@pytest.fixture
def fast(app):
    """No retries and half-second reads, so failure tests take a second."""
    app.extensions["pm_http_policy"] = FAST_POLICY


class HtmlSite(FakeVendor):
    """A web server that is not ClickUp: it answers every API path with an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", "/api/v2/{what}", lambda request, what: self.page())

    def page(self) -> FakeResponse:
        return FakeResponse(
            200, "<!doctype html><title>Intranet</title><p>Welcome</p>", content_type="text/html"
        )


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def add_clickup(client, fake_url: str, *, token: str = TOKEN, slug: str = "acme-clickup", **fields):
    data = {
        "provider_type": "clickup",
        "name": "Acme ClickUp",
        "slug": slug,
        "base_url": fake_url,
        "token": token,
        "team_id": "",
    } | fields
    return post_form(client, "/connections/new", data, page=NEW_CLICKUP, follow_redirects=True)


def connections(app) -> list[ProviderConnection]:
    with app.app_context():
        return db.session.scalars(select(ProviderConnection).order_by(ProviderConnection.id)).all()


def field_error(html: str, field: str) -> str:
    """The error shown next to a form field (by the field() macro), or ''."""
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    return unescape(match.group(1)) if match else ""


def flashes(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', html)]


def database_text(app) -> str:
    """Every value of every row of every table, as text: what a database dump would show."""
    parts = []
    with app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- listing -----------------------------------------------------------------------------------


def test_the_listing_shows_local_first_and_a_token_only_by_its_last_four(client, app, signed_in, clickup):
    html = page_text(client.get("/connections/"))
    assert "Team tracker" in html and "<code>local</code>" in html
    add_clickup(client, clickup.base_url)
    html = page_text(client.get("/connections/"))
    assert html.index("<code>local</code>") < html.index("<code>acme-clickup</code>")
    assert f"…{TOKEN[-4:]}" in html and TOKEN not in html
    host = clickup.base_url.removeprefix("http://")
    assert f"<td>{host}</td>" in html and "ClickUp" in html and "Acme ClickUp" in html
    assert "Connected to ClickUp workspace Acme as Ana Silva, ana@acme.example" in html
    assert 'badge-good">active' in html
    for action in ("check", "disable", "delete"):
        assert f'action="/connections/acme-clickup/{action}"' in html
    assert 'href="/connections/acme-clickup/edit"' in html
    assert client.get("/connections/").headers["Cache-Control"] == "no-store"


def test_pages_need_a_sign_in(client):
    for url in ("/connections/", NEW_CLICKUP, "/connections/x/edit"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- adding --------------------------------------------------------------------------------------


def test_the_new_form_fits_the_provider(client, signed_in):
    jira = page_text(client.get("/connections/new?type=jira"))
    assert 'placeholder="https://your-site.atlassian.net"' in jira
    assert 'name="username"' in jira and "Account email" in jira
    assert 'name="team_id"' not in jira
    clickup = page_text(client.get(NEW_CLICKUP))
    assert 'placeholder="https://api.clickup.com"' in clickup
    assert 'name="username"' not in clickup and 'name="team_id"' in clickup
    assert 'type="password"' in clickup and 'value="clickup"' in clickup
    # Every provider is one click away.
    for provider in ("jira", "openproject", "clickup", "redmine"):
        assert f'href="/connections/new?type={provider}"' in clickup


def test_add_a_clickup_connection(client, app, signed_in, clickup):
    response = add_clickup(client, clickup.base_url)
    html = page_text(response)
    assert response.request.path == "/connections/"
    assert (
        "Added Acme ClickUp (acme-clickup). Connected to ClickUp workspace Acme as Ana Silva, ana@acme.example."
        in flashes(html)
    )
    (row,) = connections(app)
    assert (row.provider_type, row.slug, row.name, row.base_url) == (
        "clickup",
        "acme-clickup",
        "Acme ClickUp",
        clickup.base_url,
    )
    assert row.options == {} and row.is_active and row.last_check_ok
    assert app.extensions["pm_vault"].decrypt(row.credentials_encrypted)["token"] == TOKEN


def test_add_a_jira_connection_with_the_account_email(client, app, signed_in):
    fake = FakeJira()
    fake.start()
    try:
        email, token = fake.credentials()
        data = {
            "provider_type": "jira",
            "name": "Acme JIRA",
            "slug": "acme-jira",
            "base_url": fake.base_url,
            "token": token,
        }
        # Without the email: a message next to the field, nothing written, the vendor never asked.
        html = page_text(post_form(client, "/connections/new", data, page="/connections/new?type=jira"))
        assert "email" in field_error(html, "username")
        assert connections(app) == [] and fake.requests == []
        # With a wrong email JIRA refuses the token.
        html = page_text(
            post_form(
                client,
                "/connections/new",
                data | {"username": "nobody@acme.example"},
                page="/connections/new?type=jira",
            )
        )
        assert field_error(html, "token").startswith("Token rejected: JIRA Cloud at 127.0.0.1")
        assert connections(app) == []
        response = post_form(
            client,
            "/connections/new",
            data | {"username": email},
            page="/connections/new?type=jira",
            follow_redirects=True,
        )
        html = page_text(response)
        assert response.request.path == "/connections/"
        (row,) = connections(app)
        assert (row.provider_type, row.username) == ("jira", email)
        assert row.last_check_summary in html
        assert token not in html and token not in database_text(app)
        check = post_form(
            client, "/connections/acme-jira/check", {}, page="/connections/", follow_redirects=True
        )
        assert any(
            message.startswith("Acme JIRA (acme-jira): Connected to") for message in flashes(page_text(check))
        )
    finally:
        fake.stop()


def test_bad_input_is_reported_next_to_each_field_and_nothing_is_written(client, app, signed_in, clickup):
    response = post_form(
        client,
        "/connections/new",
        {"provider_type": "clickup", "name": "", "slug": "Not A Slug", "base_url": "ftp://x", "token": ""},
        page=NEW_CLICKUP,
    )
    html = page_text(response)
    assert response.status_code == 200
    assert "Give the connection a name" in field_error(html, "name")
    assert "lowercase letters" in field_error(html, "slug")
    assert "https://" in field_error(html, "base_url")
    assert "Enter the API token" in field_error(html, "token")
    assert connections(app) == [] and clickup.requests == []
    # What was typed stays, except the token.
    assert 'value="Not A Slug"' in html


def test_an_unknown_provider_is_reported(client, app, signed_in, clickup):
    html = page_text(
        post_form(
            client,
            "/connections/new",
            {
                "provider_type": "trello",
                "name": "T",
                "slug": "t",
                "base_url": clickup.base_url,
                "token": TOKEN,
            },
            page=NEW_CLICKUP,
        )
    )
    # An unknown type falls back to the default provider's form, which asks for what JIRA needs.
    assert connections(app) == []
    assert "email" in field_error(html, "username")


def test_a_duplicate_slug_is_refused(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    html = page_text(add_clickup(client, clickup.base_url))
    assert "already have a connection 'acme-clickup'" in field_error(html, "slug")
    assert len(connections(app)) == 1


# --- check failures, each with its precise message -------------------------------------------------


def assert_refused(client, app, url: str, field: str, starts: str, token: str = TOKEN) -> str:
    html = page_text(add_clickup(client, url, token=token))
    message = field_error(html, field)
    assert message.startswith(starts), message
    assert connections(app) == []
    return message


def test_token_rejected(client, app, signed_in, clickup):
    message = assert_refused(client, app, clickup.base_url, "token", "Token rejected:", token=WRONG_TOKEN)
    assert "ClickUp at 127.0.0.1" in message and "did not accept these credentials" in message


def test_wrong_url_answering_html(client, app, signed_in):
    site = HtmlSite()
    site.start()
    try:
        message = assert_refused(client, app, site.base_url, "base_url", "Wrong URL or not ClickUp:")
        assert "text/html" in message and "not the ClickUp API" in message
    finally:
        site.stop()


def test_wrong_url_answering_404(client, app, signed_in, clickup):
    message = assert_refused(client, app, clickup.base_url + "/wiki", "base_url", "Wrong URL or not ClickUp:")
    assert "404" in message


def test_unreachable(client, app, signed_in, fast):
    message = assert_refused(client, app, f"http://127.0.0.1:{closed_port()}", "base_url", "Unreachable:")
    assert "connection refused" in message


def test_timed_out(client, app, signed_in, clickup, fast):
    clickup.delay_next(1.5, count=2)
    message = assert_refused(client, app, clickup.base_url, "base_url", "Timed out:")
    assert "did not answer within 0.5 seconds" in message


def test_rate_limited(client, app, signed_in, clickup):
    clickup.fail_next(429, headers=clickup.rate_limit_headers(remaining=0, reset_in=60))
    message = assert_refused(client, app, clickup.base_url, "base_url", "Rate limited:")
    assert "ClickUp is rate limiting requests" in message and "Try again in a moment" in message


def test_tls_failure(client, app, signed_in, clickup, fast):
    # The fake speaks plain HTTP: an https:// URL to it fails in the handshake.
    message = assert_refused(
        client, app, clickup.base_url.replace("http://", "https://"), "base_url", "TLS failure:"
    )
    assert "handshake" in message


@pytest.fixture
def guarded_app(schema, database_url, app_config):
    """The portal as shipped: no ALLOWED_PROVIDER_HOSTS, so internal addresses are refused."""
    app = create_app(app_config | {"ALLOWED_PROVIDER_HOSTS": ""})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    empty_tables(database_url)


def test_address_not_allowed_without_allowed_provider_hosts(guarded_app, clickup):
    client = guarded_app.test_client()
    auth = AuthActions(client, guarded_app)
    auth.create_user()
    auth.login()
    # Plain http to an internal host: refused before any request.
    html = page_text(add_clickup(client, clickup.base_url))
    message = field_error(html, "base_url")
    assert message.startswith("Address not allowed:") and "does not use https" in message
    # https to a loopback address: the socket guard refuses it after connecting, before TLS.
    html = page_text(add_clickup(client, clickup.base_url.replace("http://", "https://")))
    message = field_error(html, "base_url")
    assert message.startswith("Address not allowed: 127.0.0.1 is a loopback address")
    assert "ALLOWED_PROVIDER_HOSTS" in message
    assert connections(guarded_app) == [] and clickup.requests == []


# --- test, edit, disable, delete -----------------------------------------------------------------------


def test_test_connection_flashes_the_result_and_records_it(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    before = connections(app)[0].last_checked_at
    response = post_form(
        client, "/connections/acme-clickup/check", {}, page="/connections/", follow_redirects=True
    )
    html = page_text(response)
    assert (
        "Acme ClickUp (acme-clickup): Connected to ClickUp workspace Acme as Ana Silva, ana@acme.example."
        in flashes(html)
    )
    assert connections(app)[0].last_checked_at > before
    clickup.fail_next(401)
    html = page_text(
        post_form(client, "/connections/acme-clickup/check", {}, page="/connections/", follow_redirects=True)
    )
    (message,) = flashes(html)
    assert message.startswith("Acme ClickUp (acme-clickup): Token rejected:")
    (row,) = connections(app)
    assert row.last_check_ok is False and row.last_check_error.startswith("Token rejected:")
    assert 'badge-bad">failing' in html and row.last_check_error in html


def test_edit_with_a_blank_token_keeps_the_stored_one(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    edit_page = page_text(client.get("/connections/acme-clickup/edit"))
    assert 'value="Acme ClickUp"' in edit_page and f'value="{clickup.base_url}"' in edit_page
    assert TOKEN not in edit_page
    assert f"Leave blank to keep the stored token (…{TOKEN[-4:]})" in edit_page
    clickup.requests.clear()
    data = {
        "name": "Renamed",
        "slug": "acme-clickup",
        "base_url": clickup.base_url + "/api/v2",
        "token": "",
        "team_id": "",
    }
    response = post_form(client, "/connections/acme-clickup/edit", data, follow_redirects=True)
    assert response.request.path == "/connections/"
    (row,) = connections(app)
    assert row.name == "Renamed" and row.base_url == clickup.base_url + "/api/v2"
    assert app.extensions["pm_vault"].decrypt(row.credentials_encrypted)["token"] == TOKEN
    # The changed URL was checked, with the stored token.
    assert clickup.requests and {r.headers["authorization"] for r in clickup.requests} == {TOKEN}


@pytest.fixture
def second_clickup() -> Iterator[ClickUpFake]:
    """Another server (another port) that records every request that reaches it."""
    fake = ClickUpFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.mark.parametrize("change", ["host", "port"])
def test_edit_to_another_server_with_a_blank_token_asks_for_it_and_sends_nothing(
    client, app, signed_in, clickup, second_clickup, change
):
    app.extensions["pm_http_policy"] = replace(FAST_POLICY, allowed_hosts=("127.0.0.1", "localhost"))
    add_clickup(client, clickup.base_url)
    (before,) = connections(app)
    clickup.requests.clear()
    port = clickup.base_url.rsplit(":", 1)[1]
    new_url = {"host": f"http://localhost:{port}", "port": second_clickup.base_url}[change]
    data = {"name": "Moved", "slug": "acme-clickup", "base_url": new_url, "token": "", "team_id": ""}
    response = post_form(client, "/connections/acme-clickup/edit", data)
    assert response.status_code == 200
    html = page_text(response)
    assert field_error(html, "token") == (
        f"The stored token is only sent to {clickup.base_url}, where it was saved. "
        f"Enter the API token again to use {new_url}."
    )
    assert field_error(html, "base_url") == ""
    assert TOKEN not in html
    # Nothing saved, and no request (with or without credentials) reached the new server. (The
    # page's workspace picker may ask the server the token was saved for, under its own name.)
    new_host = new_url.split("://", 1)[1]
    (after,) = connections(app)
    assert (after.name, after.base_url, after.credentials_encrypted, after.last_checked_at) == (
        before.name,
        before.base_url,
        before.credentials_encrypted,
        before.last_checked_at,
    )
    assert second_clickup.requests == []
    assert [r for r in clickup.requests if r.headers["host"] == new_host] == []
    assert {r.headers["host"] for r in clickup.requests} <= {clickup.base_url.split("://", 1)[1]}
    # With the token typed again, the new server is checked with it and the connection moves there.
    response = post_form(
        client, "/connections/acme-clickup/edit", data | {"token": TOKEN}, follow_redirects=True
    )
    assert response.request.path == "/connections/"
    assert connections(app)[0].base_url == new_url
    reached = [r for r in clickup.requests + second_clickup.requests if r.headers["host"] == new_host]
    assert reached and {r.headers["authorization"] for r in reached} == {TOKEN}


def test_the_edit_form_says_a_new_server_needs_the_token(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    html = page_text(client.get("/connections/acme-clickup/edit"))
    assert f"Leave blank to keep the stored token (…{TOKEN[-4:]}) while the server stays the same." in html


def test_edit_with_a_wrong_new_token_changes_nothing(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    stored = connections(app)[0].credentials_encrypted
    data = {
        "name": "Renamed",
        "slug": "acme-clickup",
        "base_url": clickup.base_url,
        "token": WRONG_TOKEN,
        "team_id": "",
    }
    html = page_text(post_form(client, "/connections/acme-clickup/edit", data))
    assert field_error(html, "token").startswith("Token rejected:")
    assert WRONG_TOKEN not in html
    (row,) = connections(app)
    assert row.name == "Acme ClickUp" and row.credentials_encrypted == stored


def test_disable_enable_and_delete(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    html = page_text(
        post_form(
            client, "/connections/acme-clickup/disable", {}, page="/connections/", follow_redirects=True
        )
    )
    assert connections(app)[0].is_active is False
    assert ">disabled<" in html and 'action="/connections/acme-clickup/enable"' in html
    post_form(client, "/connections/acme-clickup/enable", {}, page="/connections/")
    assert connections(app)[0].is_active is True
    html = page_text(
        post_form(
            client,
            "/connections/acme-clickup/delete",
            {"confirmed": "yes"},
            page="/connections/",
            follow_redirects=True,
        )
    )
    assert connections(app) == []
    assert "Deleted Acme ClickUp (acme-clickup) and its stored token." in flashes(html)
    assert "<code>acme-clickup</code>" not in html


def test_local_has_no_row_and_no_actions(client, signed_in):
    assert client.get("/connections/local/edit").status_code == 404
    assert post_form(client, "/connections/local/check", {}, page="/connections/").status_code == 404


# --- the ClickUp workspace picker ---------------------------------------------------------------------------


def test_the_workspace_picker_offers_the_tokens_workspaces(client, app, signed_in, clickup):
    second = clickup.add_team("Acme Labs", [clickup.me_id])
    response = add_clickup(client, clickup.base_url)
    html = page_text(response)
    # Saved, then sent to choose a workspace.
    assert response.request.path == "/connections/acme-clickup/edit"
    assert any("choose the one this connection works in" in message for message in flashes(html))
    (row,) = connections(app)
    assert row.options == {}
    assert '<select id="workspace" name="workspace">' in html
    assert f'value="{clickup.team.id}">Acme ({clickup.team.id})</option>' in html
    assert f'value="{second.id}">Acme Labs ({second.id})</option>' in html
    assert 'name="team_id"' not in html and TOKEN not in html
    # The list came from a fresh check with the stored token.
    team_calls = [r for r in clickup.requests if r.path.endswith("/team")]
    assert len(team_calls) == 2 and all(r.headers["authorization"] == TOKEN for r in team_calls)
    # A workspace the token can't see is refused next to the picker.
    data = {
        "name": "Acme ClickUp",
        "slug": "acme-clickup",
        "base_url": clickup.base_url,
        "token": "",
        "workspace": "123",
    }
    html = page_text(post_form(client, "/connections/acme-clickup/edit", data))
    assert "not one this token can see" in field_error(html, "workspace")
    assert connections(app)[0].options == {}
    response = post_form(
        client, "/connections/acme-clickup/edit", data | {"workspace": second.id}, follow_redirects=True
    )
    assert response.request.path == "/connections/"
    assert (
        "Saved Acme ClickUp (acme-clickup). Connected to ClickUp workspace Acme Labs as Ana Silva, ana@acme.example."
        in flashes(page_text(response))
    )
    assert connections(app)[0].options == {"team_id": second.id}
    # Chosen: the edit page shows the option as a field and runs no more checks.
    clickup.requests.clear()
    html = page_text(client.get("/connections/acme-clickup/edit"))
    assert f'name="team_id" type="text" value="{second.id}"' in html and 'name="workspace"' not in html
    assert clickup.requests == []


def test_one_workspace_needs_no_picker(client, signed_in, clickup):
    response = add_clickup(client, clickup.base_url)
    assert response.request.path == "/connections/"
    html = page_text(client.get("/connections/acme-clickup/edit"))
    assert 'name="workspace"' not in html and 'name="team_id"' in html


# --- isolation and request forgery ------------------------------------------------------------------------------------


def test_another_users_connection_is_404_everywhere(client, app, auth, clickup):
    auth.create_user()
    auth.login()
    add_clickup(client, clickup.base_url)
    auth.logout()
    auth.create_user(email="bo@example.com", name="Bo")
    auth.login(email="bo@example.com")
    assert "acme-clickup" not in page_text(client.get("/connections/"))
    assert client.get("/connections/acme-clickup/edit").status_code == 404
    edit = {"name": "Mine now", "slug": "acme-clickup", "base_url": clickup.base_url, "token": ""}
    assert post_form(client, "/connections/acme-clickup/edit", edit, page="/connections/").status_code == 404
    for action in ("check", "disable", "enable", "delete"):
        assert (
            post_form(client, f"/connections/acme-clickup/{action}", {}, page="/connections/").status_code
            == 404
        )
    (row,) = connections(app)
    assert row.name == "Acme ClickUp" and row.is_active
    # Bo may use the same slug for his own connection.
    add_clickup(client, clickup.base_url)
    assert len(connections(app)) == 2


def test_posts_without_the_csrf_token_are_refused(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    for action in ("check", "disable", "delete"):
        response = client.post(f"/connections/acme-clickup/{action}")
        assert response.status_code == 400
        assert "The form expired or was sent from another site" in page_text(response)
    response = client.post(
        "/connections/new",
        data={
            "provider_type": "clickup",
            "name": "X",
            "slug": "x",
            "base_url": clickup.base_url,
            "token": TOKEN,
        },
    )
    assert response.status_code == 400
    (row,) = connections(app)
    assert row.is_active and row.slug == "acme-clickup"


# --- secrets ---------------------------------------------------------------------------------------------------------


def test_the_token_never_leaves_the_vault(client, app, signed_in, clickup, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def look(response) -> str:
        text = response.get_data(as_text=True)
        seen.append(text)
        seen.extend(response.headers.getlist("Set-Cookie"))
        for history in response.history:
            seen.append(history.get_data(as_text=True))
            seen.extend(history.headers.getlist("Set-Cookie"))
        return unescape(text)

    look(client.get(NEW_CLICKUP))
    look(add_clickup(client, clickup.base_url))
    look(add_clickup(client, clickup.base_url, slug="second", name="Second"))
    look(client.get("/connections/"))
    look(client.get("/connections/acme-clickup/edit"))
    look(
        post_form(client, "/connections/acme-clickup/check", {}, page="/connections/", follow_redirects=True)
    )
    # A vendor that echoes the token in its error message does not get it onto a page.
    clickup.fail_next(400, body={"err": f"Token {TOKEN} is malformed", "ECODE": "INPUT_005"})
    html = look(
        post_form(client, "/connections/acme-clickup/check", {}, page="/connections/", follow_redirects=True)
    )
    assert "[token] is malformed" in html
    edit = {
        "name": "Renamed",
        "slug": "acme-clickup",
        "base_url": clickup.base_url,
        "token": TOKEN,
        "team_id": "",
    }
    look(post_form(client, "/connections/acme-clickup/edit", edit, follow_redirects=True))
    clickup.fail_next(401)
    look(post_form(client, "/connections/acme-clickup/edit", edit))  # a refused token, shown again? never
    look(
        post_form(
            client, "/connections/acme-clickup/disable", {}, page="/connections/", follow_redirects=True
        )
    )
    look(
        post_form(
            client,
            "/connections/second/delete",
            {"confirmed": "yes"},
            page="/connections/",
            follow_redirects=True,
        )
    )
    assert len(seen) > 10
    for text in seen:
        assert TOKEN not in text
        assert TOKEN[:-4] not in text  # nor most of it
    # No form field carries it back: password inputs are rendered without a value.
    for text in seen:
        assert not re.search(r'name="token"[^>]*value="[^"]', text)
    # Not in any log record, formatted or not.
    assert caplog.records
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.args)
    assert TOKEN not in caplog.text
    # Not in plain text in the database, and not in the row's repr.
    assert TOKEN not in database_text(app)
    assert TOKEN[-12:] not in database_text(app)
    assert TOKEN not in repr(connections(app))


def test_a_wrong_key_marks_the_connection_broken_and_pages_still_render(client, app, signed_in, clickup):
    add_clickup(client, clickup.base_url)
    app.extensions["pm_vault"] = Vault([Fernet.generate_key().decode()])  # CREDENTIALS_KEY changed
    response = client.get("/connections/")
    html = page_text(response)
    assert response.status_code == 200
    assert "broken: enter the token again" in html and 'badge-bad">broken' in html
    clickup.requests.clear()
    html = page_text(
        post_form(client, "/connections/acme-clickup/check", {}, page="/connections/", follow_redirects=True)
    )
    (message,) = flashes(html)
    assert "can't be decrypted with the configured CREDENTIALS_KEY" in message
    assert clickup.requests == []  # nothing was sent with an undecryptable token
    edit_page = client.get("/connections/acme-clickup/edit")
    assert edit_page.status_code == 200
    assert "The stored token can't be decrypted: enter it again." in page_text(edit_page)
    # Changing the URL without the token can't be checked: the token field says so.
    data = {
        "name": "Acme ClickUp",
        "slug": "acme-clickup",
        "base_url": clickup.base_url + "/api",
        "token": "",
        "team_id": "",
    }
    html = page_text(post_form(client, "/connections/acme-clickup/edit", data))
    assert "enter the token again" in field_error(html, "token")
    # Entering it again repairs the connection under the new key.
    response = post_form(
        client, "/connections/acme-clickup/edit", data | {"token": TOKEN}, follow_redirects=True
    )
    html = page_text(response)
    assert response.request.path == "/connections/" and "broken" not in html
    (row,) = connections(app)
    assert app.extensions["pm_vault"].decrypt(row.credentials_encrypted)["token"] == TOKEN
