"""MCP API keys: minting, hashing and checking.

A key is `mcp_` followed by 64 lowercase hex characters (256 random bits). Only
its SHA-256 digest and a short display prefix are stored; the raw key is shown
to its owner once and can't be recovered from the database.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.errors import UserFacingError

from . import revocations
from .models import MCP_CLIENTS, AuditEvent, McpApiKey, User, utcnow
from .principals import CredentialRejected, Limits, Principal, stored_connection_ids
from .services.connections import check_connection_ids
from .toolsets import DEFAULT_TOOLSETS, UnknownToolset, parse_toolsets, stored_toolsets

KEY_PATTERN = re.compile(r"mcp_[0-9a-f]{64}")
PREFIX_LENGTH = len("mcp_") + 8
EXPIRY_CHOICES = (30, 90, 365)


class KeyRequestError(UserFacingError):
    """Base for key problems a person can act on."""


class KeyNameTaken(KeyRequestError):
    pass


class InvalidKeyRequest(KeyRequestError):
    pass


def generate_raw_key() -> str:
    return "mcp_" + secrets.token_hex(32)


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def display_prefix(raw_key: str) -> str:
    return raw_key[:PREFIX_LENGTH]


def looks_like_key(value: str) -> bool:
    return KEY_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class MintedKey:
    """A freshly minted key: the only moment the raw value exists."""

    record: McpApiKey
    raw_key: str


def mint_key(
    session: Session,
    user: User,
    *,
    name: str,
    client: str = "other",
    read_only: bool = False,
    expires_days: int | None = None,
    connection_ids: list[int] | None = None,
    toolsets: Iterable[str] | None = None,
    now: datetime | None = None,
) -> MintedKey:
    """Create and flush a key for `user`; the caller commits.

    `connection_ids` restricts the key to some of the user's connections (None: all of them);
    `toolsets` names the toolsets it exposes (None: the default ones, every toolset but bulk).
    Raises KeyNameTaken if a live key of the user already has this name, and
    InvalidKeyRequest for an empty name, an unknown client, a bad expiry or a connection
    that isn't the user's.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidKeyRequest("Give the key a name, such as 'laptop cursor'.")
    if len(name) > 80:
        raise InvalidKeyRequest("A key name is at most 80 characters.")
    if client not in MCP_CLIENTS:
        raise InvalidKeyRequest(f"Unknown client {client!r}; choose one of: {', '.join(MCP_CLIENTS)}.")
    if expires_days is not None and not (0 < expires_days <= 3650):
        raise InvalidKeyRequest("Expiry must be between 1 and 3650 days, or none.")
    if connection_ids is not None:
        problem = check_connection_ids(session, user.id, connection_ids)
        if problem:
            raise InvalidKeyRequest(problem)
    if toolsets is not None:
        try:
            toolsets = parse_toolsets(toolsets)
        except UnknownToolset as exc:
            raise InvalidKeyRequest(str(exc)) from None
    if live_key_named(session, user.id, name) is not None:
        raise KeyNameTaken(f"You already have a key named {name!r}. Choose another name, or rotate that key.")
    now = now or utcnow()
    raw = generate_raw_key()
    record = McpApiKey(
        user_id=user.id,
        name=name,
        client=client,
        key_prefix=display_prefix(raw),
        key_hash=hash_key(raw),
        read_only=read_only,
        connection_ids=stored_connection_ids(connection_ids),
        toolsets=stored_toolsets(DEFAULT_TOOLSETS if toolsets is None else toolsets),
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(record)
    session.flush()
    session.add(AuditEvent(user_id=user.id, key_id=record.id, kind="key_created", target=name, ok=True))
    return MintedKey(record=record, raw_key=raw)


def live_key_named(session: Session, user_id: int, name: str) -> McpApiKey | None:
    return session.scalar(
        select(McpApiKey).where(
            McpApiKey.user_id == user_id, McpApiKey.name == name, McpApiKey.revoked_at.is_(None)
        )
    )


def revoke_key(
    session: Session, key: McpApiKey, *, now: datetime | None = None, kind: str = "key_revoked"
) -> None:
    """Revoke a key (idempotent); the caller commits."""
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.add(AuditEvent(user_id=key.user_id, key_id=key.id, kind=kind, target=key.name, ok=True))
        session.flush()
        revocations.announce(session, "key", key.id, user_id=key.user_id)


def rotate_key(session: Session, key: McpApiKey, *, now: datetime | None = None) -> MintedKey:
    """Revoke `key` and mint its successor with the same name, client, scope and lifetime."""
    now = now or utcnow()
    lifetime_days = None
    if key.expires_at is not None:
        lifetime_days = max(1, round((key.expires_at - key.created_at).total_seconds() / 86400))
    revoke_key(session, key, now=now, kind="key_rotated")
    return mint_key(
        session,
        key.user,
        name=key.name,
        client=key.client,
        read_only=key.read_only,
        expires_days=lifetime_days,
        connection_ids=key.connection_ids,
        toolsets=key.toolsets,
        now=now,
    )


def check_presented_key(raw_key: str | None) -> str:
    """Reject a missing or malformed key without touching the database; return its digest.

    Raises CredentialRejected ("missing" or "malformed") saying what to send instead.
    """
    if not raw_key:
        raise CredentialRejected(
            "missing",
            "No MCP API key was sent. Send it in the X-MCP-API-Key header "
            "(or as 'Authorization: Bearer mcp_...'); create one in the portal under MCP keys. "
            "Clients that support OAuth sign in through the portal instead.",
        )
    if not looks_like_key(raw_key):
        raise CredentialRejected(
            "malformed",
            "The MCP API key is malformed: it must be 'mcp_' followed by 64 lowercase hex characters. "
            "Copy it again from the portal, or create a new one.",
        )
    return hash_key(raw_key)


def load_key(session: Session, digest: str) -> Principal | None:
    """The key with this digest and its owner's state, or None if no such key exists."""
    row = session.execute(
        select(McpApiKey, User).join(User, User.id == McpApiKey.user_id).where(McpApiKey.key_hash == digest)
    ).first()
    if row is None:
        return None
    key, user = row
    return Principal(
        kind="key",
        credential_id=key.id,
        user_id=user.id,
        user_email=user.email,
        user_name=user.display_name,
        name=key.name,
        client=key.client,
        limits=Limits.of(read_only=key.read_only, connection_ids=key.connection_ids, toolsets=key.toolsets),
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        user_active=user.is_active,
    )
