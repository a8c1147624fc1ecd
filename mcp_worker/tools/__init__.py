"""The worker's tools, grouped like toolsets; `build_registry()` collects them all."""

from .context import explain_provider_error
from .registry import ToolRegistry


def build_registry() -> ToolRegistry:
    from . import account, agile, comments, projects, tasks

    registry = ToolRegistry()
    registry.describe_provider_error = explain_provider_error
    for toolset in (account, projects, tasks, comments, agile):
        toolset.register(registry)
    return registry
