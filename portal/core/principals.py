"""Who is calling the worker, whichever way they signed in.

An MCP key and an OAuth grant both end as one `Principal`: the user, the
credential (a key id or a grant id), its display name and client, its expiry,
and the `Limits` the user chose for it. The worker's tools and its audit log see
only this type, so a key and a grant are enforced and recorded alike.

`Limits` holds every restriction a credential can carry; each is optional and
means "no restriction" when absent, so a new kind of limit is one more field
with a permissive default, checked in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .models import utcnow
from .toolsets import DEFAULT_TOOLSETS, loaded_toolsets

# The built-in tracker has no connection row; 0 stands for it among allowed connection ids
# (row ids start at 1 on every backend and are never reused).
LOCAL_CONNECTION_ID = 0

CredentialKind = Literal["key", "grant"]


@dataclass(frozen=True)
class Limits:
    """What a credential may do, beyond what its user may."""

    read_only: bool = False
    # None: every connection of the user, also those added later; else these connection ids
    # (LOCAL_CONNECTION_ID for the built-in tracker).
    connection_ids: frozenset[int] | None = None
    # The toolsets whose tools the credential's client sees and may call (portal.core.toolsets).
    toolsets: frozenset[str] = DEFAULT_TOOLSETS

    @classmethod
    def of(
        cls,
        *,
        read_only: bool = False,
        connection_ids: Iterable[int] | None = None,
        toolsets: Iterable[str] | None = None,
    ) -> Limits:
        """Limits as stored on a key or grant (None toolsets: the default ones)."""
        return cls(
            read_only=bool(read_only),
            connection_ids=None if connection_ids is None else frozenset(int(i) for i in connection_ids),
            toolsets=loaded_toolsets(toolsets),
        )

    def allows_connection(self, connection_id: int | None) -> bool:
        """Whether a connection (None: the built-in tracker) is within these limits."""
        if self.connection_ids is None:
            return True
        return (LOCAL_CONNECTION_ID if connection_id is None else connection_id) in self.connection_ids

    @property
    def restricts_connections(self) -> bool:
        return self.connection_ids is not None


def stored_connection_ids(ids: Iterable[int] | None) -> list[int] | None:
    """Connection ids as a JSON column keeps them: sorted and unique, or None for all."""
    return None if ids is None else sorted({int(i) for i in ids})


class CredentialRejected(Exception):
    """Why a presented key or token was refused, in words its owner can act on."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Principal:
    """An accepted credential as the worker needs it (never the raw key or token)."""

    kind: CredentialKind
    credential_id: int
    user_id: int
    user_email: str
    user_name: str
    name: str  # the key's name, or the OAuth client's name
    client: str  # a key's client code (MCP_CLIENTS), or an OAuth client's id
    limits: Limits = field(default_factory=Limits)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    user_active: bool = True

    @property
    def read_only(self) -> bool:
        return self.limits.read_only

    @property
    def key_id(self) -> int | None:
        return self.credential_id if self.kind == "key" else None

    @property
    def grant_id(self) -> int | None:
        return self.credential_id if self.kind == "grant" else None

    @property
    def key_name(self) -> str:
        return self.name

    def describe(self) -> str:
        """How messages name this credential."""
        if self.kind == "key":
            return f"The MCP API key '{self.name}'"
        return f"The OAuth sign-in of '{self.name}'"


def ensure_usable(principal: Principal | None, *, now: datetime | None = None) -> Principal:
    """Raise CredentialRejected saying why `principal` can't be used now (unknown, revoked, expired,
    owner disabled); return it otherwise."""
    if principal is None:
        raise CredentialRejected(
            "unknown",
            "This MCP API key is not known here. It may belong to another server or have been deleted; "
            "create a new key in the portal.",
        )
    now = now or utcnow()
    grant = principal.kind == "grant"
    if principal.revoked_at is not None:
        remedy = "Sign in again from your client." if grant else "Create or rotate a key in the portal."
        raise CredentialRejected("revoked", f"{principal.describe()} has been revoked. {remedy}")
    if principal.expires_at is not None and principal.expires_at <= now:
        remedy = (
            "Your client should refresh it or sign in again."
            if grant
            else "Rotate it in the portal to get a new one."
        )
        raise CredentialRejected(
            "expired",
            f"{principal.describe()} expired on {principal.expires_at:%Y-%m-%d %H:%M} UTC. {remedy}",
        )
    if not principal.user_active:
        raise CredentialRejected(
            "user_disabled",
            f"The account {'this sign-in' if grant else 'this MCP API key'} belongs to is disabled. "
            "Ask an administrator of this server.",
        )
    return principal
