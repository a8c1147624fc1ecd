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
