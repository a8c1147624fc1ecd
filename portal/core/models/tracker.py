"""The team tracker's tables, on the shared `Base` (every table is prefixed `tracker_`).

Projects own their statuses, sprints and tasks; a task's key ("DEMO-12") is the
project key and a number unique within the project. Every change to a task field
is kept in `tracker_task_changes` as text, so the history reads the same after
a user, sprint or status is renamed or removed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..providers.base import PriorityLevel, SprintState, StatusCategory
from .accounts import User
from .base import Base, utcnow

# The vocabularies below are stored as plain strings (the domain enums' values, less their UNKNOWN)
# and checked by the service: a CHECK constraint per value list would make every addition a table
# rebuild on SQLite.
STATUS_CATEGORIES = tuple(c.value for c in StatusCategory if c is not StatusCategory.UNKNOWN)
PRIORITIES = tuple(  # highest first, as people list them
    p.value
    for p in (
        PriorityLevel.HIGHEST,
        PriorityLevel.HIGH,
        PriorityLevel.MEDIUM,
        PriorityLevel.LOW,
        PriorityLevel.LOWEST,
        PriorityLevel.NONE,
    )
)
TASK_TYPES = ("task", "bug", "story", "epic")
SPRINT_STATES = tuple(s.value for s in SprintState if s is not SprintState.UNKNOWN)
# A link reads "source <kind> target": A blocks B, A relates to B, A duplicates B.
LINK_KINDS = ("blocks", "relates", "duplicates")
FIELD_TYPES = ("text", "number", "date", "option")

DEFAULT_STATUSES = (("To do", "todo"), ("In progress", "in_progress"), ("Done", "done"))


class TrackerProject(Base):
    __tablename__ = "tracker_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last task number handed out: numbers of deleted tasks are never reused,
    # so an old "DEMO-7" in a chat or a commit never points at a different task.
    last_task_number: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    created_by: Mapped[User | None] = relationship()
    statuses: Mapped[list[TrackerStatus]] = relationship(
        back_populates="project",
        order_by="TrackerStatus.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<TrackerProject {self.key}>"


class TrackerStatus(Base):
    __tablename__ = "tracker_statuses"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20))  # one of STATUS_CATEGORIES
    position: Mapped[int] = mapped_column(Integer, default=0)

    project: Mapped[TrackerProject] = relationship(back_populates="statuses")

    @property
    def is_done(self) -> bool:
        return self.category == StatusCategory.DONE

    def __repr__(self) -> str:
        return f"<TrackerStatus {self.name!r} {self.category}>"


class TrackerSprint(Base):
    """A time box of a project. Dates are whole days (UTC): a sprint covers its end day."""

    __tablename__ = "tracker_sprints"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    goal: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    state: Mapped[str] = mapped_column(String(10), default="future")  # one of SPRINT_STATES
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[TrackerProject] = relationship()

    def __repr__(self) -> str:
        return f"<TrackerSprint {self.id} {self.name!r} {self.state}>"


class TrackerTask(Base):
    __tablename__ = "tracker_tasks"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)  # Markdown
    status_id: Mapped[int] = mapped_column(ForeignKey("tracker_statuses.id"), index=True)
    priority: Mapped[str] = mapped_column(String(10), default="none")  # one of PRIORITIES
    type: Mapped[str] = mapped_column(String(10), default="task")  # one of TASK_TYPES
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_date: Mapped[date | None]
    estimate_hours: Mapped[float | None] = mapped_column(Float)
    story_points: Mapped[float | None] = mapped_column(Float)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracker_tasks.id", ondelete="SET NULL"), index=True
    )
    epic_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracker_tasks.id", ondelete="SET NULL"), index=True
    )
    sprint_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracker_sprints.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the task last entered a done status; cleared when it leaves one.
    done_at: Mapped[datetime | None]

    project: Mapped[TrackerProject] = relationship()
    status: Mapped[TrackerStatus] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    parent: Mapped[TrackerTask | None] = relationship(foreign_keys=[parent_id], remote_side=[id])
    epic: Mapped[TrackerTask | None] = relationship(foreign_keys=[epic_id], remote_side=[id])
    sprint: Mapped[TrackerSprint | None] = relationship()

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"

    def __repr__(self) -> str:
        return f"<TrackerTask {self.id} #{self.number}>"


class TrackerComment(Base):
    __tablename__ = "tracker_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracker_tasks.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class TrackerTaskChange(Base):
    """One changed field of a task: who, when, and the old and new values as people read them."""

    __tablename__ = "tracker_task_changes"
    __table_args__ = (Index("ix_tracker_task_changes_task_id_at", "task_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracker_tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship()


class TrackerTaskLink(Base):
    """A directed link between two tasks: `source` blocks, relates to or duplicates `target`.

    One link per pair and kind; "relates" reads the same both ways, so the service also
    refuses B relates A when A relates B.
    """

    __tablename__ = "tracker_task_links"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        CheckConstraint("source_id <> target_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("tracker_tasks.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("tracker_tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of LINK_KINDS
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[TrackerTask] = relationship(foreign_keys=[source_id])
    target: Mapped[TrackerTask] = relationship(foreign_keys=[target_id])
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<TrackerTaskLink {self.id} {self.source_id} {self.kind} {self.target_id}>"


class TrackerWorklog(Base):
    """Time a person spent on a task, on a day; `comment` is Markdown."""

    __tablename__ = "tracker_worklogs"
    __table_args__ = (
        Index("ix_tracker_worklogs_user_id_started_on", "user_id", "started_on"),
        CheckConstraint("seconds > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracker_tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_on: Mapped[date]
    seconds: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    task: Mapped[TrackerTask] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def hours(self) -> float:
        return self.seconds / 3600


class TrackerField(Base):
    """A custom field of a project's tasks: its name, type and, for an option field, the allowed values."""

    __tablename__ = "tracker_fields"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    type: Mapped[str] = mapped_column(String(10))  # one of FIELD_TYPES
    allowed: Mapped[list[Any]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<TrackerField {self.name!r} {self.type}>"


class TrackerFieldValue(Base):
    """A task's value of a custom field, as text: numbers as written, dates in ISO form."""

    __tablename__ = "tracker_field_values"
    __table_args__ = (UniqueConstraint("task_id", "field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracker_tasks.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("tracker_fields.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(Text)

    field: Mapped[TrackerField] = relationship()
