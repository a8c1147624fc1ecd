"""Browser tests: Debian's Chromium driven by Playwright against the real portal process (hypercorn, as the
Procfile runs it) and, where a page shows tool calls, the real worker.

Locally, without Chromium these tests skip and say why. With BROWSER_TESTS_REQUIRED=1 (CI sets it) a
browser that can't start is a failure. Screenshots go to test-artifacts/ (not committed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web_process import PortalProcess, start_portal
from tests.worker.harness import free_port, start_worker

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _required() -> bool:
    return os.environ.get("BROWSER_TESTS_REQUIRED", "").strip().lower() in ("1", "true", "yes")


def _unavailable(reason: str):
    if _required():
        pytest.fail(f"The browser tests must run here (BROWSER_TESTS_REQUIRED is set), but {reason}")
    pytest.skip(f"browser tests skipped: {reason} (install Debian's chromium package to run them)")


@pytest.fixture(scope="module")
def chromium():
    """Module-scoped: Playwright's sync API holds an event loop on this thread while it runs, which the
    async tests elsewhere need free, so it stops when a browser module is done."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"there is no Chromium at {CHROMIUM}")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Error as exc:
        manager.stop()
        _unavailable(f"Chromium did not start: {str(exc).splitlines()[0]}")
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture(scope="session")
def browser_worker(schema, database_url, tmp_path_factory):
    from tests.conftest import CREDENTIALS_KEY

    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "CREDENTIALS_KEY": CREDENTIALS_KEY,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser-worker-instance")),
        "ALLOWED_PROVIDER_HOSTS": "127.0.0.1",
    }
    process = start_worker(env, tmp_path_factory.mktemp("browser-worker-log") / "worker.log")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def portal(schema, database_url, browser_worker, tmp_path_factory) -> Iterator[PortalProcess]:
    """The portal as the Procfile's web process."""
    from tests.conftest import CREDENTIALS_KEY

    port = free_port()
    env = {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "CREDENTIALS_KEY": CREDENTIALS_KEY,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser-portal-instance")),
        "ALLOWED_PROVIDER_HOSTS": "127.0.0.1",
        "PUBLIC_PORTAL_URL": f"http://127.0.0.1:{port}",
        "PUBLIC_MCP_URL": browser_worker.url,
    }
    process = start_portal(env, port, tmp_path_factory.mktemp("browser-portal-log") / "portal.log")
    yield process
    process.stop()


@pytest.fixture
def context(chromium, portal, app):
    """A fresh browser profile on an empty database (the `app` fixture empties the tables afterwards)."""
    context = chromium.new_context(viewport=DESKTOP, base_url=portal.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal.url)
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
