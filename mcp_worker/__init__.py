"""The MCP worker: authenticates AI clients by their MCP API key and serves PM tools.

Built on the official `mcp` SDK, served by hypercorn. Imports no Flask.
"""

__version__ = "0.1.0"
