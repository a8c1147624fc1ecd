"""A JIRA issue's history from its changelog (`/issue/{key}/changelog`, oldest first).

A changelog entry changes one or more fields; each changed field is one HistoryEntry, so a
page is cut inside an entry when it must be: the cursor is (entry, item within it).
"""

from __future__ import annotations

from ..base import HistoryEntry, Page, PageRequest
from ..paging import cursor_numbers, make_cursor, page_size
from .parse_work import field_names, parse_changelog
from .query import path
from .search import JiraSearch

MAX_CHANGELOG_PAGE = 100


class JiraHistory(JiraSearch):
    """task_history."""

    def task_history(self, task_id: str, page: PageRequest) -> Page[HistoryEntry]:
        entry, item = cursor_numbers(page.cursor, 2, kind="h") or (0, 0)
        limit = page_size(page, MAX_CHANGELOG_PAGE)
        data = self.http.get(
            f"/rest/api/3/issue/{path(task_id)}/changelog", params={"startAt": entry, "maxResults": limit}
        )
        changes = parse_changelog(
            data.get("values"), self.slug, self.base_url, field_names(self.site_fields())
        )
        items: list[HistoryEntry] = []
        for index, entries in enumerate(changes):
            skip = item if index == 0 else 0
            for position in range(skip, len(entries)):
                if len(items) == limit:
                    return Page(items, next_cursor=make_cursor(entry + index, position, kind="h"))
                items.append(entries[position])
        total = data.get("total")
        more = data.get("isLast") is False or (isinstance(total, int) and entry + len(changes) < total)
        cursor = make_cursor(entry + len(changes), 0, kind="h") if changes and more else None
        return Page(items, next_cursor=cursor, total=None)
