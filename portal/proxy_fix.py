"""The portal's client address behind trusted reverse proxies (FORWARDED_ALLOW_IPS).

Werkzeug's ProxyFix trusts a fixed number of hops from whoever connects; this
applies the rule the worker applies too (portal.core.client_address): the
X-Forwarded-For header is believed only when the direct peer is a listed proxy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from portal.core.client_address import TrustedProxies, client_address

PEER_KEY = "pm.peer_addr"


class TrustedProxyFix:
    """WSGI middleware: REMOTE_ADDR becomes the client's address (the direct peer stays in PEER_KEY)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], trusted: TrustedProxies):
        self.app = app
        self.trusted = trusted

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR")
        environ[PEER_KEY] = peer
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if self.trusted and forwarded:
            environ["REMOTE_ADDR"] = client_address(peer, [forwarded], self.trusted)
        return self.app(environ, start_response)
