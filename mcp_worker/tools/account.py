"""Who is calling: `whoami`."""

from __future__ import annotations

from datetime import datetime

from portal.core.models import MCP_CLIENTS

from .context import connections_of
from .registry import ToolCall, ToolInput, ToolOutput, ToolRegistry


class NoArguments(ToolInput):
    pass


class WhoAmI(ToolOutput):
    user_id: int
    email: str
    name: str
    key_name: str
    client: str
    read_only: bool
    key_expires_at: datetime | None
    connection_count: int

    def text(self) -> str:
        scope = "read-only" if self.read_only else "read and write"
        expiry = f"expires {self.key_expires_at:%Y-%m-%d}" if self.key_expires_at else "never expires"
        return (
            f"{self.name} <{self.email}>, key '{self.key_name}' for {MCP_CLIENTS.get(self.client, self.client)} "
            f"({scope}, {expiry}); {self.connection_count} connection"
            f"{'s' if self.connection_count != 1 else ''} including the built-in tracker."
        )


def register(registry: ToolRegistry) -> None:
    @registry.tool("whoami", title="Who am I", read_only=True, idempotent=True, open_world=False)
    async def whoami(call: ToolCall, args: NoArguments) -> WhoAmI:
        """Who this MCP key belongs to: the user, the key's name, client, scope (read-only or not) and
        expiry, and how many PM connections the user has (the built-in tracker included)."""
        principal = call.principal
        connections = await connections_of(call)
        return WhoAmI(
            user_id=principal.user_id,
            email=principal.user_email,
            name=principal.user_name,
            key_name=principal.key_name,
            client=principal.client,
            read_only=principal.read_only,
            key_expires_at=principal.expires_at,
            connection_count=len(connections.usable),
        )
