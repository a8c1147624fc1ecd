"""The keys page (connection limits on keys, apps signed in with OAuth), `create-key --connections`, and the
administrators' page of pre-registered OAuth clients."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.core.models import McpApiKey, OAuthClient, OAuthGrant, ProviderConnection, User
from portal.core.oauth.grants import digest
from portal.extensions import db
from tests.conftest import post_form

from .test_authorization_server import exchange, get_code, register


def add_row(app, user_id: int, slug: str) -> int:
    """A connection row as the portal stores one (the vendor check is not what these tests are about)."""
    with app.app_context():
        row = ProviderConnection(
            user_id=user_id,
            slug=slug,
            name=f"{slug} tracker",
            provider_type="jira",
            base_url=f"https://{slug}.example",
            username="ana@example.com",
            credentials_encrypted=app.extensions["pm_vault"].encrypt({"token": "secret-token-1234"}),
            token_hint="1234",
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_a_key_restricted_to_some_connections(app, client, auth):
    user_id = auth.create_user()
    auth.login()
    jira_id = add_row(app, user_id, "acme-jira")
    add_row(app, user_id, "other")
    page = client.get("/keys/").get_data(as_text=True)
    assert "acme-jira" in page and "Only the ones ticked below" in page
    response = post_form(
        client,
        "/keys/",
        {
            "name": "jira only",
            "client": "cursor",
            "expires": "30",
            "connections_mode": "some",
            "connection_ids": [str(jira_id), "0"],
            "toolsets": ["tasks"],
        },
    )
    assert response.status_code == 200 and "mcp_" in response.get_data(as_text=True)
    with app.app_context():
        key = db.session.scalar(select(McpApiKey).where(McpApiKey.name == "jira only"))
        assert key.connection_ids == [0, jira_id]
    listing = client.get("/keys/").get_data(as_text=True)
    assert re.search(r"<td>acme-jira, local</td>", listing)


def test_a_subset_with_nothing_ticked_is_refused(app, client, auth):
    auth.create_user()
    auth.login()
    response = post_form(
        client, "/keys/", {"name": "x", "client": "cursor", "expires": "30", "connections_mode": "some"}
    )
    assert "Tick at least one connection" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(McpApiKey)) is None


def test_create_key_with_connections_from_the_command_line(app, runner, auth):
    user_id = auth.create_user()
    jira_id = add_row(app, user_id, "acme-jira")
    result = runner.invoke(
        args=["create-key", "ana@example.com", "--name", "cli", "--connections", "acme-jira,local"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(McpApiKey)).connection_ids == [0, jira_id]
    bad = runner.invoke(args=["create-key", "ana@example.com", "--name", "cli2", "--connections", "nope"])
    assert bad.exit_code != 0
    assert "No connection 'nope'" in bad.output and "acme-jira, local" in bad.output


def test_apps_signed_in_with_oauth_are_listed_and_revoked(app, client, auth):
    auth.create_user()
    auth.login()
    client_id = register(client, client_name="Claude test").get_json()["client_id"]
    code, verifier = get_code(client, client_id, access="read", duration="90")
    assert exchange(client, client_id, code, verifier).status_code == 200
    page = client.get("/keys/").get_data(as_text=True)
    assert "Apps signed in with OAuth" in page and "Claude test" in page and "read-only" in page
    with app.app_context():
        grant_id = db.session.scalar(select(OAuthGrant.id))
    response = post_form(
        client, f"/keys/grants/{grant_id}/revoke", {"confirmed": "yes"}, page="/keys/", follow_redirects=True
    )
    assert "Claude test is signed out" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(OAuthGrant, grant_id).revoked_reason == "user"
    # Another user's grant is not found.
    auth.logout()
    auth.create_user("bo@example.com", name="Bo")
    auth.login("bo@example.com")
    assert (
        post_form(client, f"/keys/grants/{grant_id}/revoke", {"confirmed": "yes"}, page="/keys/").status_code
        == 404
    )


def test_snippets_for_clients_that_sign_in_with_oauth(client, auth):
    auth.create_user()
    auth.login()
    page = client.get("/keys/").get_data(as_text=True)
    assert "claude mcp add --transport http pm-server http://127.0.0.1:8080/mcp" in page
    assert (
        "&#34;url&#34;: &#34;http://127.0.0.1:8080/mcp&#34;" in page
        and "X-MCP-API-Key" not in page.split("oauth-grants")[1]
    )


def test_administrators_add_and_remove_preregistered_clients(app, client, auth):
    auth.create_user(is_admin=True)
    auth.login()
    bad = post_form(
        client, "/admin/oauth-clients", {"client_name": "Chat", "redirect_uris": "http://chat.example/cb"}
    )
    assert "only loopback addresses" in bad.get_data(as_text=True)
    response = post_form(
        client,
        "/admin/oauth-clients",
        {"client_name": "Team chat", "redirect_uris": "https://chat.example/cb\n", "confidential": "y"},
    )
    html = response.get_data(as_text=True)
    secret = re.search(r'id="client-secret">([^<]+)<', html).group(1)
    with app.app_context():
        row = db.session.scalar(select(OAuthClient))
        assert row.kind == "preregistered" and row.client_secret_hash == digest(secret)
        assert row.redirect_uris == ["https://chat.example/cb"]
        assert secret not in str(vars(row))
    listing = client.get("/admin/oauth-clients").get_data(as_text=True)
    assert "Team chat" in listing and "Added by an administrator" in listing
    asked = post_form(client, f"/admin/oauth-clients/{row.id}/delete", {}, page="/admin/oauth-clients")
    assert "Remove the OAuth client Team chat?" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(OAuthClient)) is not None  # nothing removed until confirmed
    removed = post_form(
        client,
        f"/admin/oauth-clients/{row.id}/delete",
        {"confirmed": "yes"},
        page="/admin/oauth-clients",
        follow_redirects=True,
    )
    assert "Team chat is removed" in removed.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(OAuthClient)) is None


def test_members_do_not_see_the_clients_page(client, auth, app):
    auth.create_user()
    with app.app_context():
        db.session.execute(__import__("sqlalchemy").update(User).values(is_admin=False))
        db.session.commit()
    auth.login()
    assert client.get("/admin/oauth-clients").status_code == 404


def test_the_consent_page_offers_toolsets_and_the_grant_keeps_them(app, client, auth):
    auth.create_user()
    auth.login()
    client_id = register(client, client_name="Toolset test").get_json()["client_id"]
    code, verifier = get_code(client, client_id, toolsets=["analytics", "work"])
    assert exchange(client, client_id, code, verifier).status_code == 200
    with app.app_context():
        grant = db.session.scalar(select(OAuthGrant))
        assert grant.toolsets == ["work", "analytics"]
    page = client.get("/keys/").get_data(as_text=True)
    assert re.search(r"work, analytics: \d+ tools, about [\d,]+ tokens", page)


def test_the_consent_page_refuses_no_toolset(app, client, auth):
    from .test_authorization_server import authorize_url, consent, pkce_pair

    auth.create_user()
    auth.login()
    client_id = register(client, client_name="Empty").get_json()["client_id"]
    _, challenge = pkce_pair()
    response, html = consent(client, authorize_url(client_id, challenge), toolsets=[])
    assert 'name="toolsets"' in html and "bulk" in html
    assert response.status_code == 400 and "Tick at least one toolset." in response.get_data(as_text=True)
