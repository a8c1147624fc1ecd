"""Shared fixtures, in the style of the Flask tutorial: app, client, runner, auth.

The database is chosen by TEST_DATABASE_URL (SQLite in a temporary file by
default, or a PostgreSQL URL). The schema is built once per session from the
models; every test starts from empty tables. The migrations themselves are
tested on their own databases in test_migrations.py.

`make test` runs the tests in several processes (pytest-xdist): each has its own
SQLite file, or its own PostgreSQL database beside TEST_DATABASE_URL's, and the
tests that use the one Redmine server all run in the same process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from portal.app import create_app
from portal.core.config import normalize_database_url
from portal.core.db import make_engine
from portal.core.models import Base
from portal.core.providers import metadata

CREDENTIALS_KEY = Fernet.generate_key().decode()
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_provider_metadata() -> Iterator[None]:
    """Every test starts with no vendor metadata cached: the fakes are reset between tests."""
    metadata.SHARED.clear()
    yield
    metadata.SHARED.clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of the real Redmine share one server and its server-wide settings (custom fields, saved
    queries, the list of projects): one process runs them all (`--dist loadgroup`), and first, so that
    the other processes share out the rest meanwhile rather than wait for them at the end."""
    on_redmine = [i for i in items if "redmine" in getattr(i, "fixturenames", ()) or "[redmine" in i.nodeid]
    for item in on_redmine:
        item.add_marker(pytest.mark.xdist_group("redmine"))
    chosen = set(on_redmine)
    items[:] = on_redmine + [item for item in items if item not in chosen]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    url = normalize_database_url(url)
    process = os.environ.get("PYTEST_XDIST_WORKER")
    if not process:
        yield url
        return
    # One database per test process, made and dropped here, so that emptying tables between tests
    # never touches another process's rows.
    own = make_url(url).set(database=f"{make_url(url).database}_{process}")
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    yield own.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def schema(database_url) -> Iterator[None]:
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield
    engine = make_engine(database_url)
    Base.metadata.drop_all(engine)
    engine.dispose()


def empty_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    engine.dispose()


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "CREDENTIALS_KEY": CREDENTIALS_KEY,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "ALLOWED_PROVIDER_HOSTS": "127.0.0.1",
        "PUBLIC_MCP_URL": "http://127.0.0.1:8080",
    }


@pytest.fixture
def app(schema, database_url, app_config):
    app = create_app(app_config)
    yield app
    with app.app_context():
        from portal.extensions import db

        db.session.remove()
        db.engine.dispose()
    empty_tables(database_url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form on `url` (tests post forms the way a browser does)."""
    page = client.get(url)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    if match is None:
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def post_form(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """POST `data` to `url` with the CSRF token taken from `page` (default: `url`)."""
    token = csrf_token(client, page or url)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


class AuthActions:
    def __init__(self, client, app):
        self._client = client
        self._app = app

    def create_user(self, email="ana@example.com", password=PASSWORD, name="Ana Silva", **kwargs):
        from portal.core import accounts
        from portal.extensions import db

        with self._app.app_context():
            user = accounts.create_user(
                db.session, email=email, password=password, display_name=name, **kwargs
            )
            db.session.commit()
            return user.id

    def login(self, email="ana@example.com", password=PASSWORD, next_url=None):
        url = "/login" + (f"?next={next_url}" if next_url else "")
        return post_form(self._client, url, {"email": email, "password": password}, page="/login")

    def logout(self):
        return post_form(self._client, "/logout", {}, page="/account")


@pytest.fixture
def auth(client, app):
    return AuthActions(client, app)
