"""Redmine versions as sprints: read, create, change, close, and move issues between them.

Redmine versions have no start of their own: an open version counts as running from
its "Start date" custom field, where the site has one, or else from its creation, until
it is closed. So a version can't be "started"; where the site has the field, setting its
start to today does that. Closing a version first moves its open issues to another open
version or to none (the backlog).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

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
    Task,
)
from ..dates import parse_date
from ..paging import MAX_PAGES, page_of
from ..unset import UNSET
from .parse import parse_version
from .query import segment
from .site import RedmineSite

NO_START_FIELD = (
    "Redmine versions have no start date, and this Redmine has no version custom field for one. Leave "
    "the start out (the sprint then counts as running from its creation until it is closed), or ask an "
    'administrator to add a date custom field for versions named "Start date" '
    "(Administration > Custom fields > Versions)."
)


def no_start(has_start_field: bool) -> str:
    """Why a Redmine version can't be started, and what to do instead."""
    if has_start_field:
        instead = (
            'An open version counts as running from its "Start date" on: to start this sprint now, '
            "change its start to today."
        )
    else:
        instead = (
            "An open version counts as running from its creation until it is closed, so this sprint "
            "already counts as active."
        )
    return f"Redmine versions can't be started: Redmine has no start for a version. {instead}"


def check_dates(start: date | None, end: date | None) -> None:
    """InvalidInput for a sprint that ends before it starts."""
    if start is not None and end is not None and end < start:
        raise errors.InvalidInput(
            f"A sprint can't end ({end.isoformat()}) before it starts ({start.isoformat()}).",
            field_errors={"end": "before the start"},
        )


def version_start(version: Mapping[str, Any], start_field: Any) -> date | None:
    """The day a version's start field holds, None when it is empty or there is no such field."""
    for field in version.get("custom_fields") or []:
        if str(field.get("id")) == start_field:
            return parse_date(field.get("value"))
    return None


def version_body(
    *, name: Any = UNSET, goal: Any = UNSET, end: Any = UNSET, start: Any = UNSET, start_field: Any = None
) -> dict[str, Any]:
    """The `version` of a version write: UNSET leaves a field alone, None clears it.

    Raises InvalidInput for a blank name, NotSupported for a start where there is no start field.
    """
    body: dict[str, Any] = {}
    if name is not UNSET:
        if not (name or "").strip():
            raise errors.InvalidInput("A sprint needs a name.", field_errors={"name": "cannot be blank"})
        body["name"] = name.strip()
    if goal is not UNSET:
        body["description"] = goal or ""
    if end is not UNSET:
        body["due_date"] = end.isoformat() if end else ""
    if start is not UNSET:
        if start_field is None:
            raise errors.NotSupported(NO_START_FIELD)
        body["custom_fields"] = [{"id": int(start_field), "value": start.isoformat() if start else ""}]
    return body


class RedmineSprints(RedmineSite):
    """Versions as sprints."""

    def list_sprints(self, project_id: str, state: SprintState | None, page: PageRequest) -> Page[Sprint]:
        # Redmine returns all of a project's versions (its own and those shared with it) at once.
        body = self.http.get(f"projects/{segment(project_id)}/versions.json")
        sprints = [self._sprint(raw) for raw in body.get("versions", [])]
        if state is not None:
            sprints = [s for s in sprints if s.state == state]
        return page_of(sprints, page)

    def get_sprint(self, sprint_id: str) -> Sprint:
        return self._sprint(self._version(sprint_id))

    def sprint_tasks(self, sprint_id: str) -> list[Task]:
        params = {"fixed_version_id": segment(sprint_id), "status_id": "*", "sort": "id"}
        raws = self._read_all("issues.json", "issues", params, MAX_PAGES)
        if not raws:
            self._version(sprint_id)  # an unknown version is NotFound, not an empty sprint
        return [self._task(raw) for raw in raws]

    def create_sprint(self, project_id: str, draft: SprintDraft) -> Sprint:
        check_dates(draft.start, draft.end)
        start_field = self.version_start_field() if draft.start is not None else None
        body = version_body(
            name=draft.name,
            goal=draft.goal if draft.goal else UNSET,
            end=draft.end if draft.end else UNSET,
            # An unknown start field is learnt from the version made (below).
            start=draft.start if draft.start is not None and start_field is not UNSET else UNSET,
            start_field=start_field,
        )
        body["status"] = "open"
        path = f"projects/{segment(project_id)}/versions.json"
        raw = self.http.post(path, json={"version": body})["version"]
        learnt = self.version_start_field(raw)
        if draft.start is not None and start_field is UNSET:
            raw = self._set_start_or_undo(raw, learnt, draft.start)
        return self._sprint(raw)

    def update_sprint(self, sprint_id: str, changes: SprintChanges) -> Sprint:
        changed = changes.changed()
        version = self._version(sprint_id)
        start_field = self.version_start_field(version)
        state = changed.get("state")
        if state == SprintState.ACTIVE:
            raise errors.NotSupported(no_start(start_field is not None))
        if state not in (None, SprintState.CLOSED):
            raise errors.InvalidInput(
                "A Redmine sprint can only be closed (state closed).", field_errors={"state": str(state)}
            )
        fields = {key: changed[key] for key in ("name", "goal", "end", "start") if key in changed}
        body = version_body(**fields, start_field=start_field)
        start = changed["start"] if "start" in changed else version_start(version, start_field)
        end = changed["end"] if "end" in changed else parse_date(version.get("due_date"))
        check_dates(start, end)
        path = f"versions/{segment(sprint_id)}.json"
        if body:  # before any issue moves: a change Redmine refuses leaves everything as it was
            self.http.put(path, json={"version": body})
        if state == SprintState.CLOSED and version.get("status") != "closed":
            self._move_open_issues_out(version, changed.get("move_open_to", UNSET))
            self.http.put(path, json={"version": {"status": "closed"}})
        return self.get_sprint(sprint_id)

    def move_to_sprint(self, task_ids: list[str], sprint_id: str) -> list[MoveOutcome]:
        target = "" if sprint_id == BACKLOG else self._open_version(sprint_id)["id"]
        outcomes = []
        for task_id in task_ids:
            try:
                self._put_issue(task_id, {"fixed_version_id": target})
            except errors.ProviderError as exc:
                outcomes.append(MoveOutcome(task_id, exc))
            else:
                outcomes.append(MoveOutcome(task_id))
        return outcomes

    # --- internals -------------------------------------------------------------------------------

    def _sprint(self, raw: Mapping[str, Any]) -> Sprint:
        self.version_start_field(raw)  # every version shows whether the site has a start field
        return parse_version(raw, slug=self.slug, base_url=self.base_url)

    def _version(self, sprint_id: str) -> dict[str, Any]:
        return self.http.get(f"versions/{segment(sprint_id)}.json")["version"]

    def _open_version(self, sprint_id: str) -> dict[str, Any]:
        """The version, which must be open to take issues; NotFound or InvalidInput otherwise."""
        version = self._version(sprint_id)
        if version.get("status") != "open":
            raise errors.InvalidInput(
                f"The Redmine version {version.get('name')!r} is {version.get('status')}: it takes no "
                "tasks. Choose an open sprint, or reopen the version in Redmine.",
                field_errors={"sprint": f"{version.get('status')} version"},
            )
        return version

    def _set_start_or_undo(
        self, version: dict[str, Any], start_field: str | None, start: date
    ) -> dict[str, Any]:
        """Set a just-made version's start; delete the version when that can't be done."""
        version_id = segment(str(version["id"]))
        try:
            body = version_body(start=start, start_field=start_field)
            self.http.put(f"versions/{version_id}.json", json={"version": body})
        except errors.ProviderError:
            self.http.delete(f"versions/{version_id}.json")
            raise
        return self._version(version_id)

    def _move_open_issues_out(self, version: Mapping[str, Any], destination: Any) -> None:
        """Before a version closes: move its open issues to `destination` (a version id, or BACKLOG).

        Raises InvalidInput when there are open issues and no destination (or a wrong one), and
        the first failure's class, naming every issue that did not move, when some did not.
        """
        params = {"fixed_version_id": version["id"], "status_id": "o", "sort": "id"}
        open_ids = [str(raw["id"]) for raw in self._read_all("issues.json", "issues", params, MAX_PAGES)]
        if not open_ids:
            return
        name = version.get("name")
        if destination is UNSET or destination is None:
            shown = ", ".join(f"#{i}" for i in open_ids[:10]) + (" ..." if len(open_ids) > 10 else "")
            raise errors.InvalidInput(
                f"Sprint {name!r} has {len(open_ids)} open task(s) ({shown}); say where they go when it "
                "closes: move_open_to another sprint, or the backlog.",
                field_errors={"move_open_to": "required: the sprint has open tasks"},
            )
        if destination != BACKLOG and str(destination) == str(version["id"]):
            raise errors.InvalidInput(
                "A closing sprint's open tasks must go to another sprint or the backlog.",
                field_errors={"move_open_to": "the sprint being closed"},
            )
        failed = [o for o in self.move_to_sprint(open_ids, destination) if o.error is not None]
        if failed:
            first = failed[0].error
            assert first is not None
            reasons = "; ".join(f"#{o.task_id}: {o.error}" for o in failed[:5])
            raise type(first)(
                f"{len(open_ids) - len(failed)} of {len(open_ids)} open tasks of {name!r} moved; not moved: "
                f"{reasons}. The sprint stays open."
            )
