"""What tools share: the caller's connections, opaque cursors, and how provider errors read."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from portal.core.errors import UserFacingError
from portal.core.providers import errors
from portal.core.providers.registry import PROVIDER_LABELS
from portal.core.services.connections import ConnectionView

from ..connections import UserConnections
from .budget import Budget
from .registry import ToolCall, ToolFailure

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
FAN_OUT_SECONDS = 20.0


async def connections_of(call: ToolCall) -> UserConnections:
    """The caller's connections within its key's or grant's limits, loaded once per tool call."""
    loaded = call.extra.get("connections")
    if loaded is None:
        loaded = await call.directory.for_user(call.principal.user_id, call.principal.limits)
        call.extra["connections"] = loaded
    return loaded


def budget_of(call: ToolCall) -> Budget:
    """How much room this worker gives a result's long fields (MCP_MAX_RESULT_TOKENS)."""
    return Budget.of(call.runtime.settings.mcp_max_result_tokens)


def note(call: ToolCall, view: ConnectionView, target: str | None = None) -> None:
    """Record which connection and object a call is about, for the audit row and error messages."""
    call.connection_id = view.id
    call.connection_slug = view.slug
    call.extra["view"] = view
    if target:
        call.target = target


def encode_cursor(tool: str, position: Any) -> str | None:
    """An opaque next_cursor for `tool` holding the adapter's `position` (None when there is no more)."""
    if not position:
        return None
    raw = json.dumps({"t": tool, "k": position}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, tool: str) -> Any:
    """The position a cursor of `tool` holds, or None without a cursor; a foreign cursor is refused."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict) or state.get("t") != tool:
        raise ToolFailure(
            f"That cursor doesn't belong to {tool}: pass back the next_cursor {tool} returned, or omit it to start over."
        )
    return state.get("k")


def decode_fan_out_cursor(cursor: str | None, tool: str) -> dict[str, Any] | None:
    """For tools that ask every connection: each connection's position, by slug."""
    positions = decode_cursor(cursor, tool)
    if positions is not None and not isinstance(positions, dict):
        raise ToolFailure(f"That cursor doesn't belong to {tool}: omit it to start over.")
    return positions


def explain_provider_error(call: ToolCall, exc: errors.ProviderError) -> str:
    """A provider failure as one message that names the connection and says what to do."""
    view: ConnectionView | None = call.extra.get("view")
    slug = view.slug if view else (call.connection_slug or "the connection")
    label = PROVIDER_LABELS.get(view.provider_type, "the provider") if view else "the provider"
    portal = call.runtime.settings.public_portal_url
    if isinstance(exc, errors.AuthenticationFailed):
        return f"{slug} rejected the stored token: update it at {portal}/connections ({exc})."
    if isinstance(exc, errors.PermissionDenied):
        return f"{slug}: permission denied. The account behind this connection may not do this ({exc})."
    if isinstance(exc, errors.NotFound):
        return f"{slug}: not found ({exc}). Check the ref; the list_* tools show valid ones."
    if isinstance(exc, errors.Conflict):
        return f"{slug}: the object changed meanwhile ({exc}). Read it again, then retry."
    if isinstance(exc, errors.InvalidInput):
        return f"{slug} refused the values given: {exc}"
    if isinstance(exc, errors.RateLimited):
        wait = f"{exc.retry_after:.0f} seconds" if exc.retry_after is not None else "a minute"
        return f"{slug} ({label}) is rate limiting requests: retry after {wait}."
    if isinstance(exc, errors.NotSupported):
        return f"{slug} ({label}) does not support this: {exc}"
    if isinstance(exc, errors.AddressNotAllowed):
        return f"{slug}: {exc}"
    if isinstance(exc, errors.NotThisProduct):
        return f"{slug}: {exc} Fix the URL at {portal}/connections."
    if isinstance(exc, errors.Unavailable):
        return f"{slug} ({label}) is unavailable: {exc} Try again later."
    return f"{slug}: {exc}"


def failure_of(view_slug: str, exc: BaseException, call: ToolCall) -> tuple[str, str]:
    """(error class, message) for one connection's failure inside a fan-out."""
    if isinstance(exc, errors.ProviderError):
        saved = call.extra.get("view")
        call.extra["view"] = next((v for v in call.extra["connections"].views if v.slug == view_slug), saved)
        message = explain_provider_error(call, exc)
        call.extra["view"] = saved
        return exc.kind, message
    if isinstance(exc, TimeoutError):
        return (
            "timed_out",
            f"{view_slug} did not answer in time ({exc}); the other connections' results are shown.",
        )
    if isinstance(exc, UserFacingError):
        return exc.error_class, f"{view_slug}: {exc}"
    # Logged with its traceback by fan_out; only its kind is shown here.
    return (
        "internal_error",
        f"{view_slug} failed because of an unexpected error on the server ({type(exc).__name__}); "
        "it has been logged for the administrator, and the other connections' results are shown.",
    )
