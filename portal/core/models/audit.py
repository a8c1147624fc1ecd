"""The audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


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
    # An OAuth grant is named as a key is: a call carries one or the other.
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_grants.id", ondelete="SET NULL"), index=True
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
