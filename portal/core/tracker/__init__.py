"""The built-in team tracker: projects, tasks, sprints and comments kept in the app's own database.

Its tables are in `portal.core.models.tracker`; `service` holds the operations both
the portal pages and the `local` provider adapter perform. Flask-free and MCP-free,
like all of core.
"""
