"""Members' connections to their PM systems."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import NO_ID_REUSE, Base, utcnow

if TYPE_CHECKING:
    from .accounts import User


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
