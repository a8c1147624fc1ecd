"""What the built-in tracker's service tests share: a fixed time, people, and a task's history as tuples."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from sqlalchemy.orm import Session

from portal.core import accounts
from portal.core.models import TrackerTask, User
from portal.core.tracker import service

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@cache
def _password_hash() -> str:
    return accounts.hash_password("correct horse battery")


def person(session: Session, email: str, name: str, active: bool = True) -> User:
    user = User(email=email, display_name=name, password_hash=_password_hash(), is_active=active)
    session.add(user)
    session.flush()
    return user


def history(session: Session, task: TrackerTask) -> list[tuple[str, str | None, str | None]]:
    return [(c.field, c.old_value, c.new_value) for c in service.task_history(session, task)]
