"""Who is calling: `whoami`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from portal.core.models import MCP_CLIENTS
from portal.core.toolsets import TOOLSETS

from .context import connections_of
from .registry import ToolCall, ToolInput, ToolOutput, Toolset


class NoArguments(ToolInput):
    pass


class WhoAmI(ToolOutput):
    user_id: int
    email: str
    name: str
    signed_in_with: Literal["key", "oauth"]
    key_name: str  # the key's name, or the OAuth client's name
    client: str
    read_only: bool
    key_expires_at: datetime | None
    connection_count: int
    allowed_connections: list[str] | None  # None: every connection of the user
    toolsets: list[str]

    def text(self) -> str:
        scope = "read-only" if self.read_only else "read and write"
        expiry = (
            f"expires {self.key_expires_at:%Y-%m-%d %H:%M} UTC" if self.key_expires_at else "never expires"
        )
        if self.signed_in_with == "oauth":
            credential = f"signed in with OAuth as '{self.key_name}'"
        else:
            credential = f"key '{self.key_name}' for {MCP_CLIENTS.get(self.client, self.client)}"
        reach = (
            f"{self.connection_count} connection{'s' if self.connection_count != 1 else ''} "
            "including the built-in tracker"
            if self.allowed_connections is None
            else f"limited to {', '.join(self.allowed_connections) or 'no connection'}"
        )
        return (
            f"{self.name} <{self.email}>, {credential} ({scope}, {expiry}); {reach}; "
            f"toolsets: {', '.join(self.toolsets)}."
        )


toolset = Toolset()


@toolset.tool("whoami", title="Who am I", read_only=True, idempotent=True, open_world=False)
async def whoami(call: ToolCall, args: NoArguments) -> WhoAmI:
    """Who this MCP key or OAuth sign-in belongs to: the user, the key's (or app's) name, client, scope
    (read-only or not), expiry, the connections it may use and its toolsets."""
    principal = call.principal
    connections = await connections_of(call)
    return WhoAmI(
        user_id=principal.user_id,
        email=principal.user_email,
        name=principal.user_name,
        signed_in_with="key" if principal.kind == "key" else "oauth",
        key_name=principal.name,
        client=principal.client,
        read_only=principal.read_only,
        key_expires_at=principal.expires_at,
        connection_count=len(connections.usable),
        allowed_connections=[v.slug for v in connections.views]
        if principal.limits.restricts_connections
        else None,
        toolsets=[name for name in TOOLSETS if name in principal.limits.toolsets],
    )
