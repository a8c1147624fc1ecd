"""Redmine time entries as worklogs.

A time entry knows the day it was spent on, not the hour: a worklog starts at
midnight UTC of that day, and the day itself is in `extra["spent_on"]`. Every
entry has an activity; a new one gets the site's default activity, or the first
active one where none is the default (its name is in `extra["activity"]`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from .. import errors
from ..base import ME, Page, PageRequest, Worklog, WorklogDraft, WorklogQuery, make_ref
from ..dates import day_start, parse_date, parse_timestamp
from ..paging import next_offset, offset_from, page_size
from .parse import parse_user
from .query import segment
from .site import MAX_PAGE_SIZE, RedmineSite

MAX_COMMENT = 1024  # Redmine's limit on a time entry's comment
OLDEST_FIRST = "spent_on,created_on,id"


def parse_time_entry(raw: Mapping[str, Any], *, slug: str, base_url: str) -> Worklog:
    """A time entry from /time_entries.json (or a time entry write).

    An entry logged on a project rather than an issue has the project's ref as its task_ref
    and `extra["logged_on"]` "project".
    """
    spent_on = parse_date(raw.get("spent_on"))
    project = raw.get("project") or {}
    extra: dict[str, Any] = {"spent_on": spent_on}
    if project:
        extra["project_ref"] = make_ref(slug, project["id"])
    if raw.get("activity"):
        extra["activity"] = raw["activity"].get("name")
    if raw.get("issue"):
        task_ref = make_ref(slug, raw["issue"]["id"])
    else:
        task_ref = make_ref(slug, project.get("id", ""))
        extra["logged_on"] = "project"
    return Worklog(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        task_ref=task_ref,
        hours=float(raw.get("hours") or 0),
        started=day_start(spent_on),
        author=parse_user(raw["user"], slug=slug, base_url=base_url) if raw.get("user") else None,
        comment=raw.get("comments") or None,
        created_at=parse_timestamp(raw.get("created_on")),
        extra=extra,
    )


def default_activity(activities: Sequence[Mapping[str, Any]]) -> str | None:
    """The activity a new time entry gets: the default one, else the first active one."""
    active = [a for a in activities if a.get("active", True)]
    chosen = next((a for a in active if a.get("is_default")), active[0] if active else None)
    return str(chosen["id"]) if chosen else None


def time_entry_body(task_id: str, draft: WorklogDraft, activity_id: str | None) -> dict[str, Any]:
    """The `time_entry` of a new entry; InvalidInput for hours that are not positive or a long comment."""
    if not (isinstance(draft.hours, int | float) and math.isfinite(draft.hours) and draft.hours > 0):
        raise errors.InvalidInput(
            f"Logged time must be more than zero hours, not {draft.hours!r}.",
            field_errors={"hours": "must be positive"},
        )
    if draft.comment and len(draft.comment) > MAX_COMMENT:
        raise errors.InvalidInput(
            f"Redmine keeps at most {MAX_COMMENT} characters of a time entry's comment; this one has "
            f"{len(draft.comment)}.",
            field_errors={"comment": f"longer than {MAX_COMMENT} characters"},
        )
    body: dict[str, Any] = {"issue_id": int(task_id), "hours": draft.hours}
    if draft.started is not None:
        started = draft.started if draft.started.tzinfo else draft.started.replace(tzinfo=UTC)
        body["spent_on"] = started.date().isoformat()
    if draft.comment:
        body["comments"] = draft.comment
    if activity_id is not None:
        body["activity_id"] = int(activity_id)
    return body


class RedmineWorklogs(RedmineSite):
    """Time entries."""

    def log_work(self, task_id: str, draft: WorklogDraft) -> Worklog:
        body = time_entry_body(segment(task_id), draft, default_activity(self.activities()))
        try:
            raw = self.http.post("time_entries.json", json={"time_entry": body})["time_entry"]
        except errors.InvalidInput:
            self._issue(task_id)  # NotFound for an unknown task; otherwise Redmine's reason stands
            raise
        except errors.PermissionDenied:
            raise errors.PermissionDenied(
                f"Redmine refused to log time on #{task_id}: the project needs the Time tracking module "
                "and your role the Log spent time permission.",
                status=403,
            ) from None
        return parse_time_entry(raw, slug=self.slug, base_url=self.base_url)

    def list_worklogs(self, task_id: str, page: PageRequest) -> Page[Worklog]:
        result = self._time_entries({"issue_id": segment(task_id), "sort": OLDEST_FIRST}, page)
        if not result.items and not page.cursor:
            self._issue(task_id)  # an unknown task is NotFound, not a task without time
        return result

    def search_worklogs(self, query: WorklogQuery, page: PageRequest) -> Page[Worklog]:
        if query.until < query.since:
            raise errors.InvalidInput(
                "The range of days ends before it starts.", field_errors={"until": "before since"}
            )
        params: dict[str, Any] = {
            "user_id": "me" if query.user_id == ME else segment(query.user_id),
            "from": query.since.isoformat(),
            "to": query.until.isoformat(),
            "sort": OLDEST_FIRST,
        }
        if query.project_id:
            params["project_id"] = segment(query.project_id)
        return self._time_entries(params, page)

    def _time_entries(self, params: dict[str, Any], page: PageRequest) -> Page[Worklog]:
        offset = offset_from(page)
        params = {**params, "offset": offset, "limit": page_size(page, MAX_PAGE_SIZE)}
        body = self.http.get("time_entries.json", params=params)
        entries = [
            parse_time_entry(raw, slug=self.slug, base_url=self.base_url)
            for raw in body.get("time_entries", [])
        ]
        total = int(body.get("total_count", len(entries)))
        return Page(entries, next_offset(offset, len(entries), total), total)
