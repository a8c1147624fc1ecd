"""The SDK's bare round trip, for comparison: the same transports and the same hypercorn, one trivial
tool, no authentication, no database. `python benchmarks/bare_server.py PORT`."""

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

TOOL = types.Tool(name="whoami", description="Echo a fixed identity.", input_schema={"type": "object"})


async def list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[TOOL])


async def call_tool(ctx, params) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text="bench user")],
        structured_content={"user_id": 1, "email": "bench@example.com"},
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
    asyncio.run(serve(build(), config, mode="asgi"))


if __name__ == "__main__":
    main()
