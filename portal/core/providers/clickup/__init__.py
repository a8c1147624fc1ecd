"""ClickUp, through API v2 with a personal token.

How ClickUp's hierarchy maps onto the model:

- The connection works in one Workspace (a "team" in API v2): the `team_id`
  option, or the only Workspace the token sees. `check()` lists the choices.
- A project is a List (tasks live in Lists). Its name shows where it sits:
  "Space / Folder / List", or "Space / List" for a folderless List. Lists in a
  sprint folder are sprints, not projects.
- Statuses are the List's own status names; ClickUp status types map onto
  categories: open -> TODO, custom -> IN_PROGRESS, done and closed -> DONE.
- Priorities are ClickUp's fixed four: 1 urgent, 2 high, 3 normal, 4 low.
- Sprints exist where a Space has the Sprints ClickApp: each List in a sprint
  folder is a sprint, dated by the List's start and due dates. A task is in a
  sprint when its home List or one of its other Lists (Tasks in Multiple
  Lists) is a sprint List.
- Story points are the task's Sprint Points (`points`); estimates are
  `time_estimate` in milliseconds.
- ClickUp API v2 has no epics and no text search: text filters run here over
  a bounded number of vendor pages.
- Sprint work: a sprint is created as a List of the Space's sprint folder,
  started by dating its start now and closed by ending it now (its open tasks
  moved first); links are dependencies (waiting on / blocking) and task links;
  worklogs are time entries; custom fields are the List's; the native query is
  a view id. ClickUp's API v2 has no task history: that is refused.

Modules: `parse` (ClickUp JSON to our types), `comments` (rich text to
Markdown), `query` (task list parameters and filters, the bodies of writes),
`workspace` (calls, the user and the cached hierarchy, task bodies read with
only the metadata they need), `sprints`, `links`, `worklogs` and `fields` (the
sprint-work operations, each with its pure functions), `adapter` (the rest of
the operations, and the class that joins them).
"""

from .adapter import ClickUpAdapter

__all__ = ["ClickUpAdapter"]
