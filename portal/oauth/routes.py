"""The authorization server's endpoints: metadata, the consent page, token, registration, revocation."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.base import OAuth2Error
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal.core.models import OAuthClient
from portal.core.oauth import clients as client_service
from portal.core.oauth.grants import GRANT_DURATIONS, WRITE_SCOPE, Consent
from portal.core.services.connections import list_connections
from portal.extensions import csrf, db

from .forms import ConsentForm
from .server import flask_request_address, server_metadata

bp = Blueprint("oauth", __name__)

# Endpoints a client calls from code, never with a browser's cookies: open to any origin, no CSRF token.
MACHINE_ENDPOINTS = ("oauth.token", "oauth.register", "oauth.revoke", "oauth.metadata")


def _server():
    return current_app.extensions["pm_oauth_server"]


def _settings():
    return current_app.extensions["pm_settings"]


@bp.after_app_request
def _cors(response: Response) -> Response:
    if request.endpoint in MACHINE_ENDPOINTS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, MCP-Protocol-Version"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


@bp.get("/.well-known/oauth-authorization-server")
def metadata():
    """RFC 8414 authorization server metadata."""
    response = jsonify(dict(server_metadata()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/oauth/token", methods=["POST", "OPTIONS"])
@csrf.exempt
def token():
    if request.method == "OPTIONS":
        return Response(status=204)
    return _server().create_token_response()


@bp.route("/oauth/revoke", methods=["POST", "OPTIONS"])
@csrf.exempt
def revoke():
    if request.method == "OPTIONS":
        return Response(status=204)
    return _server().create_endpoint_response("revocation")


@bp.route("/oauth/register", methods=["POST", "OPTIONS"])
@csrf.exempt
def register():
    """RFC 7591 dynamic registration, limited per address; unapproved registrations expire."""
    if request.method == "OPTIONS":
        return Response(status=204)
    if not request.is_json or not isinstance(request.get_json(silent=True), dict):
        return _json_error(
            400,
            "invalid_client_metadata",
            "Send the client metadata as a JSON object (Content-Type: application/json).",
        )
    settings = _settings()
    if not client_service.registration_allowed(
        db.session, flask_request_address(), settings.oauth_registrations_per_hour
    ):
        response = _json_error(
            429,
            "too_many_requests",
            f"At most {settings.oauth_registrations_per_hour} client registrations an hour from one address; "
            "try again later, or reuse the client you registered.",
        )
        response.headers["Retry-After"] = "3600"
        return response
    return _server().create_endpoint_response("client_registration")


def _json_error(status: int, error: str, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the consent page ------------------------------------------------------------------------------


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    """Sign in, then see who is asking and choose what it may do; the client gets a code or a refusal."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    server = _server()
    try:
        grant = server.get_consent_grant(end_user=current_user.model)
    except OAuth2Error as error:
        if error.redirect_uri:  # the redirect URI is verified: the client hears of the problem
            return _with_issuer(server.handle_error_response(None, error))
        return render_template("oauth/error.html", error=error), 400
    client: OAuthClient = grant.client.row
    views = list_connections(db.session, current_user.id, _settings().public_portal_url)
    form = ConsentForm()
    form.offer_connections(views)
    may_write = WRITE_SCOPE in (grant.request.scope or "").split()
    if not may_write:
        form.access.choices = form.access.choices[:1]
    redirect_uri = grant.redirect_uri
    if request.method == "POST":
        if request.form.get("decision") == "deny":
            return server.create_authorization_response(grant=grant, grant_user=None)
        if form.validate_on_submit():
            connection_ids = form.chosen_connection_ids()
            toolsets = form.chosen_toolsets()
            if connection_ids != [] and toolsets is not None:
                grant.request.pm_consent = Consent(
                    read_only=form.access.data != "write" or not may_write,
                    connection_ids=connection_ids,
                    grant_days=GRANT_DURATIONS[form.duration.data][0],
                    toolsets=toolsets,
                )
                return server.create_authorization_response(grant=grant, grant_user=current_user.model)
    response = Response(
        render_template(
            "oauth/consent.html",
            form=form,
            client=client,
            redirect_uri=redirect_uri,
            redirect_host=_host_of(redirect_uri),
            loopback_only=all(_is_loopback_uri(uri) for uri in client.redirect_uris),
            may_write=may_write,
        ),
        status=200 if request.method == "GET" else 400,
    )
    response.headers["Content-Security-Policy"] = _consent_policy(client, redirect_uri)
    return response


def _with_issuer(response: Response) -> Response:
    """RFC 9207: error redirects name this server too."""
    if response.location:
        response.location = add_params_to_uri(response.location, {"iss": _settings().public_portal_url})
    return response


def _host_of(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}:"


def _is_loopback_uri(uri: str) -> bool:
    host = urlsplit(uri).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _consent_policy(client: OAuthClient, redirect_uri: str) -> str:
    """The page's CSP: the form may lead to the client's redirect URI, and a verified logo may load."""
    parts = urlsplit(redirect_uri)
    target = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    images = "'self' data:"
    if client.logo_uri:
        logo = urlsplit(client.logo_uri)
        images += f" https://{logo.netloc}"
    return (
        f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'none'; form-action 'self' {target}"
    )
