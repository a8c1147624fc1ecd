"""Team members and the MCP API keys they mint."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import NO_ID_REUSE, Base, utcnow

if TYPE_CHECKING:
    from .connections import ProviderConnection

MCP_CLIENTS = {
    "cursor": "Cursor",
    "vscode": "VS Code",
    "windsurf": "Windsurf",
    "claude-desktop": "Claude Desktop",
    "claude-code": "Claude Code",
    "other": "Other",
}


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
    # The connections the key may use (ids; 0 is the built-in tracker), or NULL for all of them.
    connection_ids: Mapped[list[int] | None] = mapped_column(JSON)
    # The toolsets the key exposes (names), or NULL for the default ones (portal.core.toolsets).
    toolsets: Mapped[list[str] | None] = mapped_column(JSON)
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
