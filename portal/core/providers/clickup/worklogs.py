"""ClickUp time tracking as worklogs: time entries of the Workspace (`/team/{id}/time_entries`).

ClickUp shows a member only their own time entries; Workspace owners and admins may
name other people (`assignee`). So a task's worklogs are everyone's for an owner or
admin and the member's own otherwise, and reading another person's time needs an
owner or admin. A time entry's description is plain text: Markdown is kept as written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .. import errors
from ..base import ME, Page, PageRequest, Worklog, WorklogDraft, WorklogQuery, make_ref
from ..dates import parse_millis, to_millis
from ..paging import page_of
from .parse import parse_user
from .query import path
from .workspace import ClickUpWorkspace

HOUR_MILLIS = 3_600_000
ADMIN_ROLES = (1, 2)  # owner, admin
FAR_FUTURE = timedelta(days=3660)
"""How far ahead a task's time entries are looked for (time can be logged with a start ahead of now)."""
BEFORE_CLICKUP = datetime(2017, 1, 1, tzinfo=UTC)
"""Where a task's time entries are looked for from: before any ClickUp Workspace existed. (Without a
start_date ClickUp answers only the last 30 days.)"""


# --- pure functions --------------------------------------------------------------------------------


def duration_millis(hours: Any) -> int:
    """Hours -> whole milliseconds; InvalidInput unless positive."""
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        raise errors.InvalidInput(
            "Log a positive amount of time.", field_errors={"hours": f"{hours!r} is not a positive number"}
        )
    return round(hours * HOUR_MILLIS)


def time_entry_body(task_id: str, draft: WorklogDraft, now: datetime) -> dict[str, Any]:
    """The Createatimeentry body; without a start, the time ends now."""
    duration = duration_millis(draft.hours)
    start = to_millis(draft.started) if draft.started else to_millis(now) - duration
    body: dict[str, Any] = {"tid": task_id, "start": start, "duration": duration, "billable": False}
    if draft.comment:
        body["description"] = draft.comment
    return body


def created_entry(body: Any) -> dict[str, Any]:
    """A created time entry from the answer: flat, as ClickUp documents it, or under `data`."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"]
    return body if isinstance(body, dict) else {}


def parse_time_entry(slug: str, data: dict[str, Any], task_id: str | None = None) -> Worklog:
    """A time entry -> Worklog; `task_id` stands in where the entry names no task."""
    entry_id = str(data["id"])
    named = data.get("task")
    task = named if isinstance(named, dict) else {}
    task_native = str(task.get("id") or data.get("tid") or task_id or "")
    duration = int(data.get("duration") or 0)
    user = data.get("user")
    extra: dict[str, Any] = {"billable": bool(data.get("billable"))}
    if task.get("name"):
        extra["task_title"] = task["name"]
    return Worklog(
        ref=make_ref(slug, entry_id),
        id=entry_id,
        task_ref=make_ref(slug, task_native),
        hours=abs(duration) / HOUR_MILLIS,  # a running timer has a negative duration
        started=parse_millis(data.get("start")),
        author=parse_user(slug, user) if isinstance(user, dict) and user.get("id") is not None else None,
        comment=data.get("description") or None,
        created_at=parse_millis(data.get("at")),
        extra=extra,
    )


def day_range_millis(since: date, until: date) -> tuple[int, int]:
    """Inclusive whole UTC days -> (first millisecond, last millisecond)."""
    if until < since:
        raise errors.InvalidInput(
            "The date range ends before it starts.",
            field_errors={"until": f"{until.isoformat()} is before {since.isoformat()}"},
        )
    first = datetime.combine(since, time.min, tzinfo=UTC)
    last = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
    return to_millis(first), to_millis(last) - 1


class ClickUpWorklogs(ClickUpWorkspace):
    """Time entries on tasks: logged, listed per task, searched per person."""

    def _entries(self, params: dict[str, str]) -> list[dict[str, Any]]:
        body = self.call("GET", path("team", self.team_id(), "time_entries"), params=params)
        entries = [entry for entry in body.get("data") or [] if isinstance(entry, dict) and entry.get("id")]
        return sorted(entries, key=lambda entry: (int(entry.get("start") or 0), str(entry["id"])))

    def _everyone(self) -> str | None:
        """Every member's id for `assignee`, where this user may read them all (owners and admins)."""
        if self.member_role() not in ADMIN_ROLES:
            return None
        team_id = self.team_id()
        team = next((t for t in self.teams() if str(t["id"]) == team_id), {})
        ids = [str(m["user"]["id"]) for m in team.get("members") or [] if isinstance(m.get("user"), dict)]
        return ",".join(ids) or None

    def log_work(self, task_id: str, draft: WorklogDraft) -> Worklog:
        body = time_entry_body(task_id, draft, datetime.now(UTC))
        answer = created_entry(self.call("POST", path("team", self.team_id(), "time_entries"), body=body))
        if not answer.get("id"):  # not every answer names the new entry: find it by its start
            found = [
                entry
                for entry in self._entries(
                    {"task_id": task_id, "start_date": str(body["start"]), "end_date": str(body["start"])}
                )
                if int(entry.get("start") or 0) == body["start"]
            ]
            if not found:
                raise errors.Conflict(
                    "ClickUp accepted the time entry but does not list it; check the task in ClickUp."
                )
            answer = found[-1]
        worklog = parse_time_entry(self.slug, answer, task_id)
        worklog.author = worklog.author or self.current_user()
        worklog.started = worklog.started or parse_millis(body["start"])
        if worklog.comment is None:
            worklog.comment = draft.comment
        return worklog

    def list_worklogs(self, task_id: str, page: PageRequest) -> Page[Worklog]:
        """Time logged on the task, oldest first: everyone's for an owner or admin, one's own otherwise."""
        params = {
            "task_id": task_id,
            "start_date": str(to_millis(BEFORE_CLICKUP)),
            "end_date": str(to_millis(datetime.now(UTC) + FAR_FUTURE)),
        }
        everyone = self._everyone()
        if everyone:
            params["assignee"] = everyone
        entries = self._entries(params)
        if not entries:
            self.raw_task(task_id)  # NotFound for a task that does not exist
        return page_of([parse_time_entry(self.slug, entry, task_id) for entry in entries], page)

    def search_worklogs(self, query: WorklogQuery, page: PageRequest) -> Page[Worklog]:
        """One person's time entries over whole UTC days, within a List when a project is given."""
        first, last = day_range_millis(query.since, query.until)
        me = self.current_user().id
        user_id = me if query.user_id in (ME, me) else query.user_id
        params = {"start_date": str(first), "end_date": str(last)}
        if user_id != me:
            if self.member_role() not in ADMIN_ROLES:
                raise errors.PermissionDenied(
                    "ClickUp shows other people's time entries only to Workspace owners and admins; ask one "
                    "of them, or read your own (user: me)."
                )
            params["assignee"] = user_id
        if query.project_id:
            params["list_id"] = query.project_id
        entries = [entry for entry in self._entries(params) if first <= int(entry.get("start") or 0) <= last]
        return page_of([parse_time_entry(self.slug, entry) for entry in entries], page)
