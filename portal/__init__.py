"""A self-hosted, multi-user MCP server for project management.

`portal.core` holds everything the web portal and the MCP worker share and
imports neither Flask nor MCP. The Flask portal itself is built by
`portal.app.create_app`; importing this package pulls in no Flask module.
"""
