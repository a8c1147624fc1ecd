"""Fixtures of the built-in tracker's service tests: a session on the test database, Ana, her project."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.core.models import User
from portal.core.tracker import service

from .helpers import T0, person


@pytest.fixture
def database(app) -> Database:
    from portal.extensions import db

    with app.app_context():
        return Database.from_engine(db.engine)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.session() as session:
        yield session


@pytest.fixture
def ana(session: Session) -> User:
    return person(session, "ana@example.com", "Ana Silva")


@pytest.fixture
def project(session: Session, ana: User):
    return service.create_project(session, key="DEMO", name="Demo", actor_id=ana.id, at=T0)
