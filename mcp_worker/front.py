"""The outermost layer of the worker's ASGI app: the client's address behind trusted proxies."""

from __future__ import annotations

from typing import Any

from portal.core.client_address import TrustedProxies, client_address


class ClientAddressMiddleware:
    """Replace `scope["client"]` by the address `X-Forwarded-For` gives, when a trusted proxy sent it.

    The scope is changed in place on purpose: hypercorn's access log reads the
    same scope after the response, so the log names the client, not the proxy.
    """

    def __init__(self, app: Any, trusted: TrustedProxies):
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.trusted and scope.get("type") in ("http", "websocket"):
            peer = scope.get("client")
            forwarded = [
                value.decode("latin-1")
                for name, value in scope.get("headers", ())
                if name == b"x-forwarded-for"
            ]
            if forwarded and peer:
                address = client_address(peer[0], forwarded, self.trusted)
                if address != peer[0]:
                    scope["client"] = (address, 0)
        await self.app(scope, receive, send)


WEBSOCKET_REFUSAL = (
    b'{"error": "websocket_not_supported", "message": "This MCP server does not speak WebSocket. Connect over '
    b'Streamable HTTP at /mcp or SSE at /sse, with the key in the X-MCP-API-Key header."}'
)


async def refuse_websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer a WebSocket handshake with 400 and a JSON body saying how to connect, before any app code."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(WEBSOCKET_REFUSAL)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": WEBSOCKET_REFUSAL})
    else:
        await send({"type": "websocket.close", "code": 1008})  # the server answers 403
