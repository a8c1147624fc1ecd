"""The worker's tools, grouped like toolsets; `build_registry()` collects them all."""

from .context import explain_provider_error
from .registry import ToolRegistry


def build_registry() -> ToolRegistry:
    from . import account, agile, analytics, bulk, comments, fields, links, projects, sprints, tasks, worklogs

    registry = ToolRegistry()
    registry.describe_provider_error = explain_provider_error
    for module in (
        account,
        projects,
        tasks,
        comments,
        agile,
        analytics,
        sprints,
        links,
        worklogs,
        fields,
        bulk,
    ):
        registry.add_toolset(module.toolset)
    return registry
