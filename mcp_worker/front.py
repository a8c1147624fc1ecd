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
