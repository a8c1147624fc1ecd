"""The SDK's bare round trip, for comparison: the same transports and the same hypercorn, one trivial
tool answering a fixed result, no authentication, no database. `python benchmarks/bare_server.py PORT`."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import mcp_types as types
from hypercorn.asyncio import serve
from hypercorn.config import Config
from mcp.server.lowlevel.server import Server
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from mcp_worker.tools import build_registry
from mcp_worker.tools.account import WhoAmI

# The worker's own whoami definition and an answer of the same shape, so the client does the same work
# (including validating the structured result against the output schema) on both servers.
_WHOAMI = build_registry().get("whoami")
assert _WHOAMI is not None, "the worker has a whoami tool"
TOOL = _WHOAMI.mcp_tool
ANSWER = WhoAmI(
    user_id=1,
    email="bench@example.com",
    name="bench",
    signed_in_with="key",
    key_name="bench",
    client="other",
    read_only=False,
    key_expires_at=None,
    connection_count=1,
    allowed_connections=None,
    toolsets=["tasks"],
)


async def list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[TOOL])


async def call_tool(ctx, params) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=ANSWER.text())],
        structured_content=ANSWER.model_dump(mode="json"),
    )


def build() -> Starlette:
    server = Server("bare", on_list_tools=list_tools, on_call_tool=call_tool)
    sse = SseServerTransport("/messages/")
    sessions = StreamableHTTPSessionManager(app=server)

    class SseEndpoint:
        async def __call__(self, scope, receive, send) -> None:
            async with sse.connect_sse(scope, receive, send) as (read, write):
                await server.run(read, write, server.create_initialization_options())

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with sessions.run():
            yield

    return Starlette(
        routes=[
            Route("/sse", SseEndpoint(), methods=["GET"]),
            Mount("/messages/", app=sse.handle_post_message),
            Route("/mcp", StreamableHTTPASGIApp(sessions)),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    config = Config()
    config.bind = [f"127.0.0.1:{int(sys.argv[1])}"]
    config.accesslog = None
    # Starlette is an ASGI app; hypercorn's signature names its own, narrower scope types.
    asyncio.run(serve(build(), config, mode="asgi"))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
