"""Redmine, through its REST API (JSON, the key in `X-Redmine-API-Key`).

How Redmine maps onto the domain model:
- Projects are Redmine projects: the native id is the numeric id, the key the identifier.
- Tasks are issues (`#123`); the task type is the tracker; labels are the issue
  category (Redmine allows at most one); done_at is `closed_on` while the issue is closed.
- Statuses are global (`/issue_statuses.json`); a closed status is DONE, "New"-like
  names are TODO, "In Progress"-like names IN_PROGRESS, and other open statuses
  (Resolved, Feedback ...) UNKNOWN rather than a guess. Which statuses an issue may
  move to comes from the workflow (`allowed_statuses`).
- Sprints are versions ("target versions"); Redmine has no epics and no story points.
  Versions have no start of their own (a "Start date" version custom field stands in
  where the site has one), so they are created and closed, never started.
- Comments are journal entries that carry notes; history is every journal's details.
- Links are issue relations; logged work is time entries; custom fields are issue
  custom fields (`cf_<id>`); a native query is a saved query's id or a query string.
- Descriptions and notes pass through untouched: they are Markdown when the Redmine
  text formatting setting is Markdown/CommonMark (Textile otherwise).

Modules: `parse` (Redmine JSON to our types), `query` (issue filters, native queries,
safe path segments), `site` (credentials, the site's cached metadata, issue plumbing),
`adapter` (projects, people, tasks, comments), and one module per sprint-work concern,
each with its pure parse functions: `sprints`, `links`, `worklogs`, `history`, `fields`.
"""

from .adapter import RedmineAdapter

__all__ = ["RedmineAdapter"]
