"""The portal as an OAuth 2.1 authorization server, in-process: metadata, registration, the consent page,
the token endpoint and every refusal the issue lists that needs no worker."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from portal.core.models import (
    AuditEvent,
    OAuthAuthorizationCode,
    OAuthClient,
    OAuthGrant,
    OAuthToken,
    utcnow,
)
from portal.core.oauth.grants import digest
from portal.core.toolsets import DEFAULT_TOOLSETS
from portal.extensions import db

from .flow import REDIRECT_URI, connection_values, form_token, pkce_pair, query_of

RESOURCE = "http://127.0.0.1:8080/mcp"


def register(client, **overrides):
    body = {
        "client_name": "Test Client",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }
    return client.post("/oauth/register", json=body)


def authorize_url(client_id: str, challenge: str, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": RESOURCE,
        "scope": "pm:read pm:write",
        **extra,
    }
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def consent(client, url: str, **choices):
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    data = {
        "csrf_token": form_token(html),
        "decision": "allow",
        "connections_mode": "all",
        "toolsets": sorted(DEFAULT_TOOLSETS),
        "access": "write",
        "duration": "30",
        **choices,
    }
    return client.post(url, data=data), html


def exchange(client, client_id: str, code: str, verifier: str, **extra):
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": client_id,
            "code_verifier": verifier,
            "resource": RESOURCE,
            **extra,
        },
    )


@pytest.fixture
def signed_in(client, auth):
    auth.create_user()
    auth.login()
    return client


@pytest.fixture
def registered(signed_in):
    response = register(signed_in)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["client_id"]


def get_code(client, client_id, **choices) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    response, _ = consent(client, authorize_url(client_id, challenge), **choices)
    assert response.status_code == 302, response.get_data(as_text=True)
    query = query_of(response.location)
    assert query["state"] == "st4te" and query["iss"] == "http://127.0.0.1:5000"
    return query["code"], verifier


def test_metadata_names_what_mcp_clients_look_for(client):
    body = client.get("/.well-known/oauth-authorization-server").get_json()
    assert body["issuer"] == "http://127.0.0.1:5000"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["client_id_metadata_document_supported"] is True
    assert body["registration_endpoint"].endswith("/oauth/register")
    assert body["revocation_endpoint"].endswith("/oauth/revoke")


def test_code_flow_tokens_are_stored_only_as_digests(app, signed_in, registered):
    code, verifier = get_code(signed_in, registered, connections_mode="all", access="read", duration="1")
    response = exchange(signed_in, registered, code, verifier)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600
    assert body["scope"] == "pm:read" and body["refresh_token"]
    with app.app_context():
        grant = db.session.scalar(select(OAuthGrant))
        assert grant.read_only and grant.connection_ids is None
        assert timedelta(hours=23) < grant.expires_at - grant.created_at <= timedelta(days=1)
        token = db.session.scalar(select(OAuthToken))
        assert token.access_token_hash == digest(body["access_token"])
        assert token.refresh_token_hash == digest(body["refresh_token"])
        stored = " ".join(
            str(v)
            for table in (OAuthToken, OAuthAuthorizationCode, OAuthGrant, OAuthClient)
            for row in db.session.scalars(select(table))
            for v in vars(row).values()
        )
        for secret in (body["access_token"], body["refresh_token"], code):
            assert secret not in stored
        kinds = [
            e.kind for e in db.session.scalars(select(AuditEvent).where(AuditEvent.grant_id == grant.id))
        ]
        assert kinds == ["oauth_granted"]


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_grant(app, signed_in, registered):
    code, verifier = get_code(signed_in, registered)
    first = exchange(signed_in, registered, code, verifier).get_json()
    refresh = {"grant_type": "refresh_token", "client_id": registered, "resource": RESOURCE}
    second = signed_in.post("/oauth/token", data={**refresh, "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.get_json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    replay = signed_in.post("/oauth/token", data={**refresh, "refresh_token": first["refresh_token"]})
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert "already used" in replay.get_json()["error_description"]
    with app.app_context():
        grant = db.session.scalar(select(OAuthGrant))
        assert grant.revoked_at is not None and grant.revoked_reason == "refresh_token_reused"
    # The newest refresh token dies with the grant.
    after = signed_in.post("/oauth/token", data={**refresh, "refresh_token": rotated["refresh_token"]})
    assert after.status_code == 400 and "revoked" in after.get_json()["error_description"]


def test_wrong_pkce_verifier_is_refused(signed_in, registered):
    code, _verifier = get_code(signed_in, registered)
    other_verifier, _ = pkce_pair()
    response = exchange(signed_in, registered, code, other_verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_a_reused_code_is_refused_and_revokes_what_it_gave(app, signed_in, registered):
    code, verifier = get_code(signed_in, registered)
    assert exchange(signed_in, registered, code, verifier).status_code == 200
    again = exchange(signed_in, registered, code, verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert "already used" in again.get_json()["error_description"]
    with app.app_context():
        assert db.session.scalar(select(OAuthGrant)).revoked_reason == "code_reused"


def test_an_expired_code_is_refused(app, signed_in, registered):
    code, verifier = get_code(signed_in, registered)
    with app.app_context():
        db.session.execute(update(OAuthAuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = exchange(signed_in, registered, code, verifier)
    assert response.status_code == 400 and "expired" in response.get_json()["error_description"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"code_challenge_method": "plain"}, "plain is refused"),
        ({"code_challenge": None, "code_challenge_method": None}, "PKCE is required"),
        ({"resource": "https://other.example/mcp"}, "not for"),
    ],
)
def test_refusals_after_the_redirect_uri_is_verified_go_back_to_the_client(
    signed_in, registered, extra, expected
):
    _, challenge = pkce_pair()
    response = signed_in.get(authorize_url(registered, challenge, **extra))
    assert response.status_code == 302
    query = query_of(response.location)
    assert response.location.startswith(REDIRECT_URI)
    assert query["error"] in ("invalid_request", "invalid_target") and expected in query["error_description"]
    assert query["state"] == "st4te" and query["iss"] == "http://127.0.0.1:5000"


def test_resource_for_another_server_at_the_token_endpoint_is_refused(signed_in, registered):
    code, verifier = get_code(signed_in, registered)
    response = exchange(signed_in, registered, code, verifier, resource="https://other.example/mcp")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_target"


def test_an_unregistered_redirect_uri_is_never_redirected_to(signed_in, registered):
    _, challenge = pkce_pair()
    response = signed_in.get(authorize_url(registered, challenge, redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "https://evil.example/cb is not supported by client" in html and "evil.example/cb?" not in html


def test_unknown_client_is_an_error_page(signed_in):
    _, challenge = pkce_pair()
    response = signed_in.get(authorize_url("pmc_nobody", challenge))
    assert response.status_code == 400 and "does not exist" in response.get_data(as_text=True)


def test_sign_in_comes_first_and_returns_to_the_consent_page(client, auth, registered):
    auth.logout()
    _, challenge = pkce_pair()
    url = authorize_url(registered, challenge)
    response = client.get(url)
    assert response.status_code == 302 and "/login?next=" in response.location
    signed = auth.login(next_url=__import__("urllib.parse").parse.quote(url, safe=""))
    assert signed.status_code == 302 and signed.location.endswith(url)


def test_consent_page_shows_the_client_and_offers_the_limits(signed_in, registered):
    _, challenge = pkce_pair()
    html = signed_in.get(authorize_url(registered, challenge)).get_data(as_text=True)
    assert "Test Client" in html and "127.0.0.1:43123" in html
    assert "This app registered itself" in html
    assert connection_values(html) == {"local": "0"}
    for label in ("1 day", "30 days", "90 days", "Until I revoke it", "Read only", "Read and write"):
        assert label in html


def test_a_client_that_asked_for_read_only_cannot_be_given_write(app, signed_in, registered):
    verifier, challenge = pkce_pair()
    url = authorize_url(registered, challenge, scope="pm:read")
    response, html = consent(signed_in, url, access="write")
    assert "Read and write" not in html
    assert response.status_code == 400  # "write" is not a choice offered
    response, _ = consent(signed_in, url, access="read")
    code = query_of(response.location)["code"]
    assert exchange(signed_in, registered, code, verifier).get_json()["scope"] == "pm:read"


def test_consent_needs_its_csrf_token(signed_in, registered):
    _, challenge = pkce_pair()
    url = authorize_url(registered, challenge)
    response = signed_in.post(
        url,
        data={
            "decision": "allow",
            "connections_mode": "all",
            "toolsets": ["tasks"],
            "access": "read",
            "duration": "1",
        },
    )
    assert response.status_code == 400
    assert "expired or was sent from another site" in response.get_data(as_text=True)


def test_deny_sends_access_denied(signed_in, registered):
    _, challenge = pkce_pair()
    response, _ = consent(signed_in, authorize_url(registered, challenge), decision="deny")
    assert response.status_code == 302 and query_of(response.location)["error"] == "access_denied"


def test_a_subset_needs_a_ticked_connection(signed_in, registered):
    _, challenge = pkce_pair()
    response, _ = consent(signed_in, authorize_url(registered, challenge), connections_mode="some")
    assert response.status_code == 400 and "Tick at least one connection" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("uris", "expected"),
    [
        (["http://example.com/cb"], "only loopback addresses"),
        (["https://example.com/cb#frag"], "fragment"),
        (["javascript://alert(1)"], "scheme"),
        ([], "redirect_uris"),
    ],
)
def test_registration_refuses_bad_redirect_uris(client, uris, expected):
    response = register(client, redirect_uris=uris)
    assert response.status_code == 400
    assert response.get_json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")
    assert expected in response.get_json()["error_description"]


def test_registration_of_a_confidential_client_returns_its_secret_once(app, client):
    response = register(client, token_endpoint_auth_method="client_secret_basic")
    body = response.get_json()
    assert response.status_code == 201 and body["client_secret"].startswith("pmcs_")
    with app.app_context():
        row = db.session.scalar(select(OAuthClient))
        assert row.client_secret_hash == digest(body["client_secret"])


def test_registration_is_limited_per_address(app, client):
    app.extensions["pm_settings"] = __import__("dataclasses").replace(
        app.extensions["pm_settings"], oauth_registrations_per_hour=2
    )
    assert register(client).status_code == 201
    assert register(client).status_code == 201
    third = register(client)
    assert third.status_code == 429 and third.headers["Retry-After"]
    assert "registrations an hour" in third.get_json()["error_description"]


def test_unused_registrations_expire(app, signed_in):
    old = register(signed_in).get_json()["client_id"]
    with app.app_context():
        db.session.execute(update(OAuthClient).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    _, challenge = pkce_pair()
    assert signed_in.get(authorize_url(old, challenge)).status_code == 400  # unknown now
    register(signed_in)  # a registration sweeps expired ones away
    with app.app_context():
        assert db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == old)) is None


def test_revocation_endpoint_revokes_the_grant_with_a_refresh_token(app, signed_in, registered):
    code, verifier = get_code(signed_in, registered)
    tokens = exchange(signed_in, registered, code, verifier).get_json()
    response = signed_in.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": registered}
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(OAuthGrant)).revoked_reason == "client"
    # An unknown token is not an error (RFC 7009).
    assert signed_in.post("/oauth/revoke", data={"token": "nope", "client_id": registered}).status_code == 200
