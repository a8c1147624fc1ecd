"""The shared core: models, keys, credential vault, provider adapters, services.

Nothing under this package may import Flask or MCP; a test proves it.
"""
