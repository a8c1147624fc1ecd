"""JIRA Cloud: the platform REST API v3 and the Jira Software (Agile) API 1.0.

How JIRA maps onto the domain model:

- Native ids: a project is its key (PROJ), a task or an epic its issue key
  (PROJ-12), a status and a priority their numeric ids, a user the Atlassian
  account id, a sprint its numeric id.
- Search goes only through `/rest/api/3/search/jql` (nextPageToken paging),
  naming the fields wanted (every navigable one on a cold read); the JQL is built from a TaskQuery with every
  value quoted.
- Statuses change only through workflow transitions.
- Story points live in whatever field a scrum board's estimation settings name
  (`/board/{id}/configuration`): an issue's are those of its sprint's board, else
  its project's. The sprint field is found by its custom type (in an answer's field
  schemas, or the field list): neither custom field id is assumed. Both, with the
  boards, projects, link types and create metadata, are kept with the connection's
  metadata.
- Descriptions, comments and worklog comments are ADF in v3; adf.py converts to and
  from Markdown.
- Sprint work: sprints are written through Agile 1.0; links, worklogs, the changelog
  and the create metadata through REST v3; `native_query` is JQL.

Modules: `parse` and `parse_work` (JIRA JSON to our types), `query` (JQL, the fields
to fetch, the values of writes), `metadata` (the site's fields, projects, boards and
link types, cached), `search` (the issue search), `adapter` (the task operations),
and one module per sprint-work concern: `sprints`, `links`, `worklogs`, `history`,
`fields`.
"""

from .adapter import JiraAdapter

__all__ = ["JiraAdapter"]
