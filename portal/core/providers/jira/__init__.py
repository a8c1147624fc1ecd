"""JIRA Cloud: the platform REST API v3 and the Jira Software (Agile) API 1.0.

How JIRA maps onto the domain model:

- Native ids: a project is its key (PROJ), a task or an epic its issue key
  (PROJ-12), a status and a priority their numeric ids, a user the Atlassian
  account id, a sprint its numeric id.
- Search goes only through `/rest/api/3/search/jql` (nextPageToken paging),
  always naming the fields wanted; the JQL is built from a TaskQuery with every
  value quoted.
- Statuses change only through workflow transitions.
- Story points live in whatever field a scrum board's estimation settings name
  (`/board/{id}/configuration`), and the sprint field is found by its custom
  type in the field list: neither custom field id is assumed. Both, with the
  boards and projects, are kept with the connection's metadata.
- Descriptions and comments are ADF in v3; adf.py converts to and from Markdown.

Modules: `parse` (JIRA JSON to our types), `query` (JQL, the fields to fetch,
the values of writes), `metadata` (the site's fields, projects and boards,
cached), `adapter` (the operations).
"""

from .adapter import JiraAdapter

__all__ = ["JiraAdapter"]
