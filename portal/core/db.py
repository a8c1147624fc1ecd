"""Engine and session factory for the worker, the command line and scripts.

The portal gets its engine from Flask-SQLAlchemy; both go through
`engine_options` so SQLite behaves the same in every process.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .config import mask_database_url


class DatabaseUnavailable(Exception):
    """The database can't be reached; the message names it with the password masked."""


def is_busy(exc: BaseException) -> bool:
    """True when SQLite refused because another process holds its write lock (it is up, but busy)."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig).lower()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the portal and the worker
    # read while the other writes, and busy_timeout waits out a short write lock.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def engine_options(url: str) -> dict[str, Any]:
    """Engine keyword arguments suited to the database behind `url`."""
    if url.startswith("sqlite"):
        return {"connect_args": {"check_same_thread": False, "timeout": 5}}
    return {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 10,
        "connect_args": {"connect_timeout": 5},
    }


def make_engine(url: str) -> Engine:
    return create_engine(url, **engine_options(url))


class Database:
    """An engine and a session factory, for code that runs outside Flask."""

    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine if engine is not None else make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_engine(cls, engine: Engine) -> Database:
        """Wrap an engine made elsewhere (the portal's, from Flask-SQLAlchemy)."""
        return cls(engine.url.render_as_string(hide_password=False), engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Raise DatabaseUnavailable with one clear line if the database can't be reached."""
        ping_engine(self.engine, self.url)

    def dispose(self) -> None:
        self.engine.dispose()


def ping_engine(engine: Engine, url: str) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"Cannot reach the database at {mask_database_url(url)}: {reason}"
        ) from None
