"""Toolsets: every tool has one, names are checked, and the recorded sizes are the real listing's."""

from __future__ import annotations

import json

import pytest

from mcp_worker.tools import build_registry
from mcp_worker.tools.registry import ToolInput, ToolOutput, Toolset
from mcp_worker.tools.toolsets import measure, sizes_document, tool_json
from portal.core.principals import Limits
from portal.core.toolsets import (
    ALWAYS,
    DEFAULT_TOOLSETS,
    SIZES_FILE,
    TOOL_TOOLSET,
    TOOLSETS,
    UnknownToolset,
    listing_cost,
    loaded_toolsets,
    parse_toolsets,
    stored_toolsets,
    tool_sizes,
)

ISSUE_11_TOOLS = {
    "create_sprint": "sprints",
    "update_sprint": "sprints",
    "move_to_sprint": "sprints",
    "link_tasks": "work",
    "unlink_tasks": "work",
    "log_work": "work",
    "list_worklogs": "work",
    "get_task_history": "work",
    "list_fields": "work",
    "bulk_create_tasks": "bulk",
    "bulk_update_tasks": "bulk",
}


def test_every_registered_tool_has_a_toolset():
    registry = build_registry()
    assert registry.specs
    for spec in registry.specs:
        assert spec.toolset in (*TOOLSETS, ALWAYS), spec.name
        assert TOOL_TOOLSET[spec.name] == spec.toolset
    assert {spec.name for spec in registry.specs if spec.toolset == ALWAYS} == {"whoami", "list_connections"}


def test_the_sprint_work_tools_have_their_toolsets_before_they_exist():
    for tool, toolset in ISSUE_11_TOOLS.items():
        assert TOOL_TOOLSET[tool] == toolset


def test_a_tool_without_a_toolset_cannot_be_registered():
    tools = Toolset()
    with pytest.raises(ValueError, match="belongs to no toolset"):

        @tools.tool("make_coffee", title="Coffee", read_only=True)
        async def make_coffee(call, args: ToolInput) -> ToolOutput:
            """Coffee."""
            return ToolOutput()


def test_toolset_names_are_checked_and_the_default_leaves_out_bulk():
    assert DEFAULT_TOOLSETS == {"tasks", "sprints", "work", "analytics"}
    assert parse_toolsets([" Tasks", "sprints ", ""]) == {"tasks", "sprints"}
    with pytest.raises(UnknownToolset, match="'cofee'.*choose among: tasks, sprints, work, analytics, bulk"):
        parse_toolsets(["tasks", "cofee"])
    with pytest.raises(UnknownToolset, match="at least one"):
        parse_toolsets([" ", ""])
    assert stored_toolsets({"bulk", "tasks"}) == ["tasks", "bulk"]
    assert loaded_toolsets(None) == DEFAULT_TOOLSETS  # a credential from before toolsets
    assert loaded_toolsets(["tasks", "retired"]) == {"tasks"}
    assert Limits.of(toolsets=None).toolsets == DEFAULT_TOOLSETS


def test_recorded_sizes_are_the_real_listing():
    measured = sizes_document(measure(build_registry()))
    assert json.loads(measured) == json.loads(SIZES_FILE.read_text()), (
        "A tool changed what clients see: run `python -m mcp_worker.tools.toolsets` and commit "
        "portal/core/tool_sizes.json."
    )


@pytest.mark.parametrize(
    "toolsets, read_only",
    [(DEFAULT_TOOLSETS, False), ({"tasks"}, True), ({"analytics", "sprints"}, False), (set(TOOLSETS), True)],
)
def test_listing_cost_is_the_size_of_the_listing_a_credential_gets(toolsets, read_only):
    registry = build_registry()
    listing = registry.listing(Limits(read_only=read_only, toolsets=frozenset(toolsets)))
    wire = '{"tools":[' + ",".join(tool_json(tool) for tool in listing) + "]}"
    cost = listing_cost(toolsets, read_only=read_only, sizes=measure(registry))
    assert cost.tools == len(listing)
    assert cost.chars == len(wire)
    assert cost.tokens == -(-len(wire) // 4)
    # and the file the portal reads gives the same
    assert listing_cost(toolsets, read_only=read_only, sizes=tool_sizes()) == cost
    names = {tool.name for tool in listing}
    assert {"whoami", "list_connections"} <= names
    assert all(TOOL_TOOLSET[name] in (*toolsets, ALWAYS) for name in names)
