"""JIRA worklogs: log time on an issue (an ADF comment), read an issue's worklogs, and find what one
person logged over days.

JIRA has no search over worklogs themselves: the issues a person logged work on in the range
are found with JQL (`worklogAuthor`, `worklogDate`), then each one's worklogs are read and
kept by author and start.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..adf import markdown_to_adf
from ..base import ME, Page, PageRequest, Worklog, WorklogDraft, WorklogQuery
from ..dates import day_end, day_start, to_millis
from ..paging import next_offset, offset_from, page_of, page_size, read_all
from .parse_work import parse_worklog
from .query import jira_timestamp, path, worklog_seconds, worklogs_jql
from .search import JiraSearch

MAX_WORKLOG_PAGE = 5000  # JIRA's page of an issue's worklogs
ISSUE_PAGE = 100


class JiraWorklogs(JiraSearch):
    """log_work, list_worklogs and search_worklogs."""

    def log_work(self, task_id: str, draft: WorklogDraft) -> Worklog:
        body: dict[str, Any] = {
            "timeSpentSeconds": worklog_seconds(draft.hours),
            "started": jira_timestamp(draft.started or datetime.now(UTC)),
        }
        if draft.comment and draft.comment.strip():
            body["comment"] = markdown_to_adf(draft.comment)
        raw = self.http.post(f"/rest/api/3/issue/{path(task_id)}/worklog", json=body)
        return parse_worklog(raw, self.slug, self.base_url, task_id.upper())

    def list_worklogs(self, task_id: str, page: PageRequest) -> Page[Worklog]:
        start = offset_from(page)
        data = self.http.get(
            f"/rest/api/3/issue/{path(task_id)}/worklog",
            params={"startAt": start, "maxResults": page_size(page, MAX_WORKLOG_PAGE)},
        )
        values = data.get("worklogs") or []
        worklogs = [parse_worklog(raw, self.slug, self.base_url, task_id.upper()) for raw in values]
        total = data.get("total")
        cursor = next_offset(start, len(values), total) if isinstance(total, int) else None
        return Page(worklogs, next_cursor=cursor, total=total)

    def search_worklogs(self, query: WorklogQuery, page: PageRequest) -> Page[Worklog]:
        offset_from(page)  # a foreign cursor is refused before any request
        author = self.current_user().id if query.user_id == ME else query.user_id
        jql = worklogs_jql(query.user_id, query.since, query.until, query.project_id)

        def issues(token: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            return self._search(jql, ["summary"], ISSUE_PAGE, token or None)

        since, until = day_start(query.since), day_end(query.until)
        assert since is not None and until is not None
        found: list[Worklog] = []
        for issue in read_all(issues, ""):
            key = str(issue["key"])
            for raw in self._issue_worklogs(key, to_millis(since), to_millis(until)):
                worklog = parse_worklog(raw, self.slug, self.base_url, key)
                in_range = worklog.started is not None and since <= worklog.started <= until
                if in_range and worklog.author is not None and worklog.author.id == author:
                    found.append(worklog)
        found.sort(key=lambda w: (w.started or since, w.id))
        return page_of(found, page)

    def _issue_worklogs(self, key: str, after: int, before: int) -> list[Mapping[str, Any]]:
        def fetch(start: int) -> tuple[list[Mapping[str, Any]], int | None]:
            data = self.http.get(
                f"/rest/api/3/issue/{path(key)}/worklog",
                params={
                    "startAt": start,
                    "maxResults": MAX_WORKLOG_PAGE,
                    "startedAfter": after,
                    "startedBefore": before,
                },
            )
            values = list(data.get("worklogs") or [])
            total = data.get("total")
            more = isinstance(total, int) and values and start + len(values) < total
            return values, start + len(values) if more else None

        return read_all(fetch, 0)
