"""What several worker processes share through the database: failure counts, SSE session owners, payloads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class AuthFailure(Base):
    """One wrong credential presented from `address`; rows older than the throttle window are deleted."""

    __tablename__ = "mcp_auth_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SseSessionOwner(Base):
    """Which worker holds an SSE session's stream, and the credential that opened it."""

    __tablename__ = "mcp_sse_sessions"

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    worker: Mapped[str] = mapped_column(String(40), index=True)
    credential: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BusPayload(Base):
    """A forwarded message too large for a NOTIFY payload; the notice carries this row's id."""

    __tablename__ = "mcp_bus_payloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
