"""MCP sessions when several worker processes serve one address.

SSE: the stream lives in the worker that answered `GET /sse`; a
`POST /messages/?session_id=...` may land on any worker. With the bus
(PostgreSQL) every POST is checked against `mcp_sse_sessions` (the owner and
the credential that opened the session, found by primary key), then sent to the
owner's channel as one committed NOTIFY; the owner feeds the session's read
stream in the order the notices committed, which is the order the client got its
202s in. Replies go out on the stream, as always. A session answers only the
credential that opened it, as the SDK's own check does in one process.

Streamable HTTP (2025-11-25 sessions): each key or OAuth grant may hold at most
`MCP_SESSIONS_PER_KEY` sessions in a worker; an idle one ends after
`MCP_SESSION_IDLE_MINUTES`; a revoked credential's sessions end at once. With
several workers run `/mcp` stateless (`MCP_STATELESS=1`, see the README).
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    AuthorizationContext,
    authorization_context,
)
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import (
    DEFAULT_MAX_REQUEST_BODY_SIZE,
    RequestBodyLimitMiddleware,
    TransportSecurityMiddleware,
    TransportSecuritySettings,
)
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from portal.core.db import DatabaseUnavailable
from portal.core.models import SseSessionOwner

from .auth import PRESENTED_KEY
from .bus import WorkerBus
from .runtime import Runtime

log = logging.getLogger(__name__)


# The SDK's first event on a new stream names the session: "data: /messages/?session_id=<32 hex>".
_SESSION_IN_ENDPOINT = re.compile(rb"session_id=([0-9a-f]{32})")
QUEUED_PER_SESSION = 1000


def credential_of(scope: Scope) -> str | None:
    """'key-<id>' or 'grant-<id>': the credential a request was authenticated with."""
    user = scope.get("user")
    return authorization_context(user)["client_id"] if isinstance(user, AuthenticatedUser) else None


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


async def json_rpc_error(send: Send, status: int, message: str, *, reason: str, code: int = -32000) -> None:
    """An HTTP error whose body is a JSON-RPC error a client can show."""
    body = types.JSONRPCError(
        jsonrpc="2.0", id=None, error=types.ErrorData(code=code, message=message, data={"reason": reason})
    ).model_dump_json(by_alias=True, exclude_none=True)
    response = Response(body, status_code=status, media_type="application/json")
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


@dataclass
class _HeldSession:
    """An SSE session whose stream this worker holds."""

    scope: Scope
    credential: str | None
    inbox: MemoryObjectSendStream[dict[str, Any]]


class SseRouter:
    """Serves `GET /sse` and `POST /messages/` so that any worker can take a session's POSTs."""

    def __init__(
        self,
        transport: SseServerTransport,
        runtime: Runtime,
        security: TransportSecuritySettings,
        max_body: int = DEFAULT_MAX_REQUEST_BODY_SIZE,
    ):
        self.transport = transport
        self._runtime = runtime
        self._security = TransportSecurityMiddleware(security)
        self._post_app = RequestBodyLimitMiddleware(self._post, max_body)
        self.bus: WorkerBus | None = None
        self._held: dict[str, _HeldSession] = {}

    @property
    def held(self) -> int:
        return len(self._held)

    async def serve_stream(
        self, scope: Scope, receive: Receive, send: Send, run: Callable[[Any, Any], Awaitable[None]]
    ) -> None:
        """The SSE stream: the SDK's transport, with the session registered for the other workers."""
        registered: list[str] = []
        async with anyio.create_task_group() as tg:

            async def sending(message: Message) -> None:
                if not registered and message["type"] == "http.response.body":
                    found = _SESSION_IN_ENDPOINT.search(message.get("body", b""))
                    if found:
                        session_id = found.group(1).decode()
                        registered.append(session_id)
                        await self._hold(session_id, scope, tg)
                await send(message)

            try:
                async with self.transport.connect_sse(scope, receive, sending) as (read, write):
                    await run(read, write)
            except ValueError:
                pass  # connect_sse already answered (the Host or Origin check failed)
            finally:
                tg.cancel_scope.cancel()
                with anyio.CancelScope(shield=True):
                    for session_id in registered:
                        await self._release(session_id)

    async def _hold(self, session_id: str, scope: Scope, tg: anyio.abc.TaskGroup) -> None:
        if self.bus is None:
            return  # one process: the SDK's own POST handler finds the session
        inbox, outbox = anyio.create_memory_object_stream[dict[str, Any]](QUEUED_PER_SESSION)
        held = _HeldSession(scope=scope, credential=credential_of(scope), inbox=inbox)
        owner = SseSessionOwner(
            session_id=session_id, worker=self.bus.worker_id, credential=held.credential or "-"
        )
        await self._runtime.in_db_thread(self._insert, owner)
        self._held[session_id] = held
        tg.start_soon(self._feed, session_id, held, outbox)

    def _insert(self, owner: SseSessionOwner) -> None:
        with self._runtime.database.session() as session:
            session.add(owner)

    async def _release(self, session_id: str) -> None:
        held = self._held.pop(session_id, None)
        if held is None:
            return
        held.inbox.close()
        try:
            await self._runtime.in_db_thread(self._delete, session_id)
        except (SQLAlchemyError, DatabaseUnavailable) as exc:
            log.warning("could not forget SSE session %s: %s", session_id[:8], type(exc).__name__)

    def _delete(self, session_id: str) -> None:
        with self._runtime.database.session() as session:
            session.execute(delete(SseSessionOwner).where(SseSessionOwner.session_id == session_id))

    def deliver(self, message: dict[str, Any]) -> None:
        """A message forwarded to this worker (from the bus): queue it for its session, in order."""
        held = self._held.get(str(message.get("session")))
        if held is None:
            log.info("a message arrived for an SSE session that has ended here")
            return
        try:
            held.inbox.send_nowait(message)
        except anyio.WouldBlock:
            log.warning("dropped a message for a session whose queue is full")

    async def _feed(self, session_id: str, held: _HeldSession, outbox) -> None:
        writer = self.transport._read_stream_writers.get(UUID(hex=session_id))
        if writer is None:
            return
        async with outbox:
            async for item in outbox:
                if "ref" in item:
                    assert self.bus is not None
                    stored = await self.bus.take_payload(int(item["ref"]))
                    if stored is None:
                        continue
                    item = stored
                try:
                    message = types.jsonrpc_message_adapter.validate_json(item["body"], by_name=False)
                except (ValidationError, KeyError, TypeError):
                    continue  # checked by the worker that took the POST; never expected here
                scope = dict(held.scope)
                scope["client"] = (str(item.get("ip") or "unknown"), 0)
                metadata = ServerMessageMetadata(request_context=Request(scope))
                await writer.send(SessionMessage(message, metadata=metadata))

    async def handle_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.bus is None:
            await self.transport.handle_post_message(scope, receive, send)
            return
        if scope["method"] != "POST":
            await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return
        await self._post_app(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.bus is not None
        request = Request(scope, receive)
        refused = await self._security.validate_request(request, is_post=True)
        if refused:
            await refused(scope, receive, send)
            return
        session_id = (request.query_params.get("session_id") or "").lower()
        try:
            session_id = UUID(hex=session_id).hex
        except ValueError:
            await json_rpc_error(
                send,
                400,
                "The session_id in the URL is missing or malformed: POST to the URL the SSE stream's "
                "endpoint event gave, or reconnect to /sse.",
                reason="bad_session_id",
            )
            return
        credential = credential_of(scope)
        try:
            owner = await self._owner(session_id)
        except (SQLAlchemyError, DatabaseUnavailable):
            await _database_away(send)
            return
        if owner is None or owner[1] != credential:
            # Someone else's session answers exactly as a missing one does.
            await json_rpc_error(
                send,
                404,
                "This SSE session is not open any more (or was opened with another key): reconnect to /sse.",
                reason="session_not_found",
                code=-32001,
            )
            return
        if owner[0] == self.bus.worker_id and not self.bus.listening:
            # This worker would not hear its own notice yet (its LISTEN is reconnecting).
            await _database_away(send)
            return
        body = await request.body()
        try:
            types.jsonrpc_message_adapter.validate_json(body, by_name=False)
        except ValidationError:
            await json_rpc_error(
                send, 400, "The request body is not a JSON-RPC message.", reason="parse_error", code=-32700
            )
            return
        try:
            await self.bus.forward(
                owner[0], {"session": session_id, "body": body.decode(), "ip": _client_ip(scope)}
            )
        except (SQLAlchemyError, DatabaseUnavailable):
            await _database_away(send)
            return
        await Response("Accepted", status_code=202)(scope, receive, send)

    async def _owner(self, session_id: str) -> tuple[str, str | None] | None:
        held = self._held.get(session_id)
        if held is not None and self.bus is not None:
            return self.bus.worker_id, held.credential
        return await self._runtime.in_db_thread(self._load_owner, session_id)

    def _load_owner(self, session_id: str) -> tuple[str, str | None] | None:
        with self._runtime.database.session() as session:
            row = session.execute(
                select(SseSessionOwner.worker, SseSessionOwner.credential).where(
                    SseSessionOwner.session_id == session_id
                )
            ).one_or_none()
        return (row.worker, row.credential) if row else None


async def _database_away(send: Send) -> None:
    await json_rpc_error(
        send,
        503,
        "The server's database is not answering right now; try again in a few seconds.",
        reason="database_unavailable",
    )


# --- Streamable HTTP -------------------------------------------------------------------------------

_presenting: contextvars.ContextVar[object | None] = contextvars.ContextVar("pm_presenting", default=None)


class KeyedSessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager, with a cap on sessions per credential and a way to end a credential's."""

    def __init__(self, *args: Any, per_key: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.per_key = per_key
        self._presented_by: dict[str, object] = {}

    def sessions_of(self, requestor: AuthorizationContext) -> int:
        return sum(1 for owner in self._session_owners.values() if owner == requestor)

    @property
    def open_sessions(self) -> int:
        return len(self._server_instances)

    def _admit_session(self, requestor: AuthorizationContext | None):
        # Called under the SDK's creation lock: the cap holds even for simultaneous openings.
        if requestor is not None and self.sessions_of(requestor) >= self.per_key:
            return None
        transport = super()._admit_session(requestor)
        presented = _presenting.get()
        if transport is not None and transport.mcp_session_id and presented is not None:
            self._presented_by[transport.mcp_session_id] = presented
        return transport

    async def _discard_session(self, session_id: str, transport: Any) -> None:
        self._presented_by.pop(session_id, None)
        await super()._discard_session(session_id, transport)

    def note_presented(self, session_id: str, requestor: AuthorizationContext, presented: object) -> None:
        """The credential last presented for a session (an OAuth client's refreshed token replaces the old)."""
        if session_id in self._presented_by and self._session_owners.get(session_id) == requestor:
            self._presented_by[session_id] = presented

    def credentials(self) -> set[object]:
        """The distinct credentials (as presented) holding sessions here."""
        return set(self._presented_by.values())

    async def end_sessions(self, match: Callable[[AuthorizationContext], bool]) -> int:
        """End every session whose owner `match`es; returns how many ended."""
        ended = [
            (session_id, transport)
            for session_id, transport in list(self._server_instances.items())
            if (owner := self._session_owners.get(session_id)) is not None and match(owner)
        ]
        for session_id, transport in ended:
            await self._discard_session(session_id, transport)
        if ended:
            log.info("ended %d Streamable HTTP sessions of a credential no longer valid", len(ended))
        return len(ended)

    async def end_sessions_presented(self, presented: object) -> int:
        """End every session opened with `presented` (found no longer valid); returns how many ended."""
        ended = [sid for sid, p in self._presented_by.items() if p == presented]
        for session_id in ended:
            transport = self._server_instances.get(session_id)
            if transport is not None:
                await self._discard_session(session_id, transport)
        if ended:
            log.info("ended %d Streamable HTTP sessions of a credential no longer valid", len(ended))
        return len(ended)


class SessionFront:
    """In front of `/mcp`: refuses a credential's session beyond its cap with a message, not a bare 503."""

    def __init__(self, manager: KeyedSessionManager, app: Any):
        self.manager = manager
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._opens_session(scope):
            user = scope.get("user")
            if isinstance(user, AuthenticatedUser):
                held = self.manager.sessions_of(authorization_context(user))
                if held >= self.manager.per_key:
                    await json_rpc_error(
                        send,
                        429,
                        f"This key already holds {held} open sessions on this server, the most one key may "
                        "hold. Close sessions you no longer use (or wait for idle ones to expire), or use "
                        "another key for another client.",
                        reason="too_many_sessions",
                    )
                    return
        presented = scope.get(PRESENTED_KEY)
        user = scope.get("user")
        session_id = _header(scope, MCP_SESSION_ID_HEADER)
        if session_id and presented is not None and isinstance(user, AuthenticatedUser):
            self.manager.note_presented(session_id, authorization_context(user), presented)
        token = _presenting.set(presented)
        try:
            await self.app(scope, receive, send)
        finally:
            _presenting.reset(token)

    def _opens_session(self, scope: Scope) -> bool:
        if self.manager.stateless or scope.get("method") != "POST":
            return False
        headers = dict(scope.get("headers", ()))
        if MCP_SESSION_ID_HEADER.encode() in headers:
            return False
        version = headers.get(MCP_PROTOCOL_VERSION_HEADER.lower().encode())
        return version is None or version.decode("latin-1") in HANDSHAKE_PROTOCOL_VERSIONS


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode()
    for key, value in scope.get("headers", ()):
        if key == wanted:
            return value.decode("latin-1")
    return None
