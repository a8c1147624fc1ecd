"""Sprints: read on every server; versions created, changed, started and closed; work moved between sprints.

Which sprints an OpenProject server plans with decides what can be written. OpenProject
17.3 brought dedicated sprints to its Backlogs module, and its API v3 serves them
read-only (list and show only); the sprint writes are refused there, saying where to
make them. Servers without sprints plan with versions, which the API creates and changes
in full: a version is a sprint that has a name, a description (the goal), start and end
dates and a status (open, locked, closed). Starting one gives it today as its start
(its state follows its dates), closing one closes it after its open work has moved.
Moving work sets a work package's `sprint` link, or its `version` link where versions
stand in; both kinds of server can do that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from .. import errors
from ..base import (
    BACKLOG,
    MoveOutcome,
    Page,
    PageRequest,
    Sprint,
    SprintChanges,
    SprintDraft,
    SprintState,
    StatusCategory,
    Task,
)
from ..dates import parse_date
from ..paging import page_of
from ..unset import UNSET
from .parse import collection_elements, parse_done_at, parse_sprint, parse_version
from .query import filter_of, filters_param, href
from .workpackages import BY_ID, OpenProjectWorkPackages

SPRINTS_READ_ONLY = (
    "OpenProject's API offers its sprints read-only (OpenProject 17.3 and later): create, start and "
    "finish sprints in the project's Backlogs module; list_sprints and move_to_sprint work with them here."
)
SPRINT_STATES_WRITTEN = (SprintState.ACTIVE, SprintState.CLOSED)


def sprint_name(name: Any) -> str:
    """A sprint's name, stripped; InvalidInput when empty."""
    text = str(name or "").strip()
    if not text:
        raise errors.InvalidInput("A sprint needs a name.", field_errors={"name": "must not be empty"})
    return text


def check_sprint_dates(start: date | None, end: date | None) -> None:
    """InvalidInput when a sprint would end before it starts."""
    if start is not None and end is not None and end < start:
        raise errors.InvalidInput(
            f"A sprint can't end ({end.isoformat()}) before it starts ({start.isoformat()}).",
            field_errors={"end": "must be on or after the start"},
        )


def version_write(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The version attributes for sprint fields (name, goal, start, end) present in `changes`."""
    payload: dict[str, Any] = {}
    if "name" in changes:
        payload["name"] = sprint_name(changes["name"])
    if "goal" in changes:
        payload["description"] = {"raw": changes["goal"] or ""}
    for field, attribute in (("start", "startDate"), ("end", "endDate")):
        if field in changes:
            day = changes[field]
            payload[attribute] = day.isoformat() if day is not None else None
    return payload


class OpenProjectSprints(OpenProjectWorkPackages):
    """The sprint operations: list, get and read a sprint's tasks; create, change, start, close; move work."""

    # --- reads -------------------------------------------------------------------------

    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        if self.uses_sprints():
            sprints = [
                parse_sprint(raw, slug=self.slug, base_url=self.base_url)
                for raw in self._read_all(f"api/v3/projects/{quote(project_id, safe='')}/sprints")
            ]
        else:
            body = self.in_workspace("GET", project_id, "versions")
            sprints = [self._sprint_of_version(raw) for raw in collection_elements(body)]
        if state is not None:
            sprints = [sprint for sprint in sprints if sprint.state == state]
        return page_of(sprints, page)

    def get_sprint(self, sprint_id: str) -> Sprint:
        if self.uses_sprints():
            raw = self.http.get(f"api/v3/sprints/{quote(sprint_id, safe='')}")
            return parse_sprint(raw, slug=self.slug, base_url=self.base_url)
        return self._sprint_of_version(self.http.get(f"api/v3/versions/{quote(sprint_id, safe='')}"))

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        def fetch(sprint_filter: str) -> list[Mapping[str, Any]]:
            filters = filters_param(filter_of(sprint_filter, "=", [sprint_id]))
            return self._read_all("api/v3/work_packages", {"filters": filters, "sortBy": BY_ID})

        tasks = self._tasks_from(self._sprint_filtered(fetch))
        closed_names = [s.name for s in self.status_table().values() if s.category == StatusCategory.DONE]
        for task in tasks:
            if task.status is not None and task.status.category == StatusCategory.DONE:
                task.done_at = parse_done_at(self._activities(task.id), closed_names)
        return tasks

    # --- writes ------------------------------------------------------------------------

    def create_sprint(self, project_id: str, draft: SprintDraft) -> Sprint:
        name = sprint_name(draft.name)
        check_sprint_dates(draft.start, draft.end)
        self._sprints_are_versions()
        payload = version_write({"name": name, "goal": draft.goal, "start": draft.start, "end": draft.end})
        payload["status"] = "open"
        payload["_links"] = {"definingProject": {"href": href("projects", project_id)}}
        return self._sprint_of_version(self.http.post("api/v3/versions", json=payload))

    def update_sprint(self, sprint_id: str, changes: SprintChanges) -> Sprint:
        changed = changes.changed()
        self._sprints_are_versions()
        path = f"api/v3/versions/{quote(sprint_id, safe='')}"
        current = self.http.get(path)
        sprint = self._sprint_of_version(current)
        payload = version_write(changed)
        start = changed.get("start", parse_date(current.get("startDate")))
        end = changed.get("end", parse_date(current.get("endDate")))
        check_sprint_dates(start, end)
        state = changed.get("state")
        if state is not None and state not in SPRINT_STATES_WRITTEN:
            raise errors.InvalidInput(
                "A sprint's state can be set to active (start it) or closed (close it).",
                field_errors={"state": f"{state} can't be set"},
            )
        if state == SprintState.ACTIVE:
            today = datetime.now(UTC).date()
            if sprint.state == SprintState.CLOSED:
                raise errors.InvalidInput(
                    f"OpenProject version {sprint.name!r} is closed and can't start again; "
                    "create a new sprint with create_sprint instead.",
                    field_errors={"state": "the sprint is closed"},
                )
            if "start" not in changed and (start is None or start > today):
                check_sprint_dates(today, end)
                payload["startDate"] = today.isoformat()  # a version's state follows its start
        elif state == SprintState.CLOSED:
            self._move_open_work(sprint, changed.get("move_open_to", UNSET))
            payload["status"] = "closed"
        if not payload:
            return sprint
        return self._sprint_of_version(self.http.patch(path, json=payload))

    def move_to_sprint(self, task_ids: list[str], sprint_id: str) -> list[MoveOutcome]:
        target = None if sprint_id == BACKLOG else sprint_id
        if target is not None:
            self.get_sprint(target)  # NotFound before anything moves
        links = self.sprint_links(target)
        current = self._work_packages_by_id(task_ids)  # every lock version in one read
        outcomes = []
        for task_id in task_ids:
            try:
                raw = current.get(task_id)
                if raw is None:
                    raise errors.NotFound(
                        f"OpenProject found no work package #{task_id} visible to this account."
                    )
                self._patch_work_package(task_id, {"_links": links}, raw)
            except errors.ProviderError as exc:
                outcomes.append(MoveOutcome(task_id, exc))
            else:
                outcomes.append(MoveOutcome(task_id))
        return outcomes

    # --- helpers ----------------------------------------------------------------------

    def _sprints_are_versions(self) -> None:
        """NotSupported on a server whose sprints the API serves read-only."""
        if self.uses_sprints():
            raise errors.NotSupported(SPRINTS_READ_ONLY)

    def _sprint_of_version(self, raw: Mapping[str, Any]) -> Sprint:
        return parse_version(raw, slug=self.slug, base_url=self.base_url, today=datetime.now(UTC).date())

    def _move_open_work(self, sprint: Sprint, move_open_to: Any) -> None:
        """Move a version's open work packages to `move_open_to` before it closes.

        Raises InvalidInput when open work remains and nowhere is given, and the first failure's
        kind when any work package could not move (the sprint then stays open).
        """
        filters = filters_param(filter_of("version", "=", [sprint.id]), filter_of("status", "o", None))
        open_ids = [
            str(raw["id"])
            for raw in self._read_all("api/v3/work_packages", {"filters": filters, "sortBy": BY_ID})
        ]
        if not open_ids:
            return
        if move_open_to is UNSET or move_open_to is None:
            raise errors.InvalidInput(
                f"OpenProject version {sprint.name!r} still holds {len(open_ids)} open work package(s) "
                f"({', '.join('#' + i for i in open_ids[:10])}): say where they go with move_open_to "
                "(another sprint, or the backlog).",
                field_errors={"move_open_to": "required while open work remains"},
            )
        if str(move_open_to) == sprint.id:
            raise errors.InvalidInput(
                "The open work can't move into the sprint being closed.",
                field_errors={"move_open_to": "choose another sprint, or the backlog"},
            )
        failures = [o.error for o in self.move_to_sprint(open_ids, str(move_open_to)) if o.error is not None]
        if failures:
            reasons = "; ".join(str(error) for error in failures[:5])
            raise type(failures[0])(
                f"{len(failures)} of {len(open_ids)} open work package(s) could not move, so OpenProject "
                f"version {sprint.name!r} stays open: {reasons}"
            )
