"""The built-in team tracker as a provider: the interface of JIRA and the others, over our own database.

How the tracker maps onto the domain model:
- Projects: the native id is the project key ("DEMO").
- Tasks: the native id is the task key ("DEMO-12"); types are task, bug, story and epic.
- Statuses belong to a project and carry their own category (to do, in progress,
  done); a status given to set_task_status or a task query is matched by name.
- Priorities are lowest ... highest, mapped 1:1 onto PriorityLevel; "none" is no priority.
- People are the instance's active users (native id = the user id); the current
  user is the connection's owner.
- Sprints: native id = the sprint id; whole UTC days, a sprint covers its end day.
- Epics are tasks of type epic; a task joins one through its `epic` field.
- done_at is kept by the tracker itself: set when a task enters a done status.
- Browser URLs point at the portal's tracker pages under `config.base_url`.

The adapter makes no network requests: `policy` is accepted for the common
constructor and not used. Each call runs in its own short database session.

Modules: `parse` (tracker rows to our types), `adapter` (the operations).
"""

from .adapter import LocalAdapter

__all__ = ["LocalAdapter"]
