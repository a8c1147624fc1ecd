"""The worker's tools, grouped like toolsets; `build_registry()` collects them all."""

from .registry import ToolRegistry


def build_registry() -> ToolRegistry:
    from . import account

    registry = ToolRegistry()
    account.register(registry)
    return registry
