"""The worker's ASGI application.

    GET  /sse        the legacy HTTP+SSE transport (with POST /messages/?session_id=...)
    POST /messages/
    *    /mcp        Streamable HTTP: the 2025-11-25 initialize handshake and the
                     sessionless 2026-07-28 protocol; stateless with MCP_STATELESS=1
    GET  /healthz    database reachable, version
    GET  /.well-known/oauth-protected-resource[/mcp|/sse]
                     RFC 9728 metadata naming the portal as the authorization server
    anything else    404, with a JSON body saying how to connect and authenticate

The transports' paths go through AuthMiddleware first. ClientAddressMiddleware,
outermost, puts the client's address (behind trusted proxies) in the scope.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import Server
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from portal.core.config import Settings
from portal.core.db import DatabaseUnavailable
from portal.core.oauth.grants import READ_SCOPE, WRITE_SCOPE
from portal.core.principals import Limits

from . import __version__
from .auth import (
    MCP_ENDPOINTS,
    RESOURCE_METADATA_PATH,
    AuthMiddleware,
    CredentialVerifier,
    UsageRecorder,
    client_address,
    principal_of,
)
from .connections import ConnectionDirectory
from .front import ClientAddressMiddleware
from .runtime import Runtime
from .throttle import AuthThrottle, InProcessAuthThrottle
from .tools import build_registry
from .tools.registry import ToolRegistry, error_result

log = logging.getLogger(__name__)

SERVER_NAME = "pm-server"
INSTRUCTIONS = (
    "Project-management tools over the user's own trackers (JIRA, OpenProject, ClickUp, Redmine and the "
    "built-in team tracker). Every object has a ref '<connection>:<id>'; pass refs back to other tools. "
    "Start with list_connections or list_my_tasks."
)


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
        self.throttle = throttle or InProcessAuthThrottle(
            limit=settings.mcp_auth_failure_limit, window=settings.mcp_auth_failure_window
        )
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
        self.sessions = StreamableHTTPSessionManager(
            app=self.server, stateless=settings.mcp_stateless, security_settings=security
        )
        metadata_paths = [RESOURCE_METADATA_PATH] + [RESOURCE_METADATA_PATH + e for e in MCP_ENDPOINTS]
        starlette = Starlette(
            routes=[
                Route("/healthz", self._healthz, methods=["GET"]),
                *(
                    Route(path, self._resource_metadata, methods=["GET", "OPTIONS"])
                    for path in metadata_paths
                ),
                Route("/sse", _AsgiEndpoint(self._sse), methods=["GET"]),
                Mount("/messages/", app=self.sse.handle_post_message),
                Route("/mcp", StreamableHTTPASGIApp(self.sessions)),
            ],
            exception_handlers={404: self._not_found},
            lifespan=self._lifespan,
        )
        self.asgi = ClientAddressMiddleware(
            AuthMiddleware(
                starlette,
                verifier=self.verifier,
                usage=self.usage,
                throttle=self.throttle,
                recheck_interval=max(0.25, settings.key_cache_seconds / 2),
                public_mcp_url=settings.public_mcp_url,
            ),
            settings.forwarded_allow_ips,
        )

    async def __call__(self, scope, receive, send) -> None:
        await self.asgi(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app) -> AsyncIterator[None]:
        async with self.sessions.run(), anyio.create_task_group() as tg:
            tg.start_soon(self.usage.run)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()
                self.directory.close()

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
        try:
            await self.runtime.in_db_thread(self.runtime.database.ping)
        except DatabaseUnavailable:
            return JSONResponse({"status": "error", "database": "unreachable", "version": __version__}, 503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

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

    async def _not_found(self, request: Request, exc: HTTPException) -> Response:
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
        try:
            async with self.sse.connect_sse(scope, receive, send) as (read, write):
                await self.server.run(read, write, self.server.create_initialization_options())
        except ValueError:
            # connect_sse already answered (the Host or Origin check failed).
            return


class _AsgiEndpoint:
    """A raw ASGI endpoint for Starlette routing: the transport writes the whole response itself."""

    def __init__(self, app):
        self._app = app

    async def __call__(self, scope, receive, send) -> None:
        await self._app(scope, receive, send)


def _principal(ctx):
    request = getattr(ctx, "request", None)
    if isinstance(request, Request):
        return principal_of(request.scope)
    return None


def create_worker(settings: Settings | None = None) -> WorkerApp:
    return WorkerApp(settings or Settings.from_env())
