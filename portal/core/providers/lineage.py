"""What Redmine and OpenProject (which began as a fork of Redmine) still share.

Both know a project by a numeric id and a text identifier and show it at
`/projects/<identifier>`, show a person at `/users/<id>`, ship the same priority
names, and let a version stand for a sprint with the states open, locked and closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from .base import PriorityLevel, Project, SprintState, Task, User, make_ref

D = TypeVar("D", bound=date)

# Redmine's default priority names, which OpenProject kept, and their common renames; others are UNKNOWN.
PRIORITY_LEVELS = {
    "lowest": PriorityLevel.LOWEST,
    "low": PriorityLevel.LOW,
    "normal": PriorityLevel.MEDIUM,
    "medium": PriorityLevel.MEDIUM,
    "high": PriorityLevel.HIGH,
    "highest": PriorityLevel.HIGHEST,
    "urgent": PriorityLevel.HIGHEST,
    "immediate": PriorityLevel.HIGHEST,
}


def identified_project(
    raw: Mapping[str, Any], *, slug: str, base_url: str, description: str | None, extra: dict[str, Any]
) -> Project:
    """A project from its `id`, `identifier` and `name`; the key is the identifier."""
    identifier = str(raw.get("identifier") or raw["id"])
    return Project(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        key=identifier,
        name=str(raw.get("name") or identifier),
        url=f"{base_url}/projects/{identifier}",
        description=description,
        extra=extra,
    )


def numbered_user(
    raw: Mapping[str, Any], *, slug: str, base_url: str, name: str, email: str | None, extra: dict[str, Any]
) -> User:
    """A person known by a numeric `id`."""
    return User(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        name=name,
        email=email or None,
        url=f"{base_url}/users/{raw['id']}",
        extra=extra,
    )


def numbered_task(raw: Mapping[str, Any], *, slug: str, url: str, **fields: Any) -> Task:
    """An issue or a work package: known as `#<id>`, titled by its `subject`; `fields` are the rest."""
    task_id = str(raw["id"])
    return Task(
        ref=make_ref(slug, task_id),
        id=task_id,
        key=f"#{task_id}",
        title=str(raw.get("subject") or ""),
        url=url,
        **fields,
    )


def version_state(status: Any, start: D | None, now: D) -> SprintState:
    """The state of a version standing in for a sprint.

    Closed versions are CLOSED; open and locked ones FUTURE before their start, ACTIVE from then on.
    """
    if status == "closed":
        return SprintState.CLOSED
    if status in ("open", "locked"):
        return SprintState.FUTURE if start is not None and start > now else SprintState.ACTIVE
    return SprintState.UNKNOWN
