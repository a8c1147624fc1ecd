"""The built-in team tracker: projects, tasks, sprints and comments kept in the app's own database.

`models` holds the tables, `service` the operations both the portal pages and
the `local` provider adapter perform. Flask-free and MCP-free, like all of core.
"""
