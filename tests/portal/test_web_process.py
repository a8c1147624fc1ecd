"""The portal as the Procfile's web process serves it: under hypercorn, over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from tests.worker.harness import free_port


@pytest.fixture
def web(app_config, schema):
    port = free_port()
    env = {**os.environ, **{k: str(v) for k, v in app_config.items()}}
    process = subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "portal.wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


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
    """Run as the Procfile says; FORWARDED_ALLOW_IPS names the proxy (the test, on 127.0.0.1)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    command = next(
        line.split(":", 1)[1].strip()
        for line in (root / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    port = free_port()
    env = {
        **os.environ,
        **{k: str(v) for k, v in app_config.items()},
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "WEB_HOST": "127.0.0.1",
        "PORT": str(port),
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    log_path = tmp_path / "web.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        assert requests.get(f"{url}/login?next=/keys", timeout=5).status_code == 200
        assert requests.get(f"{url}/login", headers={"X-Forwarded-For": "203.0.113.8"}, timeout=5).ok
        deadline = time.monotonic() + 5
        while log_path.read_text().count("203.0.113.8") < 1 and time.monotonic() < deadline:
            time.sleep(0.1)  # the line is written once the response is done
    finally:
        process.terminate()
        process.wait(timeout=10)
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
