"""Who may ask for a grant: redirect URI rules and the three ways a client becomes known.

1. A Client ID Metadata Document: the client_id is an https URL whose JSON
   document describes the client; fetched (SSRF-guarded), checked and cached.
2. Dynamic registration (RFC 7591): anyone may register, so registrations are
   limited per address and expire when no user approves them.
3. Pre-registered clients, added by an administrator in the portal.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from portal.core.errors import UserFacingError

from ..models import OAuthClient, OAuthGrant, User, utcnow
from .grants import digest, revoke_grant
from .metadata_document import ClientMetadataError, FetchedDocument, is_metadata_document_url

GRANT_TYPES = ("authorization_code", "refresh_token")
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
REGISTRATION_WINDOW = timedelta(hours=1)
# Schemes a redirect URI may never use, even as a native app's private-use scheme.
FORBIDDEN_SCHEMES = frozenset(
    {
        "javascript",
        "data",
        "vbscript",
        "file",
        "about",
        "blob",
        "filesystem",
        "ftp",
        "ws",
        "wss",
        "mailto",
        "tel",
    }
)
DEFAULT_CLIENT_NAME = "An app that gave no name"


class ClientError(UserFacingError):
    """A registration or client that can't be accepted; `error` (also its `error_class`) is the OAuth error code."""

    def __init__(self, error: str, message: str, *, status: int = 400):
        super().__init__(message, error_class=error)
        self.error = error
        self.status = status


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: str) -> str | None:
    """None when `uri` may be registered as a redirect URI, else why not.

    https anywhere; http only to a loopback address (a native app listening on this machine);
    a native app's private-use scheme (RFC 8252 §7.1, such as `cursor://...`) is accepted too.
    No fragments, no credentials in the URL.
    """
    if not isinstance(uri, str) or not uri.strip() or len(uri) > 500:
        return "A redirect URI must be a URL of at most 500 characters."
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return f"{uri!r} is not a valid URL."
    scheme = parts.scheme.lower()
    if parts.fragment or "#" in uri:
        return f"{uri!r} has a fragment; redirect URIs may not."
    if parts.username or parts.password:
        return f"{uri!r} carries credentials; redirect URIs may not."
    if scheme == "https":
        return None if parts.hostname else f"{uri!r} names no host."
    if scheme == "http":
        if parts.hostname and _is_loopback(parts.hostname):
            return None
        return (
            f"{uri!r} uses plain http: only loopback addresses (127.0.0.1, [::1], localhost) may; use https."
        )
    if (
        not scheme
        or scheme in FORBIDDEN_SCHEMES
        or not scheme.replace("-", "").replace(".", "").replace("+", "").isalnum()
    ):
        return f"{uri!r} uses a scheme redirect URIs may not use; use https, or http to a loopback address."
    return None


def check_redirect_uris(uris: Any) -> list[str]:
    """The list of redirect URIs, each checked; ClientError("invalid_redirect_uri") otherwise."""
    if not isinstance(uris, list) or not uris or len(uris) > 10:
        raise ClientError("invalid_redirect_uri", "Give between 1 and 10 redirect_uris.")
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise ClientError("invalid_redirect_uri", problem)
    return [str(uri) for uri in uris]


def _name(value: Any) -> str:
    name = " ".join(str(value or "").split())[:120]
    return name or DEFAULT_CLIENT_NAME


def _grant_types(value: Any) -> list[str]:
    types = value if value is not None else ["authorization_code"]
    if not isinstance(types, list) or not set(types) <= set(GRANT_TYPES) or "authorization_code" not in types:
        raise ClientError(
            "invalid_client_metadata",
            "grant_types must include authorization_code and may add refresh_token; no other grant is offered.",
        )
    return [t for t in GRANT_TYPES if t in types]


def _https_or_none(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("https://") and len(value) <= 500:
        return value
    return None


# --- dynamic registration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    client: OAuthClient
    client_secret: str | None  # shown to the registrant once, stored only as a digest


def expire_unused_registrations(session: Session, max_age: timedelta, now: datetime | None = None) -> int:
    """Delete self-registered clients no user approved within `max_age`; return how many."""
    now = now or utcnow()
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # DML answers a CursorResult
        delete(OAuthClient).where(
            OAuthClient.kind == "registered",
            OAuthClient.first_used_at.is_(None),
            OAuthClient.created_at < now - max_age,
        )
    )
    return result.rowcount or 0


def registration_allowed(session: Session, address: str, limit: int, now: datetime | None = None) -> bool:
    """Whether `address` may register another client (at most `limit` an hour)."""
    now = now or utcnow()
    recent = session.scalar(
        select(func.count())
        .select_from(OAuthClient)
        .where(
            OAuthClient.kind == "registered",
            OAuthClient.registered_ip == address,
            OAuthClient.created_at > now - REGISTRATION_WINDOW,
        )
    )
    return (recent or 0) < limit


def register_client(
    session: Session, metadata: dict[str, Any], *, address: str, now: datetime | None = None
) -> Registered:
    """Register a client from RFC 7591 metadata already validated for form (URLs, types)."""
    now = now or utcnow()
    redirect_uris = check_redirect_uris(metadata.get("redirect_uris"))
    response_types = metadata.get("response_types") or ["code"]
    if response_types != ["code"]:
        raise ClientError("invalid_client_metadata", 'response_types may only be ["code"].')
    method = metadata.get("token_endpoint_auth_method") or "client_secret_basic"
    if method not in AUTH_METHODS:
        raise ClientError(
            "invalid_client_metadata",
            f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}.",
        )
    secret = None if method == "none" else "pmcs_" + secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id="pmc_" + secrets.token_urlsafe(18),
        kind="registered",
        client_name=_name(metadata.get("client_name")),
        client_uri=_https_or_none(metadata.get("client_uri")),
        logo_uri=None,  # a self-registered client's logo is not verified: never shown
        redirect_uris=redirect_uris,
        grant_types=_grant_types(metadata.get("grant_types")),
        token_endpoint_auth_method=method,
        client_secret_hash=digest(secret) if secret else None,
        scope=metadata.get("scope") if isinstance(metadata.get("scope"), str) else None,
        registered_ip=address[:64],
        created_at=now,
    )
    session.add(client)
    session.flush()
    return Registered(client=client, client_secret=secret)


# --- pre-registered clients ---------------------------------------------------------------------------


def add_preregistered_client(
    session: Session, admin: User, *, name: str, redirect_uris: Iterable[str], confidential: bool
) -> Registered:
    """A client an administrator adds; a confidential one gets a secret, shown once."""
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ClientError("invalid_client_metadata", "Give the client a name of at most 120 characters.")
    uris = check_redirect_uris([u.strip() for u in redirect_uris if u.strip()])
    secret = "pmcs_" + secrets.token_urlsafe(32) if confidential else None
    client = OAuthClient(
        client_id="pmc_" + secrets.token_urlsafe(18),
        kind="preregistered",
        client_name=name,
        redirect_uris=uris,
        grant_types=list(GRANT_TYPES),
        token_endpoint_auth_method="client_secret_basic" if confidential else "none",
        client_secret_hash=digest(secret) if secret else None,
        created_by_id=admin.id,
    )
    session.add(client)
    session.flush()
    return Registered(client=client, client_secret=secret)


def delete_client(session: Session, client: OAuthClient) -> None:
    """Revoke every grant of a client, then forget it; the caller commits."""
    for grant in session.scalars(select(OAuthGrant).where(OAuthGrant.client_pk == client.id)):
        revoke_grant(session, grant, reason="admin")
    session.delete(client)
    session.flush()


def check_client_secret(client: OAuthClient, presented: str) -> bool:
    if not client.client_secret_hash or not presented:
        return False
    return secrets.compare_digest(client.client_secret_hash, digest(presented))


# --- finding a client ------------------------------------------------------------------------------------


Fetcher = Callable[[str], FetchedDocument]


def find_client(
    session: Session,
    client_id: str | None,
    *,
    fetch: Fetcher | None = None,
    unused_registration_age: timedelta = timedelta(hours=24),
    now: datetime | None = None,
) -> OAuthClient | None:
    """The client with this id: for a metadata document URL, fetched (or its cached copy while fresh).

    Raises ClientMetadataError when a document can't be fetched or is not acceptable (the message
    says why). An unapproved self-registration past its age is treated as unknown.
    """
    if not client_id or len(client_id) > 500:
        return None
    now = now or utcnow()
    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if is_metadata_document_url(client_id):
        if client is not None and client.metadata_expires_at is not None and client.metadata_expires_at > now:
            return client
        if fetch is None:
            return client
        document = fetch(client_id)
        return _store_document(session, client, client_id, document, now)
    if client is not None and client.kind == "registered" and client.first_used_at is None:
        if client.created_at < now - unused_registration_age:
            return None
    return client


def _store_document(
    session: Session, client: OAuthClient | None, client_id: str, document: FetchedDocument, now: datetime
) -> OAuthClient:
    data = document.data
    if data.get("client_id") != client_id:
        raise ClientMetadataError(
            f"The client metadata document at {client_id} names a different client_id; it must be its own URL."
        )
    if not isinstance(data.get("client_name"), str) or not data["client_name"].strip():
        raise ClientMetadataError(f"The client metadata document at {client_id} has no client_name.")
    try:
        redirect_uris = check_redirect_uris(data.get("redirect_uris"))
        grant_types = _grant_types(data.get("grant_types"))
    except ClientError as exc:
        raise ClientMetadataError(f"The client metadata document at {client_id}: {exc.message}") from None
    method = data.get("token_endpoint_auth_method") or "none"
    if method != "none":
        raise ClientMetadataError(
            f"The client metadata document at {client_id} asks for {method!r} client authentication; "
            'only public clients ("none") are supported with metadata documents.'
        )
    host = urlsplit(client_id).hostname
    logo = _https_or_none(data.get("logo_uri"))
    # A logo is shown only from the document's own host: the document vouches for nothing else.
    if logo and urlsplit(logo).hostname != host:
        logo = None
    if client is None:
        client = OAuthClient(client_id=client_id, kind="metadata_document", created_at=now)
        session.add(client)
    client.client_name = _name(data["client_name"])
    client.client_uri = _https_or_none(data.get("client_uri"))
    client.logo_uri = logo
    client.redirect_uris = redirect_uris
    client.grant_types = grant_types
    client.token_endpoint_auth_method = "none"  # noqa: S105 - a method name, not a secret
    client.client_secret_hash = None
    client.scope = data.get("scope") if isinstance(data.get("scope"), str) else None
    client.metadata_expires_at = now + timedelta(seconds=document.max_age)
    session.flush()
    return client
