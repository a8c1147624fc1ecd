"""The migrations build the models' schema on SQLite and PostgreSQL, and go back down cleanly."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal.app import MIGRATIONS_DIR, create_app
from portal.core.config import normalize_database_url
from portal.core.models import Base


def _empty_database_url(tmp_path) -> tuple[str, callable]:
    """A URL of an empty database of the kind under test, and a function that drops it."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}", lambda: None
    base = normalize_database_url(base)
    name = f"pm_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def empty_db(tmp_path, app_config):
    url, drop = _empty_database_url(tmp_path)
    app = create_app({**app_config, "DATABASE_URL": url})
    yield app, url
    from portal.extensions import db

    with app.app_context():
        db.engine.dispose()
    drop()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_single_head():
    script = ScriptDirectory(MIGRATIONS_DIR)
    assert len(script.get_heads()) == 1


def test_upgrade_downgrade_upgrade_matches_the_models(empty_db):
    app, url = empty_db
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    assert _tables(url) == set(Base.metadata.tables)
    assert _differences(url) == []
    with app.app_context():
        downgrade(directory=MIGRATIONS_DIR, revision="base")
    assert _tables(url) == set()
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    assert _tables(url) == set(Base.metadata.tables)
    assert _differences(url) == []
