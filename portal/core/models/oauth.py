"""OAuth 2.1 sign-in: the clients that may ask, the grants users give them, codes and tokens.

Client secrets, authorization codes and tokens are stored only as SHA-256
digests, like MCP keys: what the database holds can't be presented back.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import NO_ID_REUSE, Base, utcnow

if TYPE_CHECKING:
    from .accounts import User

# How a client came to be known here.
CLIENT_KINDS = {
    "metadata_document": "Client ID metadata document",
    "registered": "Registered itself",
    "preregistered": "Added by an administrator",
}


class OAuthClient(Base):
    """An application that may ask users for a grant."""

    __tablename__ = "oauth_clients"
    __table_args__ = (Index("ix_oauth_clients_kind_registered_ip", "kind", "registered_ip"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A random id for registered clients; the document's https URL for metadata-document clients.
    client_id: Mapped[str] = mapped_column(String(500), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    client_name: Mapped[str] = mapped_column(String(120))
    client_uri: Mapped[str | None] = mapped_column(String(500))
    # Shown only for metadata-document clients, whose document was fetched from their own host.
    logo_uri: Mapped[str | None] = mapped_column(String(500))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32), default="none")
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str | None] = mapped_column(String(200))
    registered_ip: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Metadata documents are cached: fetched again once this passes.
    metadata_expires_at: Mapped[datetime | None]
    # Set when a user first approves the client; a registration never approved expires.
    first_used_at: Mapped[datetime | None]

    @property
    def kind_label(self) -> str:
        return CLIENT_KINDS.get(self.kind, self.kind)


class OAuthGrant(Base):
    """A user's consent for one client: the same kind of credential as an MCP key, with the same limits."""

    __tablename__ = "oauth_grants"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    # The client's name and id when the grant was given, so the grant reads the same later.
    client_name: Mapped[str] = mapped_column(String(120))
    client_id: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(200))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The connections the grant may use (ids; 0 is the built-in tracker), or NULL for all of them.
    connection_ids: Mapped[list[int] | None] = mapped_column(JSON)
    # The toolsets the grant exposes (names), or NULL for the default ones (portal.core.toolsets).
    toolsets: Mapped[list[str] | None] = mapped_column(JSON)
    # The RFC 8707 resource the tokens are bound to: the worker's URL.
    resource: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()
    client: Mapped[OAuthClient] = relationship()

    def state(self, now: datetime | None = None) -> str:
        """'active', 'expired' or 'revoked'."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class OAuthAuthorizationCode(Base):
    """A single-use code for one approved authorization request, with the choices made on the consent page."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(200))
    resource: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    connection_ids: Mapped[list[int] | None] = mapped_column(JSON)
    toolsets: Mapped[list[str] | None] = mapped_column(JSON)
    grant_days: Mapped[int | None]  # None: until revoked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # The grant the code was exchanged for: revoked if the code is presented again.
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_grants.id", ondelete="SET NULL"))


class OAuthToken(Base):
    """One issue of tokens for a grant: an access token and the refresh token that replaces it.

    A refresh token is used once: it is marked rotated and a new pair is issued. Presenting a rotated
    refresh token again means it leaked, and revokes the whole grant.
    """

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime]
    access_revoked_at: Mapped[datetime | None]
    rotated_at: Mapped[datetime | None]

    grant: Mapped[OAuthGrant] = relationship()
