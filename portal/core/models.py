"""The database schema shared by the portal and the worker.

SQLAlchemy 2.x typed models on a plain DeclarativeBase: no Flask here, so the
worker and scripts use exactly the same classes as the portal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MCP_CLIENTS = {
    "cursor": "Cursor",
    "vscode": "VS Code",
    "windsurf": "Windsurf",
    "claude-desktop": "Claude Desktop",
    "claude-code": "Claude Code",
    "other": "Other",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    Stored as naive UTC (SQLite has no time zones); always returned aware, so
    comparisons with `utcnow()` never mix naive and aware values.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


# Ids of users, keys and connections are never reused (SQLite would reuse the highest id after a
# delete): caches and audit rows keyed by id must never meet a different object under the same id.
NO_ID_REUSE = {"sqlite_autoincrement": True}


class User(Base):
    __tablename__ = "users"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, which makes the unique constraint case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Bumped when a password changes or the account is disabled: sessions carry it and die with it.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    api_keys: Mapped[list[McpApiKey]] = relationship(back_populates="user", cascade="all, delete-orphan")
    connections: Mapped[list[ProviderConnection]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class McpApiKey(Base):
    """An MCP API key: only its SHA-256 digest and a display prefix are stored."""

    __tablename__ = "user_mcp_api_keys"
    __table_args__ = (
        # A name is unique among a user's live keys; a revoked key frees its name.
        Index(
            "uq_user_mcp_api_keys_user_id_name_live",
            "user_id",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    client: Mapped[str] = mapped_column(String(32), default="other")
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="api_keys")

    def state(self, now: datetime | None = None) -> str:
        """'active', 'expired' or 'revoked'."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    @property
    def client_label(self) -> str:
        return MCP_CLIENTS.get(self.client, self.client)


class ProviderConnection(Base):
    """A user's connection to a PM system; the credentials are encrypted by the vault."""

    __tablename__ = "pm_provider_connections"
    __table_args__ = (UniqueConstraint("user_id", "slug"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    provider_type: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str | None] = mapped_column(String(254))
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    # The last characters of the token, for display ("…a1b2"): never the token itself.
    token_hint: Mapped[str | None] = mapped_column(String(8))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_checked_at: Mapped[datetime | None]
    last_check_ok: Mapped[bool | None]
    last_check_summary: Mapped[str | None] = mapped_column(String(500))
    last_check_error: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship(back_populates="connections")


class AuditEvent(Base):
    """Who did what, when and with which outcome. Never secrets, never request bodies."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_mcp_api_keys.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    tool: Mapped[str | None] = mapped_column(String(64))
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("pm_provider_connections.id", ondelete="SET NULL")
    )
    target: Mapped[str | None] = mapped_column(String(200))
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    error_class: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None]
    client_ip: Mapped[str | None] = mapped_column(String(64))


from portal.core.tracker import models as tracker_models  # noqa: E402,F401  (registers the tracker tables)
