"""Authorization codes, grants and tokens: issue, exchange, rotate, revoke, verify.

Every secret here (code, access token, refresh token) is random, shown to the
client once and stored as its SHA-256 digest. Codes are single-use and live a
minute; access tokens an hour at most; a refresh token is used once and
replaced, and one presented a second time revokes the whole grant.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from portal.core.errors import UserFacingError

from .. import revocations
from ..keys import hash_key
from ..models import AuditEvent, OAuthAuthorizationCode, OAuthClient, OAuthGrant, OAuthToken, User, utcnow
from ..principals import Limits, Principal, stored_connection_ids
from ..toolsets import DEFAULT_TOOLSETS, stored_toolsets

READ_SCOPE = "pm:read"
WRITE_SCOPE = "pm:write"
SCOPES = (READ_SCOPE, WRITE_SCOPE)
CODE_SECONDS = 60
MAX_ACCESS_TOKEN_SECONDS = 3600
ACCESS_TOKEN_PREFIX = "pmat_"  # noqa: S105 - a prefix, not a secret
REFRESH_TOKEN_PREFIX = "pmrt_"  # noqa: S105 - a prefix, not a secret
# What the consent page offers for how long a grant lasts (days; None: until revoked).
GRANT_DURATIONS: dict[str, tuple[int | None, str]] = {
    "1": (1, "1 day"),
    "30": (30, "30 days"),
    "90": (90, "90 days"),
    "never": (None, "Until I revoke it"),
}


class GrantError(UserFacingError):
    """A code or token that can't be used; `error` (also its `error_class`) is the OAuth error code."""

    def __init__(self, error: str, message: str):
        super().__init__(message, error_class=error)
        self.error = error


def digest(raw: str) -> str:
    return hash_key(raw)


# --- scopes and resources ---------------------------------------------------------


def normalize_scope(requested: str | None) -> str:
    """The scopes of ours in a request, in a fixed order; none named means both (the consent page decides)."""
    asked = set((requested or "").split())
    ours = [scope for scope in SCOPES if scope in asked]
    return " ".join(ours or SCOPES)


def scope_for(read_only: bool) -> str:
    return READ_SCOPE if read_only else f"{READ_SCOPE} {WRITE_SCOPE}"


def canonical_resource(value: str) -> str | None:
    """An RFC 8707 resource as we compare them: lower-case scheme and host, no trailing slash; None if invalid."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or parts.fragment:
        return None
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def worker_resources(public_mcp_url: str) -> frozenset[str]:
    """The resource identifiers of the worker: its base URL and its two MCP endpoints."""
    base = canonical_resource(public_mcp_url) or public_mcp_url.rstrip("/")
    return frozenset({base, f"{base}/mcp", f"{base}/sse"})


def resource_of_request(requested: Iterable[str], public_mcp_url: str) -> str:
    """The resource a request asks tokens for, checked to be the worker; its base URL when none is named.

    Raises GrantError("invalid_target") naming the server it is for.
    """
    values = [value for value in requested if value]
    if not values:
        return canonical_resource(public_mcp_url) or public_mcp_url.rstrip("/")
    if len(values) > 1:
        raise GrantError(
            "invalid_target", "Ask for one resource at a time: this server issues tokens for one."
        )
    resource = canonical_resource(values[0])
    if resource is None or resource not in worker_resources(public_mcp_url):
        raise GrantError(
            "invalid_target",
            f"This authorization server issues tokens only for the MCP server at {public_mcp_url}, "
            f"not for {values[0][:200]!r}.",
        )
    return resource


# --- authorization codes ------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """What the user chose on the consent page."""

    read_only: bool
    connection_ids: list[int] | None
    grant_days: int | None
    toolsets: frozenset[str] | None = None  # None: the default toolsets


def issue_code(
    session: Session,
    raw: str,
    *,
    client: OAuthClient,
    user_id: int,
    redirect_uri: str,
    resource: str,
    code_challenge: str,
    code_challenge_method: str,
    consent: Consent,
    now: datetime | None = None,
) -> None:
    """Store the digest of a code (random, from the caller) for an approved request."""
    now = now or utcnow()
    session.add(
        OAuthAuthorizationCode(
            code_hash=digest(raw),
            client_pk=client.id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scope=scope_for(consent.read_only),
            resource=resource,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            read_only=consent.read_only,
            connection_ids=stored_connection_ids(consent.connection_ids),
            toolsets=stored_toolsets(DEFAULT_TOOLSETS if consent.toolsets is None else consent.toolsets),
            grant_days=consent.grant_days,
            created_at=now,
            expires_at=now + timedelta(seconds=CODE_SECONDS),
        )
    )
    if client.first_used_at is None:
        client.first_used_at = now
    session.flush()


def find_code(session: Session, raw: str, client: OAuthClient) -> OAuthAuthorizationCode | None:
    """The code issued to this client with this value, used or not (reuse is judged on redemption)."""
    return session.scalar(
        select(OAuthAuthorizationCode).where(
            OAuthAuthorizationCode.code_hash == digest(raw), OAuthAuthorizationCode.client_pk == client.id
        )
    )


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str
    grant: OAuthGrant


def redeem_code(
    session: Session,
    code: OAuthAuthorizationCode,
    *,
    with_refresh_token: bool,
    access_seconds: int = MAX_ACCESS_TOKEN_SECONDS,
    now: datetime | None = None,
) -> IssuedTokens:
    """Exchange a checked code (PKCE and redirect URI already verified) for a new grant and its tokens.

    A code presented a second time is refused and the grant it gave is revoked (RFC 6749 §4.1.2);
    the caller must commit even then. An expired code is refused.
    """
    now = now or utcnow()
    if code.used_at is not None or code.expires_at <= now:
        reused = code.used_at is not None
        if reused and code.grant_id is not None:
            grant = session.get(OAuthGrant, code.grant_id)
            if grant is not None:
                revoke_grant(session, grant, reason="code_reused", now=now)
        raise GrantError(
            "invalid_grant",
            "This authorization code was already used; sign in again."
            if reused
            else "This authorization code has expired (codes last a minute); sign in again.",
        )
    claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # DML answers a CursorResult
        update(OAuthAuthorizationCode)
        .where(OAuthAuthorizationCode.id == code.id, OAuthAuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # redeemed concurrently
        raise GrantError("invalid_grant", "This authorization code was already used; sign in again.")
    client = session.get(OAuthClient, code.client_pk)
    grant = OAuthGrant(
        user_id=code.user_id,
        client_pk=code.client_pk,
        client_name=client.client_name if client else "an OAuth client",
        client_id=client.client_id if client else "",
        scope=code.scope,
        read_only=code.read_only,
        connection_ids=code.connection_ids,
        toolsets=code.toolsets,
        resource=code.resource,
        created_at=now,
        expires_at=now + timedelta(days=code.grant_days) if code.grant_days else None,
    )
    session.add(grant)
    session.flush()
    session.execute(
        update(OAuthAuthorizationCode).where(OAuthAuthorizationCode.id == code.id).values(grant_id=grant.id)
    )
    session.add(
        AuditEvent(user_id=grant.user_id, grant_id=grant.id, kind="oauth_granted", target=grant.client_name)
    )
    return _issue_tokens(session, grant, with_refresh_token, access_seconds, now)


def _issue_tokens(
    session: Session, grant: OAuthGrant, with_refresh_token: bool, access_seconds: int, now: datetime
) -> IssuedTokens:
    access = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32) if with_refresh_token else None
    lifetime = max(1, min(access_seconds, MAX_ACCESS_TOKEN_SECONDS))
    expires_at = now + timedelta(seconds=lifetime)
    if grant.expires_at is not None and grant.expires_at < expires_at:
        expires_at = grant.expires_at
    session.add(
        OAuthToken(
            grant_id=grant.id,
            access_token_hash=digest(access),
            refresh_token_hash=digest(refresh) if refresh else None,
            issued_at=now,
            access_expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh,
        expires_in=max(1, int((expires_at - now).total_seconds())),
        scope=grant.scope,
        grant=grant,
    )


# --- refresh ---------------------------------------------------------------------------------


def find_refresh_token(session: Session, raw: str) -> OAuthToken | None:
    return session.scalar(select(OAuthToken).where(OAuthToken.refresh_token_hash == digest(raw)))


def rotate_refresh_token(
    session: Session,
    token: OAuthToken,
    *,
    access_seconds: int = MAX_ACCESS_TOKEN_SECONDS,
    now: datetime | None = None,
) -> IssuedTokens:
    """Use a refresh token once: a new access and refresh token replace it.

    A refresh token presented after it was used means someone else holds it: the whole grant is
    revoked (the caller must commit even then). A revoked or expired grant, or a disabled user,
    is refused.
    """
    now = now or utcnow()
    grant = token.grant
    if token.rotated_at is not None:
        revoke_grant(session, grant, reason="refresh_token_reused", now=now)
        raise GrantError(
            "invalid_grant",
            "This refresh token was already used, so it may have been stolen: the sign-in has been revoked. "
            "Sign in again.",
        )
    problem = _grant_problem(session, grant, now)
    if problem:
        raise GrantError("invalid_grant", problem)
    claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]  # DML answers a CursorResult
        update(OAuthToken)
        .where(OAuthToken.id == token.id, OAuthToken.rotated_at.is_(None))
        .values(rotated_at=now)
    )
    if claimed.rowcount != 1:  # the same token, used twice at once
        revoke_grant(session, grant, reason="refresh_token_reused", now=now)
        raise GrantError(
            "invalid_grant", "This refresh token was already used: the sign-in has been revoked."
        )
    return _issue_tokens(session, grant, True, access_seconds, now)


def _grant_problem(session: Session, grant: OAuthGrant, now: datetime) -> str | None:
    if grant.revoked_at is not None:
        return "This sign-in has been revoked. Sign in again."
    if grant.expires_at is not None and grant.expires_at <= now:
        return "This sign-in has expired. Sign in again."
    user = session.get(User, grant.user_id)
    if user is None or not user.is_active:
        return "The account this sign-in belongs to is disabled."
    return None


# --- revocation ---------------------------------------------------------------------------------


def revoke_grant(
    session: Session, grant: OAuthGrant, *, reason: str = "user", now: datetime | None = None
) -> None:
    """Revoke a grant and with it every token issued under it (idempotent); the caller commits.

    `reason`: "user" (the keys page), "client" (RFC 7009 revocation of a refresh token), "admin",
    "refresh_token_reused" or "code_reused".
    """
    if grant.revoked_at is not None:
        return
    grant.revoked_at = now or utcnow()
    grant.revoked_reason = reason
    session.add(
        AuditEvent(
            user_id=grant.user_id,
            grant_id=grant.id,
            kind="oauth_revoked",
            target=grant.client_name,
            ok=True,
            error_class=None if reason == "user" else reason[:64],
        )
    )
    session.flush()
    revocations.announce(session, "grant", grant.id, user_id=grant.user_id)


def revoke_access_token(session: Session, token: OAuthToken, *, now: datetime | None = None) -> None:
    """Revoke one access token (RFC 7009 with an access token): the grant and its refresh token stay."""
    if token.access_revoked_at is None:
        token.access_revoked_at = now or utcnow()
        session.flush()
        revocations.announce(session, "grant", token.grant_id)


def find_token(session: Session, raw: str, hint: str | None = None) -> tuple[str, OAuthToken] | None:
    """("access_token" | "refresh_token", row) for a presented token, trying the hinted kind first."""
    value = digest(raw)
    kinds = ["access_token", "refresh_token"]
    if hint == "refresh_token":
        kinds.reverse()
    for kind in kinds:
        column = OAuthToken.access_token_hash if kind == "access_token" else OAuthToken.refresh_token_hash
        row = session.scalar(select(OAuthToken).where(column == value))
        if row is not None:
            return kind, row
    return None


def user_grants(session: Session, user_id: int) -> list[OAuthGrant]:
    """A user's grants, newest first (revoked and expired ones too, for the keys page)."""
    return list(
        session.scalars(
            select(OAuthGrant).where(OAuthGrant.user_id == user_id).order_by(OAuthGrant.created_at.desc())
        )
    )


# --- the worker's side ----------------------------------------------------------------------------


def looks_like_access_token(value: str) -> bool:
    return value.startswith(ACCESS_TOKEN_PREFIX) and 20 < len(value) < 200


def load_access_token(session: Session, token_digest: str, resources: frozenset[str]) -> Principal | None:
    """The principal an access token stands for, or None if no such token exists or it is for another server.

    Revocation and expiry are carried in the principal (the earlier of the token's and the grant's),
    so `principals.ensure_usable` refuses them with the reason.
    """
    row = session.execute(
        select(OAuthToken, OAuthGrant, User)
        .join(OAuthGrant, OAuthGrant.id == OAuthToken.grant_id)
        .join(User, User.id == OAuthGrant.user_id)
        .where(OAuthToken.access_token_hash == token_digest)
    ).first()
    if row is None:
        return None
    token, grant, user = row
    if grant.resource not in resources:
        return None
    expires = token.access_expires_at
    if grant.expires_at is not None and grant.expires_at < expires:
        expires = grant.expires_at
    return Principal(
        kind="grant",
        credential_id=grant.id,
        user_id=user.id,
        user_email=user.email,
        user_name=user.display_name,
        name=grant.client_name,
        client=grant.client_id,
        limits=Limits.of(
            read_only=grant.read_only, connection_ids=grant.connection_ids, toolsets=grant.toolsets
        ),
        expires_at=expires,
        revoked_at=grant.revoked_at or token.access_revoked_at,
        user_active=user.is_active,
    )
