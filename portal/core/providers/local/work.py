"""Sprint work on the built-in tracker: every operation of the adapter interface, over our own tables.

Links are stored once, from source to target ("A blocks B"), and read from either task;
worklogs are whole minutes on a day; custom fields are per project, with ids `cf_<n>`.
The tracker has no query language of its own, so a native query is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from portal.core.models import TrackerField, TrackerProject, TrackerSprint, TrackerTask
from portal.core.tracker import service, work

from .. import errors
from ..base import (
    BACKLOG,
    MAX_DATABASE_ID,
    ME,
    FieldDef,
    HistoryEntry,
    LinkKind,
    LinkType,
    MoveOutcome,
    Page,
    PageRequest,
    Sprint,
    SprintChanges,
    SprintDraft,
    SprintState,
    TaskLink,
    Worklog,
    WorklogDraft,
    WorklogQuery,
    is_number,
)
from .parse import (
    CUSTOM_FIELD_PREFIX,
    LINK_TYPES,
    STANDARD_FIELDS,
    invalid_input,
    native_int,
    parse_change,
    parse_field,
    parse_link,
    parse_sprint,
    parse_worklog,
)

NATIVE_QUERY_REFUSAL = (
    "The team tracker has no query language of its own: filter list_tasks by project, status, "
    "assignee, sprint, epic, text or blocked instead."
)


class LocalSprintWork:
    """Mixin of LocalAdapter: the sprint-work operations. Uses the adapter's session plumbing."""

    slug: str
    base_url: str
    user_id: int | None
    vendor: ClassVar[str]

    # Provided by LocalAdapter.
    _session: Callable[[], AbstractContextManager[Session]]
    _read: Callable[..., Any]
    _paged: Callable[..., Any]
    _task: Callable[[Session, str], TrackerTask]
    _sprint: Callable[[Session, str], TrackerSprint]

    # --- sprints -----------------------------------------------------------------------------

    def create_sprint(self, project_id: str, draft: SprintDraft) -> Sprint:
        with self._session() as session:
            project = service.get_project(session, project_id)
            sprint = service.create_sprint(
                session, project, name=draft.name, goal=draft.goal, start_date=draft.start, end_date=draft.end
            )
            return parse_sprint(self.slug, self.base_url, sprint)

    def update_sprint(self, sprint_id: str, changes: SprintChanges) -> Sprint:
        changed = changes.changed()
        with self._session() as session:
            sprint = self._sprint(session, sprint_id)
            edits = {name: changed[name] for name in ("name", "goal", "start", "end") if name in changed}
            if edits:
                service.update_sprint(
                    session,
                    sprint,
                    name=edits.get("name", sprint.name),
                    goal=edits.get("goal", sprint.goal),
                    start_date=edits.get("start", sprint.start_date),
                    end_date=edits.get("end", sprint.end_date),
                    state=sprint.state,
                )
            state = changed.get("state")
            if state is not None and SprintState(state) != SprintState(sprint.state):
                self._change_state(session, sprint, SprintState(state), changed.get("move_open_to"))
            return parse_sprint(self.slug, self.base_url, service.get_sprint(session, sprint.id))

    def _change_state(
        self, session: Session, sprint: TrackerSprint, state: SprintState, move_open_to: str | None
    ) -> None:
        if state == SprintState.ACTIVE:
            work.start_sprint(session, sprint)
        elif state == SprintState.CLOSED:
            target = None
            if move_open_to not in (None, BACKLOG):
                try:
                    target = self._sprint(session, str(move_open_to))
                except (errors.NotFound, service.TrackerNotFound):
                    raise errors.InvalidInput(
                        f"No sprint with the id {str(move_open_to)[:40]!r} to move the open tasks to",
                        field_errors={"move_open_to": "Give a sprint id of this project, or 'backlog'."},
                    ) from None
            work.close_sprint(
                session, sprint, move_open_to=target, backlog=move_open_to == BACKLOG, actor_id=self.user_id
            )
        else:
            raise errors.InvalidInput(
                f"{sprint.name} can't go back to {state}",
                field_errors={"state": "Start a planned sprint (active), or close a sprint (closed)."},
            )

    def move_to_sprint(self, task_ids: list[str], sprint_id: str) -> list[MoveOutcome]:
        with self._session() as session:
            sprint = None if sprint_id == BACKLOG else self._sprint(session, sprint_id)
            results = work.move_to_sprint(session, task_ids, sprint, actor_id=self.user_id)
            return [
                MoveOutcome(task_id=result.key, error=_provider_error(result.refusal)) for result in results
            ]

    # --- links -------------------------------------------------------------------------------

    def list_link_types(self) -> list[LinkType]:
        self._read(lambda session: None)  # the acting user must still be allowed in
        return list(LINK_TYPES)

    def list_links(self, task_id: str) -> list[TaskLink]:
        def find(session: Session) -> list[TaskLink]:
            task = self._task(session, task_id)
            return [parse_link(self.slug, self.base_url, view) for view in work.task_links(session, task)]

        return self._read(find)

    def link_tasks(
        self, task_id: str, other_id: str, link_type: LinkType, *, outward: bool = True
    ) -> TaskLink:
        kind = _link_kind(link_type)
        with self._session() as session:
            task = self._task(session, task_id)
            other = self._task(session, other_id)
            link = work.link_tasks(session, task, other, kind=kind, outward=outward, actor_id=self.user_id)
            view = next(v for v in work.task_links(session, task) if v.link.id == link.id)
            return parse_link(self.slug, self.base_url, view)

    def unlink_tasks(self, link_id: str) -> None:
        text = str(link_id).strip()
        if not is_number(text) or int(text) > MAX_DATABASE_ID:
            raise errors.NotFound(f"No link with the id {text[:40]!r}.")
        with self._session() as session:
            work.unlink_tasks(session, work.get_link(session, int(text)), actor_id=self.user_id)

    # --- logged work -------------------------------------------------------------------------

    def log_work(self, task_id: str, draft: WorklogDraft) -> Worklog:
        started = draft.started
        if started is not None and started.tzinfo is not None:
            started = started.astimezone(UTC)
        with self._session() as session:
            task = self._task(session, task_id)
            worklog = work.log_work(
                session,
                task,
                time=draft.hours,
                user_id=self.user_id,
                started_on=started.date() if started is not None else None,
                comment=draft.comment,
            )
            session.refresh(worklog)
            return parse_worklog(self.slug, self.base_url, worklog)

    def list_worklogs(self, task_id: str, page: PageRequest) -> Page[Worklog]:
        def find(session: Session, offset: int, limit: int) -> service.ResultPage[Any]:
            return work.list_worklogs(session, self._task(session, task_id), offset=offset, limit=limit)

        return self._paged(page, find, parse_worklog)

    def search_worklogs(self, query: WorklogQuery, page: PageRequest) -> Page[Worklog]:
        user_id = self.user_id if query.user_id == ME else native_int(query.user_id, "user_id")
        if user_id is None:  # a connection without its user (never made by the portal): nobody's time
            return Page(items=[], next_cursor=None)

        def find(session: Session, offset: int, limit: int) -> service.ResultPage[Any]:
            project = service.get_project(session, query.project_id) if query.project_id else None
            return work.search_worklogs(
                session,
                user_id=user_id,
                since=query.since,
                until=query.until,
                project=project,
                offset=offset,
                limit=limit,
            )

        return self._paged(page, find, parse_worklog)

    # --- history -----------------------------------------------------------------------------

    def task_history(self, task_id: str, page: PageRequest) -> Page[HistoryEntry]:
        def find(session: Session, offset: int, limit: int) -> service.ResultPage[Any]:
            return work.task_history(session, self._task(session, task_id), offset=offset, limit=limit)

        return self._paged(page, find, lambda slug, _base_url, change: parse_change(slug, change))

    # --- fields ------------------------------------------------------------------------------

    def list_fields(self, project_id: str, task_type: str | None = None) -> list[FieldDef]:
        """The same fields for every task type: the tracker's custom fields are per project."""

        def find(session: Session) -> list[FieldDef]:
            project = service.get_project(session, project_id)
            statuses = tuple(s.name for s in service.project_statuses(session, project))
            standard = [
                dataclasses.replace(f, allowed=statuses) if f.id == "status" else f for f in STANDARD_FIELDS
            ]
            return standard + [parse_field(f) for f in work.list_fields(session, project)]

        return self._read(find)

    def _checked_fields(
        self, session: Session, project: TrackerProject, values: dict[str, Any]
    ) -> dict[TrackerField, str | None]:
        """TaskDraft/TaskChanges `fields` (by FieldDef id, or a field's name) -> checked values."""
        by_id = {f"{CUSTOM_FIELD_PREFIX}{f.id}": f.name for f in work.list_fields(session, project)}
        standard = {f.id: f.name for f in STANDARD_FIELDS}
        named: dict[str, Any] = {}
        for key, value in values.items():
            if key in standard:
                raise errors.InvalidInput(
                    f"{standard[key]} is a standard field",
                    field_errors={
                        key: f"Set {standard[key].lower()} by its own argument, not through fields."
                    },
                )
            named[by_id.get(key, key)] = value
        return work.check_field_values(session, project, named)


def _link_kind(link_type: LinkType) -> str:
    """The tracker's kind for a link type of list_link_types (matched by id, name or generic kind)."""
    wanted = {link_type.id.lower(), link_type.name.lower()}
    for known in LINK_TYPES:
        if known.id in wanted or known.name.lower() in wanted:
            return known.id
    by_kind = {LinkKind.BLOCKS: "blocks", LinkKind.RELATES: "relates", LinkKind.DUPLICATES: "duplicates"}
    if link_type.kind in by_kind:
        return by_kind[link_type.kind]
    names = ", ".join(t.name for t in LINK_TYPES)
    raise errors.InvalidInput(
        f"The team tracker has no link type {link_type.name!r}",
        field_errors={"kind": f"Choose one of: {names}."},
    )


def _provider_error(refusal: service.TrackerError | None) -> errors.ProviderError | None:
    if refusal is None:
        return None
    if isinstance(refusal, service.TrackerNotFound):
        return errors.NotFound(str(refusal))
    if isinstance(refusal, service.InvalidTrackerInput):
        return invalid_input(refusal)
    return errors.InvalidInput(str(refusal))
