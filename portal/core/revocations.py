"""Telling every worker process at once that a credential, a user or a connection changed.

On PostgreSQL the announcement is a `NOTIFY` issued inside the caller's
transaction, so workers hear it exactly when the change commits (and never if it
rolls back); each worker drops what it cached about the subject. On SQLite there
is one worker process, whose short cache window is the whole story.
"""

from __future__ import annotations

import json
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "pm_revocations"
Subject = Literal["key", "grant", "user", "connection"]


def announce(session: Session, subject: Subject, subject_id: int, *, user_id: int | None = None) -> None:
    """Queue a notice that `subject` `subject_id` changed, delivered to workers when `session` commits."""
    if session.get_bind().dialect.name != "postgresql":
        return
    payload = json.dumps({"subject": subject, "id": subject_id, "user": user_id})
    session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


def parse(payload: str) -> tuple[Subject, int, int | None] | None:
    """(subject, id, user id) from a notice's payload, or None if it isn't one of ours."""
    try:
        data = json.loads(payload)
        subject, subject_id, user_id = data["subject"], int(data["id"]), data.get("user")
    except (ValueError, KeyError, TypeError):
        return None
    if subject not in ("key", "grant", "user", "connection"):
        return None
    return subject, subject_id, int(user_id) if user_id is not None else None
