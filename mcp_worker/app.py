"""The worker's ASGI application.

    GET  /sse        the legacy HTTP+SSE transport (with POST /messages/?session_id=...)
    POST /messages/
    *    /mcp        Streamable HTTP: the 2025-11-25 initialize handshake and the
                     sessionless 2026-07-28 protocol; stateless with MCP_STATELESS=1
    GET  /healthz    database reachable, version
    GET  /.well-known/oauth-protected-resource[/mcp|/sse]
                     RFC 9728 metadata naming the portal as the authorization server
    anything else    404, with a JSON body saying how to connect and authenticate

The transports' paths go through AuthMiddleware first. ClientAddressMiddleware puts the
client's address (behind trusted proxies) in the scope; UnreadBodyMiddleware, outermost, reads
what is left of a request's body before an early answer, so the connection stays usable.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from portal.core.config import Settings
from portal.core.db import DatabaseUnavailable
from portal.core.oauth.grants import READ_SCOPE, WRITE_SCOPE
from portal.core.principals import CredentialRejected, Limits, Principal

from . import __version__
from .audit import UsageRecorder
from .auth import (
    DATABASE_ERRORS,
    MCP_ENDPOINTS,
    RESOURCE_METADATA_PATH,
    AuthMiddleware,
    CredentialVerifier,
    client_address,
    guarded,
    principal_of,
    send_json_error,
)
from .bus import WorkerBus
from .connections import ConnectionDirectory
from .front import ClientAddressMiddleware, UnreadBodyMiddleware, refuse_websocket
from .runtime import Runtime
from .sessions import KeyedSessionManager, SessionFront, SseRouter
from .throttle import AuthThrottle, DatabaseAuthThrottle, InProcessAuthThrottle
from .tools import build_registry
from .tools.registry import ToolRegistry, error_result

log = logging.getLogger(__name__)

SERVER_NAME = "pm-server"
INSTRUCTIONS = (
    "Project-management tools over the user's own trackers (JIRA, OpenProject, ClickUp, Redmine and the "
    "built-in team tracker). Every object has a ref '<connection>:<id>'; pass refs back to other tools. "
    "Start with list_connections or list_my_tasks."
)


# Who is calling in an in-process MCP session, where no HTTP request carries a credential; set only
# by WorkerApp.signed_in, which verifies the credential as AuthMiddleware does. Never set on the HTTP path.
_IN_PROCESS_PRINCIPAL: ContextVar[Principal | None] = ContextVar("in_process_principal", default=None)


class WorkerApp:
    """The assembled worker: MCP server, transports, authentication, background recorder."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime | None = None,
        registry: ToolRegistry | None = None,
        throttle: AuthThrottle | None = None,
    ):
        self.settings = settings
        self.runtime = runtime or Runtime.from_settings(settings)
        self.registry = registry or build_registry()
        self.directory = ConnectionDirectory(self.runtime)
        self.verifier = CredentialVerifier(self.runtime, ttl=settings.key_cache_seconds)
        self.usage = UsageRecorder(self.runtime)
        shared = self.runtime.database.engine.dialect.name == "postgresql"
        if throttle is None:
            # Several workers share PostgreSQL, so they share the counts; SQLite means one process.
            limit, window = settings.mcp_auth_failure_limit, settings.mcp_auth_failure_window
            if shared:
                throttle = DatabaseAuthThrottle(self.runtime, limit=limit, window=window)
            else:
                throttle = InProcessAuthThrottle(limit=limit, window=window)
        self.throttle = throttle
        self.draining = False
        self._sqlite_lock: Any = None
        self.server = Server(
            SERVER_NAME,
            version=__version__,
            title="PM MCP Server",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            get_tool_input_schema=self._input_schema,
        )
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(settings.mcp_allowed_hosts),
            allowed_origins=list(settings.mcp_allowed_origins),
        )
        self.sse = SseServerTransport("/messages/", security_settings=security)
        self.sse_router = SseRouter(self.sse, self.runtime, security)
        self.sessions = KeyedSessionManager(
            app=self.server,
            stateless=settings.mcp_stateless,
            security_settings=security,
            session_idle_timeout=settings.mcp_session_idle_minutes * 60,
            per_key=settings.mcp_sessions_per_key,
        )
        self.bus = WorkerBus.for_runtime(
            self.runtime,
            on_revocation=self._on_revocation,
            on_forward=self.sse_router.deliver,
            on_resubscribed=self._on_resubscribed,
        )
        self.sse_router.bus = self.bus
        metadata_paths = [RESOURCE_METADATA_PATH] + [RESOURCE_METADATA_PATH + e for e in MCP_ENDPOINTS]
        starlette = Starlette(
            routes=[
                Route("/healthz", self._healthz, methods=["GET"]),
                *(
                    Route(path, self._resource_metadata, methods=["GET", "OPTIONS"])
                    for path in metadata_paths
                ),
                Route("/sse", _AsgiEndpoint(self._sse), methods=["GET"]),
                Mount("/messages/", app=self.sse_router.handle_post),
                Route("/mcp", SessionFront(self.sessions, StreamableHTTPASGIApp(self.sessions))),
            ],
            exception_handlers={404: self._not_found},
            lifespan=self._lifespan,
        )
        self.auth = AuthMiddleware(
            starlette,
            verifier=self.verifier,
            usage=self.usage,
            throttle=self.throttle,
            recheck_interval=max(0.25, settings.key_cache_seconds / 2),
            public_mcp_url=settings.public_mcp_url,
        )
        self.asgi = ClientAddressMiddleware(self.auth, settings.forwarded_allow_ips)
        self._front = UnreadBodyMiddleware(self._serve)

    async def __call__(self, scope, receive, send) -> None:
        await self._front(scope, receive, send)

    async def _serve(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":  # refused here, before authentication or routing
            await refuse_websocket(scope, receive, send)
            return
        if self.draining and scope["type"] == "http" and guarded(scope.get("path", "")):
            # Stopping: a new request goes to another worker (the balancer retries a 503 it got first).
            await send_json_error(
                send,
                503,
                "This worker is restarting and takes no new requests; send the request again.",
                reason="worker_stopping",
                headers={"Retry-After": "1", "Connection": "close"},
                code=-32000,
            )
            return
        await self.asgi(scope, receive, send)

    def begin_shutdown(self) -> None:
        """SIGTERM: refuse new requests, let calls in flight finish, end open streams cleanly."""
        self.draining = True
        self.auth.end_streams()

    def _claim_sqlite(self) -> None:
        """With SQLite the worker runs as one process: say so if another already serves the same file."""
        database = self.runtime.database.engine.url.database
        if self.runtime.database.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return
        self._sqlite_lock = open(f"{database}.worker-lock", "a")  # noqa: SIM115 (held for the lifetime)
        try:
            fcntl.flock(self._sqlite_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log.warning(
                "Another worker process already serves this SQLite database. With SQLite run one worker "
                "process: SSE sessions, revocation notices and the wrong-key throttle are not shared "
                "between processes. To run several workers, use PostgreSQL (DATABASE_URL=postgresql://...)."
            )

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(self._claim_sqlite)
        async with self.sessions.run(), self.running():
            yield

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The background work any session needs (audit recorder, bus, session sweep), stopped on leaving."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.usage.run)
            if self.bus is not None:
                await tg.start(self.bus.run)
            tg.start_soon(self._sweep_sessions)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()
                self.directory.close()
                if self._sqlite_lock is not None:
                    self._sqlite_lock.close()

    # --- revocation -------------------------------------------------------------------------
    async def _on_revocation(self, subject: str, subject_id: int, user_id: int | None) -> None:
        """A notice from the portal: drop what is cached about the subject, end its sessions and streams."""
        if subject == "connection":
            return  # connection rows are read on every call; nothing cached to drop
        if subject == "user":
            self.verifier.forget_where(lambda p: p.user_id == subject_id)
            await self.sessions.end_sessions(lambda owner: owner.get("subject") == f"user-{subject_id}")
        else:
            self.verifier.forget_where(lambda p: p.kind == subject and p.credential_id == subject_id)
            await self.sessions.end_sessions(
                lambda owner: owner.get("client_id") == f"{subject}-{subject_id}"
            )
        self.auth.recheck_streams()

    async def _on_resubscribed(self) -> None:
        # Notices sent while the bus was away are lost: forget every cached credential instead.
        self.verifier.forget()
        self.auth.recheck_streams()

    async def _sweep_sessions(self) -> None:
        """End the Streamable HTTP sessions of credentials no longer valid (the fallback to notices)."""
        interval = max(1.0, self.settings.key_cache_seconds)
        while True:
            await anyio.sleep(interval)
            for presented in self.sessions.credentials():
                try:
                    await self.verifier.verify_presented(presented)  # type: ignore[arg-type]
                except CredentialRejected as rejected:
                    if rejected.reason == "expired" and getattr(presented, "kind", None) == "token":
                        continue  # an OAuth client refreshes its token and goes on in the same session
                    await self.sessions.end_sessions_presented(presented)
                except DATABASE_ERRORS:
                    break  # the database is away; the sessions stay until it is back

    @contextlib.asynccontextmanager
    async def signed_in(self, raw_credential: str) -> AsyncIterator[Principal]:
        """Serve in-process MCP sessions (`Client(app.server)`) opened in this block as the credential's holder.

        The key or access token is verified exactly as AuthMiddleware verifies a presented one.
        Raises CredentialRejected when it would be refused over HTTP.
        """
        _, principal = await self.verifier.verify(raw_credential)
        token = _IN_PROCESS_PRINCIPAL.set(principal)
        try:
            yield principal
        finally:
            _IN_PROCESS_PRINCIPAL.reset(token)

    # --- MCP handlers ----------------------------------------------------------
    async def _list_tools(self, ctx, params) -> types.ListToolsResult:
        principal = _principal(ctx)
        limits = principal.limits if principal is not None else Limits(read_only=True)
        return types.ListToolsResult(tools=self.registry.listing(limits))

    async def _call_tool(self, ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        principal = _principal(ctx)
        if principal is None:  # unreachable behind AuthMiddleware; refuse rather than guess
            return error_result("This request carried no verified MCP API key or access token.")
        request = ctx.request
        return await self.registry.call(
            params.name,
            params.arguments,
            runtime=self.runtime,
            principal=principal,
            usage=self.usage,
            client_ip=client_address(request.scope) if isinstance(request, Request) else None,
            directory=self.directory,
        )

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        spec = self.registry.get(name)
        return spec.mcp_tool.input_schema if spec else None

    # --- HTTP endpoints -----------------------------------------------------------
    async def _healthz(self, request: Request) -> Response:
        if self.draining:
            return JSONResponse({"status": "stopping", "version": __version__}, 503)
        try:
            await self.runtime.in_db_thread(self.runtime.database.ping)
        except DatabaseUnavailable:
            return JSONResponse({"status": "error", "database": "unreachable", "version": __version__}, 503)
        body: dict[str, Any] = {"status": "ok", "database": "ok", "version": __version__}
        if self.bus is not None:
            body["notifications"] = "listening" if self.bus.listening else "reconnecting"
        return JSONResponse(body)

    async def _resource_metadata(self, request: Request) -> Response:
        """RFC 9728: this server is the resource; the portal is its authorization server."""
        headers = {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers": "MCP-Protocol-Version",
            "Cache-Control": "public, max-age=300",
        }
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=headers)
        suffix = request.url.path[len(RESOURCE_METADATA_PATH) :]
        return JSONResponse(
            {
                "resource": f"{self.settings.public_mcp_url}{suffix}",
                "authorization_servers": [self.settings.public_portal_url],
                "scopes_supported": [READ_SCOPE, WRITE_SCOPE],
                "bearer_methods_supported": ["header"],
                "resource_name": "PM MCP Server",
                "resource_documentation": f"{self.settings.public_portal_url}/keys",
            },
            headers=headers,
        )

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        """Any path the worker doesn't serve (other discovery paths included): say how to connect.

        A 404 with directions rather than a 401, so that a client probing here shows
        this message and an unknown path never counts as a failed authentication.
        """
        portal = self.settings.public_portal_url
        mcp = self.settings.public_mcp_url
        return JSONResponse(
            {
                "error": "not_found",
                "message": (
                    f"Nothing is served at {request.url.path[:200]}. Connect your MCP client to {mcp}/mcp "
                    f"(Streamable HTTP) or {mcp}/sse (SSE), with an MCP API key in the X-MCP-API-Key header "
                    f"(create one in the portal at {portal}/keys) or by signing in with OAuth, whose "
                    f"authorization server is the portal ({portal})."
                ),
                "mcp_endpoints": [f"{mcp}/mcp", f"{mcp}/sse"],
                "get_a_key": f"{portal}/keys",
                "authorization_server": portal,
            },
            status_code=404,
        )

    async def _sse(self, scope, receive, send) -> None:
        async def run(read, write) -> None:
            await self.server.run(read, write, self.server.create_initialization_options())

        await self.sse_router.serve_stream(scope, receive, send, run)


class _AsgiEndpoint:
    """A raw ASGI endpoint for Starlette routing: the transport writes the whole response itself."""

    def __init__(self, app):
        self._app = app

    async def __call__(self, scope, receive, send) -> None:
        await self._app(scope, receive, send)


def _principal(ctx) -> Principal | None:
    request = getattr(ctx, "request", None)
    if isinstance(request, Request):
        return principal_of(request.scope)
    return _IN_PROCESS_PRINCIPAL.get()
