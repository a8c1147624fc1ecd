"""JIRA issue links: the site's link types, an issue's links, linking and unlinking.

`POST /issueLink` answers with no body, so a new link is found on the issue's
`issuelinks` afterwards. JIRA names the link's source (the issue that reads the
outward phrase, "blocks") `inwardIssue` in that request, and its destination
`outwardIssue`, the same way `GET /issueLink/{id}` answers.
"""

from __future__ import annotations

from .. import errors
from ..base import LinkKind, LinkType, TaskLink, is_number
from .parse_work import parse_issue_links
from .query import path
from .search import JiraSearch


class JiraLinks(JiraSearch):
    """list_link_types, list_links, link_tasks and unlink_tasks."""

    def list_link_types(self) -> list[LinkType]:
        return list(self.link_types())

    def blocking_type(self) -> LinkType:
        """The site's link type that says one issue blocks another; NotSupported without one."""
        for link_type in self.link_types():
            if link_type.kind == LinkKind.BLOCKS:
                return link_type
        raise errors.NotSupported(
            "This JIRA site has no link type whose outward phrase is 'blocks' (its administrators removed "
            "or renamed it), so blocked tasks can't be told: ask them to restore the Blocks link type."
        )

    def list_links(self, task_id: str) -> list[TaskLink]:
        raw = self._get_issue(task_id, ["issuelinks"])
        key = str(raw.get("key") or task_id)
        return parse_issue_links((raw.get("fields") or {}).get("issuelinks"), self.slug, self.base_url, key)

    def link_tasks(
        self, task_id: str, other_id: str, link_type: LinkType, *, outward: bool = True
    ) -> TaskLink:
        if task_id.strip().upper() == other_id.strip().upper():
            raise errors.InvalidInput(
                "A JIRA issue can't be linked to itself.", field_errors={"other": "the same task"}
            )
        before = self.list_links(task_id)
        kind = link_type.kind if outward else link_type.kind.inverse
        for link in before:
            same_other = (link.other_key or "").upper() == other_id.strip().upper()
            if same_other and link.extra.get("type_id") == link_type.id and link.kind == kind:
                raise errors.Conflict(
                    f"{task_id} already {link.label} {other_id} in JIRA (link {link.id}); "
                    "unlink_tasks with that link removes it."
                )
        source, destination = (task_id, other_id) if outward else (other_id, task_id)
        self.http.post(
            "/rest/api/3/issueLink",
            json={
                "type": {"id": link_type.id},
                "inwardIssue": {"key": source},
                "outwardIssue": {"key": destination},
            },
        )
        known = {link.id for link in before}
        for link in self.list_links(task_id):
            if link.id not in known and (link.other_key or "").upper() == other_id.strip().upper():
                return link
        raise errors.Conflict(f"JIRA accepted the link from {task_id} to {other_id}, but does not show it.")

    def unlink_tasks(self, link_id: str) -> None:
        if not is_number(str(link_id)):
            raise errors.InvalidInput(f"{link_id!r} is not a JIRA link id (a number).")
        self.http.delete(f"/rest/api/3/issueLink/{path(link_id)}")
