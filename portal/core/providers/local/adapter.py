"""The built-in tracker behind the ProviderAdapter protocol, over our own database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from portal.core.db import Database, is_busy
from portal.core.models import TrackerProject, TrackerSprint, TrackerTask
from portal.core.models import User as UserRecord
from portal.core.tracker import service, work

from .. import errors
from ..base import (
    MAX_DATABASE_ID,
    ME,
    CheckResult,
    Comment,
    ConnectionConfig,
    Epic,
    Page,
    PageRequest,
    Priority,
    PriorityLevel,
    Project,
    Sprint,
    SprintState,
    Status,
    StatusCategory,
    Task,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    User,
    is_number,
)
from ..http import HttpPolicy
from ..paging import next_offset, offset_from, page_size
from .parse import (
    PRIORITY_BY_LEVEL,
    PRIORITY_LEVELS,
    STATUS_CATEGORIES,
    invalid_input,
    native_int,
    parse_comment,
    parse_epic,
    parse_priority,
    parse_project,
    parse_sprint,
    parse_status,
    parse_task,
    parse_user,
)
from .work import NATIVE_QUERY_REFUSAL, LocalSprintWork

R = TypeVar("R")

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100


class LocalAdapter(LocalSprintWork):
    """The built-in tracker, acting as the connection's owner."""

    provider_type: ClassVar[str] = "local"
    vendor: ClassVar[str] = "The team tracker"
    needs_username: ClassVar[bool] = False
    base_url_example: ClassVar[str] = ""

    def __init__(self, config: ConnectionConfig, policy: HttpPolicy, *, database: Database):
        self.slug = config.slug
        self.base_url = config.base_url.rstrip("/")
        self.user_id = config.user_id
        self.database = database

    def __repr__(self) -> str:
        return f"<LocalAdapter {self.slug} user={self.user_id}>"

    # --- plumbing -------------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A short session acting as the connection's user; tracker refusals become provider errors."""
        try:
            with self.database.session() as session:
                self._acting_user(session)
                yield session
        except service.TrackerNotFound as exc:
            raise errors.NotFound(str(exc)) from None
        except service.TrackerConflict as exc:
            raise errors.Conflict(str(exc)) from None
        except service.InvalidTrackerInput as exc:
            raise invalid_input(exc) from None
        except IntegrityError as exc:  # two people changing the same thing at once
            raise errors.Conflict("The team tracker's data changed at the same moment; try again.") from exc
        except SQLAlchemyError as exc:
            log.warning("The team tracker's database failed: %s", type(exc).__name__)
            if is_busy(exc):
                raise errors.Unavailable(
                    "The team tracker's database is busy with another change; try again in a moment."
                ) from exc
            raise errors.Unavailable("The team tracker's database can't be reached right now.") from exc

    def _acting_user(self, session: Session) -> UserRecord:
        user = session.get(UserRecord, self.user_id) if self.user_id is not None else None
        if user is None or not user.is_active:
            raise errors.AuthenticationFailed(
                "The team tracker account of this connection is disabled or no longer exists."
            )
        return user

    def _read(self, work: Callable[[Session], R]) -> R:
        with self._session() as session:
            return work(session)

    def _one(self, parse: Callable[[str, str, Any], R], find: Callable[[Session], Any]) -> R:
        """What `find(session)` finds, parsed with this connection's slug and base URL."""
        return self._read(lambda session: parse(self.slug, self.base_url, find(session)))

    def _paged(
        self,
        page: PageRequest,
        find: Callable[[Session, int, int], service.ResultPage[Any]],
        parse: Callable[[str, str, Any], R],
    ) -> Page[R]:
        """One page of what `find(session, offset, limit)` finds, parsed as `_one` parses."""
        offset, limit = offset_from(page), page_size(page, MAX_PAGE_SIZE)

        def work(session: Session) -> Page[R]:
            found = find(session, offset, limit)
            items = [parse(self.slug, self.base_url, row) for row in found.items]
            return Page(
                items=items, next_cursor=next_offset(offset, len(items), found.total), total=found.total
            )

        return self._read(work)

    def _task(self, session: Session, task_id: str) -> TrackerTask:
        return service.get_task(session, task_id)

    def _task_result(self, session: Session, task: TrackerTask) -> Task:
        """The task as stored, with its custom field values in `extra["fields"]` by name."""
        result = parse_task(self.slug, self.base_url, service.get_task_by_id(session, task.id))
        result.extra["fields"] = {field.name: value for field, value in work.field_values(session, task)}
        return result

    # --- identity -------------------------------------------------------------------------------

    def check(self) -> CheckResult:
        user = self.current_user()
        site = urlsplit(self.base_url).netloc or "this instance"
        return CheckResult(
            user=user,
            site=site,
            summary=f"Connected to the team tracker on {site} as {user.name}, {user.email}",
        )

    def current_user(self) -> User:
        return self._read(lambda session: parse_user(self.slug, self._acting_user(session)))

    # --- projects, statuses, priorities, people -------------------------------------------------

    def list_projects(self, page: PageRequest, text: str | None = None) -> Page[Project]:
        def find(session: Session, offset: int, limit: int) -> service.ResultPage[TrackerProject]:
            return service.list_projects(session, text=text, offset=offset, limit=limit)

        return self._paged(page, find, parse_project)

    def get_project(self, project_id: str) -> Project:
        return self._one(parse_project, lambda session: service.get_project(session, project_id))

    def list_statuses(self, project_id: str) -> list[Status]:
        def work(session: Session) -> list[Status]:
            project = service.get_project(session, project_id)
            return [parse_status(self.slug, s) for s in service.project_statuses(session, project)]

        return self._read(work)

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        if project_id is not None:
            self.get_project(project_id)
        # Highest first, as people list them; "none" is not a priority but its absence.
        return [
            priority
            for name in reversed(PRIORITY_BY_LEVEL.values())
            if (priority := parse_priority(name)) is not None
        ]

    def list_users(self, project_id: str | None = None, text: str | None = None) -> list[User]:
        def work(session: Session) -> list[User]:
            if project_id is not None:
                service.get_project(session, project_id)  # everyone may work in every project
            return [parse_user(self.slug, u) for u in service.assignable_users(session, text=text)]

        return self._read(work)

    # --- tasks ----------------------------------------------------------------------------------

    def _task_filter(self, session: Session, query: TaskQuery) -> service.TaskFilter:
        project = service.get_project(session, query.project_id) if query.project_id else None
        assignee_id = None
        if query.assignee == ME:
            assignee_id = self.user_id
        elif query.assignee:
            assignee_id = native_int(query.assignee, "assignee")
        epic_id = service.get_task(session, query.epic_id).id if query.epic_id else None
        categories = frozenset(
            name for name, category in STATUS_CATEGORIES.items() if category in query.categories
        )
        if query.updated_since is not None and query.updated_since.tzinfo is None:
            raise errors.InvalidInput(
                "updated_since must be timezone-aware",
                field_errors={"updated_since": "Give a time with its zone (UTC)."},
            )
        return service.TaskFilter(
            project_id=project.id if project else None,
            assignee_id=assignee_id,
            unassigned=query.unassigned,
            status_names=tuple(s.name for s in query.statuses),
            categories=categories,
            text=query.text,
            sprint_id=native_int(query.sprint_id, "sprint_id"),
            epic_id=epic_id,
            updated_since=query.updated_since,
            blocked=query.blocked,
            sort=str(query.sort),
            descending=query.descending,
        )

    def list_tasks(self, query: TaskQuery, page: PageRequest) -> Page[Task]:
        if query.native_query is not None:
            raise errors.NotSupported(NATIVE_QUERY_REFUSAL)
        if query.categories and not query.categories - {StatusCategory.UNKNOWN}:
            offset_from(page)  # a foreign cursor is refused all the same
            return Page(items=[], total=0)  # every tracker status has a known category

        def find(session: Session, offset: int, limit: int) -> service.ResultPage[TrackerTask]:
            return service.find_tasks(session, self._task_filter(session, query), offset=offset, limit=limit)

        return self._paged(page, find, parse_task)

    def get_task(self, task_id: str) -> Task:
        return self._read(lambda session: self._task_result(session, self._task(session, task_id)))

    def available_statuses(self, task_id: str) -> list[Status]:
        """Every other status of the task's project: the tracker has no workflow rules."""

        def work(session: Session) -> list[Status]:
            task = self._task(session, task_id)
            statuses = service.project_statuses(session, task.project)
            return [parse_status(self.slug, s) for s in statuses if s.id != task.status_id]

        return self._read(work)

    def _task_values(
        self, session: Session, project: TrackerProject, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """TaskDraft/TaskChanges fields -> the service's task fields (keys and ids resolved)."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, value in fields.items():
            if name in ("title", "description", "estimate_hours", "story_points"):
                values[name] = value
            elif name == "type":
                values["type"] = (value or "task").strip().lower()
            elif name == "due":
                values["due_date"] = value
            elif name == "priority":
                values["priority"] = self._priority_name(value, problems)
            elif name == "assignee_id":
                values["assignee_id"] = native_int(value, "assignee_id")
            elif name == "sprint_id":
                values["sprint_id"] = native_int(value, "sprint_id")
            elif name in ("parent_id", "epic_id"):
                values[name] = self._referenced_task_id(session, value, name, problems)
            elif name == "labels":
                if value:
                    raise errors.NotSupported("The team tracker has no labels.")
            elif name == "fields":
                pass  # checked by _checked_fields, written after the task's own fields
            else:  # a field added to TaskDraft/TaskChanges that this adapter does not know yet
                raise errors.NotSupported(f"The team tracker can't set {name!r}.")
        if problems:
            raise errors.InvalidInput("The team tracker refused the values given", field_errors=problems)
        return values

    @staticmethod
    def _priority_name(priority: Priority | None, problems: dict[str, str]) -> str:
        if priority is None or priority.level == PriorityLevel.NONE:
            return "none"
        name = PRIORITY_BY_LEVEL.get(priority.level) or PRIORITY_BY_LEVEL.get(
            PRIORITY_LEVELS.get(str(priority.id or "").lower(), PriorityLevel.UNKNOWN)
        )
        if name is None:
            problems["priority"] = f"{priority.name!r} is not a team tracker priority."
            return "none"
        return name

    @staticmethod
    def _referenced_task_id(
        session: Session, key: str | None, field: str, problems: dict[str, str]
    ) -> int | None:
        if not key:
            return None
        try:
            return service.get_task(session, key).id
        except service.TrackerNotFound:
            problems[field] = f"No task with the key {key!r}."
            return None

    def create_task(self, project_id: str, draft: TaskDraft) -> Task:
        with self._session() as session:
            project = service.get_project(session, project_id)
            fields = {
                name: getattr(draft, name)
                for name in draft.__dataclass_fields__
                if name != "title" and getattr(draft, name) not in (None, ())
            }
            values = self._task_values(session, project, fields)
            custom = self._checked_fields(session, project, draft.fields)
            task = service.create_task(session, project, title=draft.title, actor_id=self.user_id, **values)
            if custom:
                work.set_field_values(session, task, custom, actor_id=self.user_id)
            return self._task_result(session, task)

    def update_task(self, task_id: str, changes: TaskChanges) -> Task:
        with self._session() as session:
            task = self._task(session, task_id)
            changed = changes.changed()
            values = self._task_values(session, task.project, changed)
            custom = self._checked_fields(session, task.project, changed.get("fields") or {})
            task = service.update_task(session, task, values, actor_id=self.user_id)
            if custom:
                work.set_field_values(session, task, custom, actor_id=self.user_id)
            return self._task_result(session, task)

    def set_task_status(self, task_id: str, status: Status) -> Task:
        with self._session() as session:
            task = self._task(session, task_id)
            target = service.status_named(session, task.project, status.name)
            if target is None:
                names = ", ".join(s.name for s in service.project_statuses(session, task.project))
                raise errors.InvalidInput(
                    f"{task.project.key} has no status named {status.name!r}",
                    field_errors={"status": f"Choose one of: {names}."},
                )
            task = service.set_task_status(session, task, target, actor_id=self.user_id)
        moved = self.get_task(task_id)
        if moved.status is None or moved.status.name != target.name:  # verify it took, in a fresh session
            raise errors.Conflict(f"{task_id} did not move to {target.name!r}.")
        return moved

    def assign_task(self, task_id: str, user_id: str | None) -> Task:
        with self._session() as session:
            task = self._task(session, task_id)
            assignee_id = self.user_id if user_id == ME else native_int(user_id, "assignee_id")
            task = service.update_task(session, task, {"assignee_id": assignee_id}, actor_id=self.user_id)
            return self._task_result(session, task)

    def delete_task(self, task_id: str) -> None:
        with self._session() as session:
            service.delete_task(session, self._task(session, task_id), actor_id=self.user_id)

    # --- comments -------------------------------------------------------------------------------

    def list_comments(self, task_id: str, page: PageRequest) -> Page[Comment]:
        def find(session: Session, offset: int, limit: int) -> service.ResultPage[Comment]:
            task = self._task(session, task_id)
            found = service.list_comments(session, task, offset=offset, limit=limit)
            comments = [parse_comment(self.slug, self.base_url, task.key, c) for c in found.items]
            return service.ResultPage(comments, found.total)

        return self._paged(page, find, lambda _slug, _base_url, comment: comment)

    def add_comment(self, task_id: str, body: str) -> Comment:
        with self._session() as session:
            task = self._task(session, task_id)
            comment = service.add_comment(session, task, body=body, author_id=self.user_id)
            return parse_comment(self.slug, self.base_url, task.key, comment)

    # --- sprints and epics ----------------------------------------------------------------------

    def _sprint(self, session: Session, sprint_id: str) -> TrackerSprint:
        text = str(sprint_id).strip()
        if not is_number(text) or int(text) > MAX_DATABASE_ID:
            raise errors.NotFound(f"No sprint with the id {text[:40]!r}.")
        return service.get_sprint(session, int(text))

    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        if state == SprintState.UNKNOWN:
            offset_from(page)  # a foreign cursor is refused all the same
            return Page(items=[], total=0)  # every tracker sprint has a known state

        def find(session: Session, offset: int, limit: int) -> service.ResultPage[TrackerSprint]:
            project = service.get_project(session, project_id)
            return service.list_sprints(
                session, project, state=str(state) if state else None, offset=offset, limit=limit
            )

        return self._paged(page, find, parse_sprint)

    def get_sprint(self, sprint_id: str) -> Sprint:
        return self._one(parse_sprint, lambda session: self._sprint(session, sprint_id))

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        def work(session: Session) -> list[Task]:
            sprint = self._sprint(session, sprint_id)
            return [parse_task(self.slug, self.base_url, t) for t in service.sprint_tasks(session, sprint)]

        return self._read(work)

    def list_epics(self, project_id: str, page: PageRequest) -> Page[Epic]:
        def find(session: Session, offset: int, limit: int) -> service.ResultPage[TrackerTask]:
            return service.list_epics(
                session, service.get_project(session, project_id), offset=offset, limit=limit
            )

        return self._paged(page, find, parse_epic)

    def get_epic(self, epic_id: str) -> Epic:
        def work(session: Session) -> Epic:
            task = self._task(session, epic_id)
            if task.type != "epic":
                raise errors.NotFound(f"{task.key} is a {task.type}, not an epic.")
            return parse_epic(self.slug, self.base_url, task)

        return self._read(work)

    def close(self) -> None:
        """Nothing to release: the database belongs to whoever passed it in."""
