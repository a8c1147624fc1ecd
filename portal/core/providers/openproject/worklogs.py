"""Logged work: OpenProject's time entries.

A time entry books hours (an ISO 8601 duration) on a day (`spentOn`) for a user, on a
work package (its `entity`, OpenProject 17). Its comment is plain text, so Markdown is
kept as written. Start times exist only where an administrator enabled them; the day
is what every server keeps, so a worklog's `started` is that day at 00:00 UTC unless
the entry says when it started.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .. import errors
from ..base import ME, Page, PageRequest, Worklog, WorklogDraft, WorklogQuery, make_ref
from ..dates import day_start, parse_date, parse_timestamp
from ..paging import page_size
from .parse import (
    collection_elements,
    format_duration_hours,
    link_id,
    links_of,
    parse_duration_hours,
    parse_user_link,
    raw_text,
)
from .query import MAX_USER_PAGE_SIZE, filter_of, filters_param, href, next_page, page_number, sort_param
from .workpackages import OpenProjectWorkPackages

OLDEST_FIRST = sort_param(("spent_on", "asc"), ("id", "asc"))


def parse_time_entry(raw: Mapping[str, Any], *, slug: str, base_url: str) -> Worklog:
    """A time entry as a worklog."""
    links = links_of(raw)
    task_id = link_id(links.get("entity")) or link_id(links.get("workPackage"))
    spent_on = parse_date(raw.get("spentOn"))
    extra: dict[str, Any] = {}
    if spent_on:
        extra["spent_on"] = spent_on.isoformat()
    if (links.get("activity") or {}).get("title"):
        extra["activity"] = links["activity"]["title"]
    project_id = link_id(links.get("project"))
    if project_id:
        extra["project_ref"] = make_ref(slug, project_id)
    return Worklog(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        task_ref=make_ref(slug, task_id) if task_id else "",
        hours=parse_duration_hours(raw.get("hours")) or 0.0,
        started=parse_timestamp(raw.get("startTime")) or day_start(spent_on),
        author=parse_user_link(links.get("user"), slug=slug, base_url=base_url),
        comment=raw_text(raw.get("comment")) or None,
        created_at=parse_timestamp(raw.get("createdAt")),
        extra=extra,
    )


def time_entry_payload(task_id: str, draft: WorklogDraft, today: date) -> dict[str, Any]:
    """The body that logs `draft` on a work package; InvalidInput for hours that are not positive."""
    hours = draft.hours
    if (
        isinstance(hours, bool)
        or not isinstance(hours, int | float)
        or not math.isfinite(hours)
        or hours <= 0
    ):
        raise errors.InvalidInput(
            "Time logged must be more than zero hours.", field_errors={"hours": "must be greater than 0"}
        )
    if round(hours * 3600) < 1:
        raise errors.InvalidInput(
            "OpenProject logs time in whole seconds at least.", field_errors={"hours": "too small"}
        )
    started = draft.started.astimezone(UTC).date() if draft.started else today
    return {
        "hours": format_duration_hours(hours),
        "spentOn": started.isoformat(),
        "comment": {"raw": draft.comment or ""},
        "_links": {"entity": {"href": href("work_packages", task_id)}},
    }


class OpenProjectWorklogs(OpenProjectWorkPackages):
    """log_work, list_worklogs and search_worklogs."""

    def log_work(self, task_id: str, draft: WorklogDraft) -> Worklog:
        payload = time_entry_payload(task_id, draft, datetime.now(UTC).date())
        try:
            created = self.http.post("api/v3/time_entries", json=payload)
        except errors.InvalidInput as exc:
            if "task_id" in exc.field_errors:  # the work package does not exist, or is hidden from us
                raise errors.NotFound(
                    f"OpenProject found no work package #{task_id} to log time on, or this account may not "
                    "log time there."
                ) from None
            raise
        if not isinstance(created, Mapping) or "id" not in created:
            raise errors.ProviderError("OpenProject accepted the time entry but did not return it.")
        return parse_time_entry(created, slug=self.slug, base_url=self.base_url)

    def list_worklogs(self, task_id: str, page: PageRequest) -> Page[Worklog]:
        found = self._time_entries(
            [filter_of("entity_type", "=", ["WorkPackage"]), filter_of("entity_id", "=", [task_id])], page
        )
        if not found.items and page.cursor is None:
            self._get_work_package(task_id)  # no time logged, or no such task: NotFound tells them apart
        return found

    def search_worklogs(self, query: WorklogQuery, page: PageRequest) -> Page[Worklog]:
        if query.until < query.since:
            raise errors.InvalidInput(
                "The date range ends before it starts.", field_errors={"until": "must be on or after since"}
            )
        user_id = self.current_user().id if query.user_id == ME else query.user_id
        filters = [
            filter_of("user_id", "=", [user_id]),
            filter_of("spent_on", "<>d", [query.since.isoformat(), query.until.isoformat()]),
        ]
        if query.project_id:
            filters.append(filter_of("project_id", "=", [query.project_id]))
        return self._time_entries(filters, page)

    def _time_entries(self, filters: list[dict[str, Any]], page: PageRequest) -> Page[Worklog]:
        number, size = page_number(page), page_size(page, MAX_USER_PAGE_SIZE)
        params = {
            "filters": filters_param(*filters),
            "sortBy": OLDEST_FIRST,
            "offset": number,
            "pageSize": size,
        }
        body = self.http.get("api/v3/time_entries", params=params)
        worklogs = [
            parse_time_entry(raw, slug=self.slug, base_url=self.base_url) for raw in collection_elements(body)
        ]
        return Page(worklogs, next_page(body, number, size), body.get("total"))
