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

Modules: `parse` (ClickUp JSON to our types), `comments` (rich text to
Markdown), `query` (task list parameters and filters, the bodies of writes),
`workspace` (calls, the user and the cached hierarchy), `adapter` (the operations).
"""

from .adapter import ClickUpAdapter

__all__ = ["ClickUpAdapter"]
