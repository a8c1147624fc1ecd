"""The portal as the Procfile's web process serves it: under hypercorn, over real HTTP."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import httpx2
import pytest
import requests

from tests.web_process import start_portal
from tests.worker.harness import free_port


@pytest.fixture
def web(app_config, schema, tmp_path):
    portal = start_portal({k: str(v) for k, v in app_config.items()}, free_port(), tmp_path / "web.log")
    yield portal.url
    portal.stop()


def test_pages_and_a_cached_stylesheet_are_served(web):
    assert requests.get(f"{web}/login", timeout=5).status_code == 200
    first = requests.get(f"{web}/static/style.css", timeout=5)
    assert first.status_code == 200 and "--accent" in first.text
    # A browser revisiting asks whether its copy is still good: the answer is an empty 304, not a 500.
    again = requests.get(
        f"{web}/static/style.css",
        headers={"If-None-Match": first.headers["ETag"], "If-Modified-Since": first.headers["Last-Modified"]},
        timeout=5,
    )
    assert again.status_code == 304
    assert requests.head(f"{web}/login", timeout=5).status_code == 200


def test_the_procfile_web_process_logs_each_request_once_with_the_client_address(
    app_config, schema, tmp_path
):
    """FORWARDED_ALLOW_IPS names the proxy (the test, on 127.0.0.1)."""
    env = {**{k: str(v) for k, v in app_config.items()}, "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    portal = start_portal(env, free_port(), tmp_path / "web.log")
    log_path = portal.log_path
    try:
        assert requests.get(f"{portal.url}/login?next=/keys", timeout=5).status_code == 200
        assert requests.get(f"{portal.url}/login", headers={"X-Forwarded-For": "203.0.113.8"}, timeout=5).ok
        deadline = time.monotonic() + 5
        while log_path.read_text().count("203.0.113.8") < 1 and time.monotonic() < deadline:
            time.sleep(0.1)  # the line is written once the response is done
    finally:
        portal.stop()
    lines = [line for line in log_path.read_text().splitlines() if '"GET /login ' in line]
    assert len(lines) == 2, lines
    assert '127.0.0.1 "GET /login HTTP/1.1" 200' in lines[0] and "next=" not in lines[0]
    assert '203.0.113.8 "GET /login HTTP/1.1" 200' in lines[1]


WEBSOCKET_HANDSHAKE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


def test_a_websocket_handshake_is_refused_cleanly(web):
    response = requests.get(f"{web}/login", headers=WEBSOCKET_HANDSHAKE, timeout=5)
    assert response.status_code in (400, 403, 426)  # refused by the server, never a 500 from the app
    assert requests.get(f"{web}/login", timeout=5).status_code == 200


def test_an_idle_connection_outlives_the_clients_own_keep_alive(web):
    # An OAuth client signs in through a browser between two requests to the portal on one pooled
    # connection; httpx and Node reuse an idle one for 4 to 5 seconds, so the portal must keep it longer
    # (hypercorn's own default is 5 s, which closes it under the client's next request).
    client_keep_alive = httpx2.Limits().keepalive_expiry
    assert client_keep_alive is not None
    parts = urlsplit(web)
    connection = http.client.HTTPConnection(str(parts.hostname), int(parts.port or 80), timeout=10)
    try:
        connection.request("GET", "/healthz")
        assert connection.getresponse().read() and connection.sock is not None
        time.sleep(client_keep_alive + 1)  # the idle time itself is what is tested
        connection.request("GET", "/healthz")  # http.client would reconnect only after an error
        assert connection.getresponse().status == 200
    finally:
        connection.close()
