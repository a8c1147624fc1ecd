from __future__ import annotations

import os

import pytest

from mcp_worker.app import WorkerApp
from portal.core import keys as key_service
from portal.core.config import Settings
from portal.core.models import User
from portal.extensions import db
from tests.conftest import PASSWORD
from tests.fakes.clickup import ClickUpFake
from tests.fakes.jira import FakeJira
from tests.fakes.openproject import FakeOpenProject

from .harness import WORKER_TEST_SETTINGS, start_worker


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def worker_env(database_url, tmp_path_factory) -> dict[str, str]:
    from tests.conftest import CREDENTIALS_KEY

    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "CREDENTIALS_KEY": CREDENTIALS_KEY,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("worker-instance")),
        "ALLOWED_PROVIDER_HOSTS": "127.0.0.1",
    }


@pytest.fixture(scope="session")
def worker(schema, worker_env, tmp_path_factory):
    """One worker process for the session, on the test database (tables are emptied between tests)."""
    process = start_worker(worker_env, tmp_path_factory.mktemp("worker-log") / "worker.log")
    yield process
    process.stop()


@pytest.fixture
async def in_process_worker(schema, worker_env):
    """The worker's app in this process, with its background recorder running, for in-memory clients."""
    app = WorkerApp(Settings.from_env({**os.environ, **WORKER_TEST_SETTINGS, **worker_env}))
    try:
        async with app.running():
            yield app
    finally:
        app.runtime.database.dispose()  # its own engine: no connection outlives the test


@pytest.fixture
def make_user(app):
    def make(email="ana@example.com", name="Ana Silva", **kwargs) -> int:
        from portal.core import accounts

        with app.app_context():
            user = accounts.create_user(
                db.session, email=email, password=PASSWORD, display_name=name, **kwargs
            )
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def make_key(app):
    def make(user_id: int, name="test key", **kwargs) -> str:
        with app.app_context():
            user = db.session.get(User, user_id)
            minted = key_service.mint_key(db.session, user, name=name, **kwargs)
            db.session.commit()
            return minted.raw_key

    return make


@pytest.fixture
def clickup_fake():
    fake = ClickUpFake(page_size=3)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def jira_fake():
    fake = FakeJira()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def openproject_fake():
    fake = FakeOpenProject()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def people(make_user):
    ana = make_user("ana@example.com", "Ana Silva")
    bo = make_user("bo@example.com", "Bo Berg")
    return ana, bo
