"""The outermost layers of the worker's ASGI app: the rest of a request's body read before an early
answer, the client's address behind trusted proxies, and the refusal of WebSocket handshakes."""

from __future__ import annotations

from typing import Any

import anyio

from portal.core.client_address import TrustedProxies, client_address

# What is read and dropped, at most, of a body the app answered without reading: enough for any
# JSON-RPC message a client sends; a larger or slower body is not waited for.
UNREAD_BODY_BYTES = 64 * 1024
UNREAD_BODY_SECONDS = 2.0


class UnreadBodyMiddleware:
    """Read the rest of a request's body before the response starts, so the connection can be reused.

    hypercorn closes a keep-alive connection after a response sent before the request's body had
    arrived (a 401 for a missing key, a 404, a 503), without saying so in the response: a client that
    sends its next request on that connection meets "Server disconnected without sending a response".
    A small body is read and dropped first; for a large or slow one the response says
    `Connection: close` instead, so the client opens a new connection.
    """

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        finished = not _declares_body(scope)

        async def tracked_receive() -> dict[str, Any]:
            nonlocal finished
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                finished = True
            return message

        async def checked_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and not finished:
                await _read_rest(tracked_receive, lambda: finished)
                if not finished:
                    message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, tracked_receive, checked_send)


def _declares_body(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


async def _read_rest(receive: Any, finished: Any) -> None:
    """Read and drop body chunks until the body ends, UNREAD_BODY_BYTES were read, or time is up."""
    read = 0
    with anyio.move_on_after(UNREAD_BODY_SECONDS):
        while not finished() and read <= UNREAD_BODY_BYTES:
            message = await receive()
            read += len(message.get("body", b""))


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
