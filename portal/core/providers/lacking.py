"""The sprint-work operations a provider lacks, refused alike until its package implements them.

Each refusal is NotSupported naming the vendor and the operation, so a tool result says
exactly what this connection can't do. A vendor package overrides what its API offers,
and replaces a refusal with a more precise one (what to use instead) where it knows better.
"""

from __future__ import annotations

from typing import ClassVar, NoReturn

from . import errors
from .base import (
    FieldDef,
    HistoryEntry,
    LinkType,
    MoveOutcome,
    Page,
    PageRequest,
    Sprint,
    SprintChanges,
    SprintDraft,
    TaskLink,
    Worklog,
    WorklogDraft,
    WorklogQuery,
)


class LacksSprintWork:
    """Mixin: every sprint-work operation of ProviderAdapter, refused with NotSupported."""

    vendor: ClassVar[str]

    def _lacks(self, what: str) -> NoReturn:
        raise errors.NotSupported(f"{self.vendor} connections can't {what} through this server.")

    def create_sprint(self, project_id: str, draft: SprintDraft) -> Sprint:
        self._lacks("create sprints")

    def update_sprint(self, sprint_id: str, changes: SprintChanges) -> Sprint:
        self._lacks("change, start or close sprints")

    def move_to_sprint(self, task_ids: list[str], sprint_id: str) -> list[MoveOutcome]:
        self._lacks("move tasks between sprints")

    def list_link_types(self) -> list[LinkType]:
        self._lacks("link tasks")

    def list_links(self, task_id: str) -> list[TaskLink]:
        self._lacks("link tasks")

    def link_tasks(
        self, task_id: str, other_id: str, link_type: LinkType, *, outward: bool = True
    ) -> TaskLink:
        self._lacks("link tasks")

    def unlink_tasks(self, link_id: str) -> None:
        self._lacks("link tasks")

    def log_work(self, task_id: str, draft: WorklogDraft) -> Worklog:
        self._lacks("log work")

    def list_worklogs(self, task_id: str, page: PageRequest) -> Page[Worklog]:
        self._lacks("log work")

    def search_worklogs(self, query: WorklogQuery, page: PageRequest) -> Page[Worklog]:
        self._lacks("search logged work")

    def task_history(self, task_id: str, page: PageRequest) -> Page[HistoryEntry]:
        self._lacks("read a task's history")

    def list_fields(self, project_id: str, task_type: str | None = None) -> list[FieldDef]:
        self._lacks("list or set custom fields")
