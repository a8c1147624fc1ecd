"""JIRA's issue search (`/rest/api/3/search/jql`), shared by the adapter's operations.

JIRA's search index lags behind writes: issues written through this adapter are
named in `reconcileIssues`, so a search right after a write sees them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from ..base import ConnectionConfig, is_number
from ..http import HttpPolicy
from .metadata import JiraSite
from .query import path

RECONCILE_LIMIT = 50  # JIRA reconciles at most 50 issue ids per search


class JiraSearch(JiraSite):
    """The site's plumbing plus the issue search every list of tasks goes through."""

    def __init__(self, config: ConnectionConfig, policy: HttpPolicy, **context: Any):
        super().__init__(config, policy, **context)
        self._written_issue_ids: deque[int] = deque(maxlen=RECONCILE_LIMIT)

    def _remember_write(self, issue_id: Any) -> None:
        if is_number(str(issue_id)) and int(issue_id) not in self._written_issue_ids:
            self._written_issue_ids.append(int(issue_id))

    def _search(
        self, jql: str, fields: Sequence[str], limit: int, cursor: str | None = None
    ) -> tuple[list, str | None]:
        """One page of issues matching `jql` with `fields`, and the token of the next page (None at the end)."""
        data = self._search_page(jql, fields, limit, cursor)
        token = None if data.get("isLast") is True else data.get("nextPageToken")
        return list(data.get("issues") or []), token

    def _search_page(
        self,
        jql: str,
        fields: Sequence[str],
        limit: int,
        cursor: str | None = None,
        expand: str | None = None,
    ) -> dict[str, Any]:
        """JIRA's answer to one search: `issues`, `nextPageToken`, `isLast`, and `schema` when expanded."""
        body: dict[str, Any] = {"jql": jql, "fields": list(dict.fromkeys(fields)), "maxResults": limit}
        if cursor:
            body["nextPageToken"] = cursor
        if expand:
            body["expand"] = expand
        if self._written_issue_ids:
            body["reconcileIssues"] = list(self._written_issue_ids)
        # A search changes nothing, so it may be retried although it is a POST.
        return self.http.post("/rest/api/3/search/jql", json=body, idempotent=True) or {}

    def _get_issue(self, task_id: str, fields: Sequence[str], expand: str | None = None) -> dict[str, Any]:
        params = {"fields": ",".join(fields)}
        if expand:
            params["expand"] = expand
        return self.http.get(f"/rest/api/3/issue/{path(task_id)}", params=params)
