"""A WebSocket handshake is refused before the application: a 400 saying how to connect."""

from __future__ import annotations

import pytest
import requests

from tests.portal.test_web_process import WEBSOCKET_HANDSHAKE

from .harness import key_headers


@pytest.mark.parametrize("path", ["/mcp", "/sse", "/healthz", "/elsewhere"])
def test_a_websocket_handshake_gets_a_400_with_directions(worker, make_user, make_key, path):
    key = make_key(make_user())
    for headers in (WEBSOCKET_HANDSHAKE, {**WEBSOCKET_HANDSHAKE, **key_headers(key)}):
        response = requests.get(f"{worker.url}{path}", headers=headers, timeout=10)
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "websocket_not_supported"
        assert "/mcp" in body["message"] and "X-MCP-API-Key" in body["message"]
    assert "Traceback" not in worker.log()
