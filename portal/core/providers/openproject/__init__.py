"""OpenProject, through API v3 (HAL+JSON; Basic auth as user `apikey` with the API token as password).

How OpenProject maps onto the domain model:
- Projects are workspaces (`/api/v3/workspaces`, OpenProject 17) or projects on older
  servers; the native id is the numeric id, the key the identifier.
- Tasks are work packages (`#123`); the task type is the work package type. Descriptions
  and comments are the Markdown `raw` text of OpenProject's formattable fields.
- Statuses are global; a status flagged `isClosed` is DONE, "New"-like names are TODO,
  "In progress"-like names IN_PROGRESS, and other open statuses UNKNOWN rather than a
  guess. Which statuses a work package may move to comes from its form (the workflow).
- Sprints are OpenProject sprints (`/api/v3/sprints`, read-only through the API) or, on
  servers without them, versions (written in full). Epics are work packages of the type
  "Epic"; a task's epic is its parent when that parent is an Epic. Story points are
  `storyPoints`, estimates `estimatedTime`.
- done_at is derived from the activities (the last change into a closed status), and
  only in sprint_tasks, where a burndown needs it.
- Links are relations, worklogs time entries, history the activities' details, fields
  the create form's schema (custom fields are `customFieldN`), a native query a filter array.

Modules: `parse` (HAL+JSON to our types), `query` (filters, sort orders, page
numbers, the values of writes), `server` (credentials, the user, and what the
server offers, cached), `workpackages` (reading and saving work packages, shared by
the rest), one module per sprint-work concern with its pure parsers (`sprints`,
`links`, `worklogs`, `history`, `fields`), and `adapter` (the operations on projects,
tasks, comments and epics, built of those).
"""

from .adapter import OpenProjectAdapter

__all__ = ["OpenProjectAdapter"]
