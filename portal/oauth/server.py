"""The portal's OAuth 2.1 authorization server: Authlib's protocol machinery over our storage.

Taken from Authlib (its Flask OAuth 2.0 server): request parsing and parameter
checks, client authentication (none, client_secret_basic, client_secret_post),
the authorization code grant and its redirect and error responses, the refresh
token grant's checks, PKCE verification (RFC 7636), RFC 7009 revocation, RFC
7591 metadata validation, RFC 8414 metadata and the RFC 9207 `iss` parameter.

Ours (in `portal.core.oauth`): storage of hashed codes, tokens and secrets,
grants carrying the consent page's limits, refresh token rotation with reuse
detection, RFC 8707 resource binding, client metadata documents, registration
limits and expiry. The classes below adapt one to the other.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskJsonPayload, FlaskOAuth2Payload
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, JsonRequest, OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591.errors import InvalidClientMetadataError, InvalidRedirectURIError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import current_app, request

from portal.core.models import OAuthAuthorizationCode, OAuthClient, OAuthToken
from portal.core.oauth import clients as client_service
from portal.core.oauth import grants as grant_service
from portal.core.oauth.metadata_document import ClientMetadataError, fetch_client_metadata
from portal.extensions import db

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def describe(text: str) -> str:
    """A message as an OAuth error_description may carry it (a restricted ASCII set)."""
    text = text.replace('"', "'").replace("\\", "/")
    return "".join(c if 0x20 <= ord(c) <= 0x7E else "?" for c in text)[:500]


class InvalidTargetError(OAuth2Error):
    """RFC 8707: the resource asked for is not one this server issues tokens for."""

    error = "invalid_target"


def settings():
    return current_app.extensions["pm_settings"]


# --- our rows as Authlib sees them ------------------------------------------------------------


class Client(ClientMixin):
    def __init__(self, row: OAuthClient):
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous single registration may be implied (OAuth 2.1).
        return self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return grant_service.normalize_scope(scope)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact match, as registered

    def check_client_secret(self, client_secret: str) -> bool:
        return client_service.check_client_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class AuthorizationCode:
    def __init__(self, row: OAuthAuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class Token:
    """A stored token for the revocation and refresh endpoints."""

    def __init__(self, kind: str, row: OAuthToken):
        self.kind = kind
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.grant.client_pk == client.row.id

    def get_scope(self) -> str:
        return self.row.grant.scope


# --- grants ---------------------------------------------------------------------------------------


def _check_token_resource(request: OAuth2Request, bound: str) -> None:
    """A token request may name the resource again; it must be the one the grant is bound to."""
    asked = request.payload.datalist.get("resource", [])
    if not asked:
        return
    try:
        resource = grant_service.resource_of_request(asked, settings().public_mcp_url)
    except grant_service.GrantError as exc:
        raise InvalidTargetError(describe(exc.message)) from None
    if resource != bound:
        raise InvalidTargetError(describe(f"These tokens are bound to {bound}, not to {asked[0][:200]}."))


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        try:
            self.request.pm_resource = grant_service.resource_of_request(
                self.request.payload.datalist.get("resource", []), settings().public_mcp_url
            )
        except grant_service.GrantError as exc:
            raise InvalidTargetError(
                describe(exc.message), redirect_uri=redirect_uri, state=self.request.payload.state
            ) from None
        return redirect_uri

    def generate_authorization_code(self) -> str:
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        consent: grant_service.Consent = request.pm_consent
        grant_service.issue_code(
            db.session,
            code,
            client=request.client.row,
            user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            resource=request.pm_resource,
            code_challenge=request.payload.data["code_challenge"],
            code_challenge_method=request.payload.data["code_challenge_method"],
            consent=consent,
        )
        db.session.commit()

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        row = grant_service.find_code(db.session, code, client.row)
        return AuthorizationCode(row) if row is not None else None

    def validate_token_request(self):
        super().validate_token_request()
        _check_token_resource(self.request, self.request.authorization_code.row.resource)

    def create_token_response(self):
        client: Client = self.request.client
        code: AuthorizationCode = self.request.authorization_code
        try:
            issued = grant_service.redeem_code(
                db.session,
                code.row,
                with_refresh_token=client.check_grant_type("refresh_token"),
                access_seconds=settings().oauth_access_token_seconds,
            )
        except grant_service.GrantError as exc:
            db.session.commit()  # a reused code revokes what it gave: keep that
            raise InvalidGrantError(describe(exc.message)) from None
        db.session.commit()
        return 200, token_body(issued), self.TOKEN_RESPONSE_HEADER

    def authenticate_user(self, authorization_code):  # pragma: no cover - create_token_response is ours
        raise NotImplementedError


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = grant_service.find_refresh_token(db.session, refresh_token)
        return Token("refresh_token", row) if row is not None else None

    def validate_token_request(self):
        super().validate_token_request()
        _check_token_resource(self.request, self.request.refresh_token.row.grant.resource)

    def create_token_response(self):
        token: Token = self.request.refresh_token
        try:
            issued = grant_service.rotate_refresh_token(
                db.session, token.row, access_seconds=settings().oauth_access_token_seconds
            )
        except grant_service.GrantError as exc:
            db.session.commit()  # a reused refresh token revokes the grant: keep that
            raise InvalidGrantError(describe(exc.message)) from None
        db.session.commit()
        return 200, token_body(issued), self.TOKEN_RESPONSE_HEADER

    def authenticate_user(self, refresh_token):  # pragma: no cover - create_token_response is ours
        raise NotImplementedError


def token_body(issued: grant_service.IssuedTokens) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body


class S256Only(CodeChallenge):
    """PKCE required on every authorization request, with S256; `plain` is refused (OAuth 2.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge and code_challenge_method=S256.",
                redirect_uri=redirect_uri,
                state=grant.request.payload.state,
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is accepted; plain is refused.",
                redirect_uri=redirect_uri,
                state=grant.request.payload.state,
            )
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier': PKCE is required.")
        super().validate_code_verifier(grant, result)


# --- endpoints ----------------------------------------------------------------------------------


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        found = grant_service.find_token(db.session, token_string, token_type_hint)
        return Token(*found) if found else None

    def revoke_token(self, token: Token, request) -> None:
        if token.kind == "refresh_token":
            grant_service.revoke_grant(db.session, token.row.grant, reason="client")
        else:
            grant_service.revoke_access_token(db.session, token.row)
        db.session.commit()


class Registration(ClientRegistrationEndpoint):
    """RFC 7591, open to anyone: Authlib checks the metadata's form; ours the rules and the storage."""

    def authenticate_token(self, request):
        return True  # open registration, limited per address by the route

    def get_server_metadata(self) -> dict[str, Any]:
        return dict(server_metadata())

    def create_registration_response(self, request):
        try:
            # Our redirect URI rules first: their messages say what to change.
            client_service.check_redirect_uris(request.payload.data.get("redirect_uris"))
            metadata = self.extract_client_metadata(request)
            client_service.expire_unused_registrations(
                db.session, timedelta(hours=settings().oauth_unused_client_hours)
            )
            registered = client_service.register_client(db.session, metadata, address=flask_request_address())
        except client_service.ClientError as exc:
            db.session.rollback()
            if exc.error == "invalid_redirect_uri":
                raise InvalidRedirectURIError(describe(exc.message)) from None
            raise InvalidClientMetadataError(describe(exc.message)) from None
        db.session.commit()
        row = registered.client
        body: dict[str, Any] = {
            "client_id": row.client_id,
            "client_id_issued_at": int(row.created_at.timestamp()),
            "client_name": row.client_name,
            "redirect_uris": row.redirect_uris,
            "grant_types": row.grant_types,
            "response_types": ["code"],
            "token_endpoint_auth_method": row.token_endpoint_auth_method,
        }
        if row.scope:
            body["scope"] = row.scope
        if row.client_uri:
            body["client_uri"] = row.client_uri
        if registered.client_secret:
            body["client_secret"] = registered.client_secret
            body["client_secret_expires_at"] = 0
        return 201, body, default_json_headers


class Issuer(IssuerParameter):
    def get_issuer(self) -> str:
        return settings().public_portal_url


class PortalAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server, told our public URL (it may sit behind a proxy) and our client lookup."""

    def query_client(self, client_id: str) -> Client | None:
        policy = current_app.extensions["pm_http_policy"]
        try:
            row = client_service.find_client(
                db.session,
                client_id,
                fetch=lambda url: fetch_client_metadata(url, policy),
                unused_registration_age=timedelta(hours=settings().oauth_unused_client_hours),
            )
        except ClientMetadataError as exc:
            db.session.rollback()
            raise InvalidClientError(describe(exc.message)) from None
        db.session.commit()  # a fetched document is cached
        return Client(row) if row is not None else None

    def save_token(self, token, request):  # pragma: no cover - the grants store their own tokens
        raise NotImplementedError

    def create_oauth2_request(self, req) -> OAuth2Request:
        return _PublicRequest(request)

    def create_json_request(self, req) -> JsonRequest:
        json_request = JsonRequest(request.method, _public_url(), request.headers)
        json_request.payload = FlaskJsonPayload(request)
        return json_request


def flask_request_address() -> str:
    return request.remote_addr or "unknown"


def _public_url() -> str:
    return settings().public_portal_url + request.full_path.rstrip("?")


class _PublicRequest(OAuth2Request):
    def __init__(self, flask_request):
        super().__init__(method=flask_request.method, uri=_public_url(), headers=flask_request.headers)
        self._request = flask_request
        self.payload = FlaskOAuth2Payload(flask_request)

    @property
    def args(self):
        return self._request.args

    @property
    def form(self):
        return self._request.form


def server_metadata() -> AuthorizationServerMetadata:
    """RFC 8414 metadata, with the members MCP clients look for (CIMD support, PKCE, RFC 9207)."""
    base = settings().public_portal_url
    return AuthorizationServerMetadata(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "registration_endpoint": f"{base}/oauth/register",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "scopes_supported": list(grant_service.SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "code_challenge_methods_supported": ["S256"],
            "client_id_metadata_document_supported": True,
            "authorization_response_iss_parameter_supported": True,
            "service_documentation": f"{base}/keys",
        }
    )


def create_server(app) -> PortalAuthorizationServer:
    server = PortalAuthorizationServer()
    server.init_app(app)
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Registration)
    server.register_extension(Issuer())
    return server
