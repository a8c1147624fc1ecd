"""The domain of sprint work: sprint writes, links between tasks, logged work, history and fields.

These types complete the ones in base.py (which re-exports them) for the operations an agent runs a
sprint with: create, start and close sprints, move tasks between sprints and the backlog, say what blocks
what, log time, read what changed on a task, and set the vendor's own (custom) fields by their names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .unset import UNSET

if TYPE_CHECKING:
    from .base import User
    from .errors import ProviderError


class LinkKind(StrEnum):
    """The link kinds every provider offers, as read from the task the link is listed on.

    A vendor's own link types (JIRA's "clones", OpenProject's "precedes") are passed by
    their name instead and come back with kind OTHER and the vendor's phrase in `TaskLink.label`.
    """

    BLOCKS = "blocks"
    BLOCKED_BY = "is blocked by"
    RELATES = "relates to"
    DUPLICATES = "duplicates"
    DUPLICATED_BY = "is duplicated by"
    OTHER = "other"

    @property
    def inverse(self) -> LinkKind:
        """The same link as read from the other task."""
        return _INVERSE.get(self, self)


_INVERSE = {
    LinkKind.BLOCKS: LinkKind.BLOCKED_BY,
    LinkKind.BLOCKED_BY: LinkKind.BLOCKS,
    LinkKind.DUPLICATES: LinkKind.DUPLICATED_BY,
    LinkKind.DUPLICATED_BY: LinkKind.DUPLICATES,
}


@dataclass(frozen=True)
class LinkType:
    """A kind of link the vendor offers: its name and how it reads in each direction.

    `outward` is how the source task reads ("blocks"), `inward` how the target reads
    ("is blocked by"); both equal for a symmetric type ("relates to"). `kind` is the
    generic kind the outward direction stands for, OTHER for a vendor's own type.
    """

    id: str
    name: str
    outward: str
    inward: str
    kind: LinkKind = LinkKind.OTHER


@dataclass
class TaskLink:
    """A link between two tasks, as seen from `task_ref`.

    `ref` (`<slug>:<link id>`) is what unlink_tasks takes; `kind` is the generic kind as
    read from this task (this task BLOCKS the other, or IS BLOCKED BY it), `label` the
    vendor's own phrase for the same direction ("is blocked by", "precedes").
    `other_done` is whether the other task is in a done status, where the vendor says
    (a task is blocked while any BLOCKED_BY link points at a task that is not done).
    """

    ref: str
    id: str
    kind: LinkKind
    label: str
    task_ref: str
    other_ref: str
    other_key: str | None = None
    other_title: str | None = None
    other_done: bool | None = None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Worklog:
    """Time logged on a task; `comment` is Markdown."""

    ref: str
    id: str
    task_ref: str
    hours: float
    started: datetime | None = None
    author: User | None = None
    comment: str | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorklogDraft:
    """Time to log: `hours` > 0; `started` defaults to now at the vendor; `comment` is Markdown."""

    hours: float
    started: datetime | None = None
    comment: str | None = None


@dataclass(frozen=True)
class WorklogQuery:
    """Worklogs of one person (a native user id, or ME) over days, within a project when given.

    `since` and `until` are inclusive whole days (UTC).
    """

    user_id: str
    since: date
    until: date
    project_id: str | None = None


@dataclass
class HistoryEntry:
    """One changed field of a task: who changed it from what to what, when.

    `field` is the field's human name as the vendor shows it ("Status", "Story Points");
    `old` and `new` are the values as people read them (names, not ids), None when empty.
    A vendor change of several fields at once is several entries with the same `at`.
    """

    at: datetime
    field: str
    old: str | None = None
    new: str | None = None
    author: User | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # `field` above shadows the helper


class FieldType(StrEnum):
    """What a task field holds, as tools validate values against it."""

    TEXT = "text"  # one line
    MARKDOWN = "markdown"  # long text, Markdown
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    OPTION = "option"  # one of `allowed`
    OPTIONS = "options"  # several of `allowed`
    USER = "user"  # a person (me, an email, a name or a user ref)
    USERS = "users"
    LABELS = "labels"  # free words
    URL = "url"
    OTHER = "other"  # readable, but not settable through `fields`


@dataclass(frozen=True)
class FieldDef:
    """A field a task can have in a project (and issue type), custom ones included.

    `id` is the vendor's field id ("customfield_10016", "customField3", a ClickUp field
    uuid, "cf_4"); `name` its human name, which tools match case-insensitively.
    `allowed` lists the valid values of OPTION/OPTIONS fields (names, as people pick
    them). `custom` is True for fields the vendor's users defined; `settable` is False for
    fields this adapter can read but not write through `TaskDraft.fields`/`TaskChanges.fields`
    (the standard fields tools have their own arguments for are listed with settable=False).
    """

    id: str
    name: str
    type: FieldType
    custom: bool = True
    required: bool = False
    settable: bool = True
    allowed: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def standard(
        cls,
        id: str,
        name: str,
        type: FieldType,
        *,
        required: bool = False,
        allowed: tuple[str, ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> FieldDef:
        """One of the vendor's own task fields, listed for reading: tools set it through their arguments."""
        return cls(
            id,
            name,
            type,
            custom=False,
            required=required,
            settable=False,
            allowed=allowed,
            extra=extra or {},
        )


@dataclass(frozen=True)
class SprintDraft:
    """A new sprint; dates are whole days."""

    name: str
    start: date | None = None
    end: date | None = None
    goal: str | None = None


BACKLOG: str = "backlog"
"""Where move_to_sprint and SprintChanges.move_open_to send tasks out of every sprint."""


@dataclass(frozen=True)
class SprintChanges:
    """Changes to a sprint: UNSET leaves a field alone, None clears it.

    `state` ACTIVE starts a future sprint, CLOSED closes an active one; closing moves the
    sprint's open tasks to `move_open_to` (a native sprint id, or BACKLOG), which is
    required when the sprint has open tasks and ignored otherwise.
    """

    name: Any = UNSET  # str
    goal: Any = UNSET  # str | None
    start: Any = UNSET  # date | None
    end: Any = UNSET  # date | None
    state: Any = UNSET  # SprintState.ACTIVE or SprintState.CLOSED
    move_open_to: Any = UNSET  # a native sprint id, or BACKLOG

    def changed(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if value is not UNSET}


@dataclass
class MoveOutcome:
    """One task's result in a move to a sprint or the backlog: None when it moved, else why not."""

    task_id: str
    error: ProviderError | None = None
