"""A key limited to toolsets: its client lists only their tools and is told which toolset a call lacks."""

from __future__ import annotations

import pytest

from mcp_worker.tools.toolsets import tool_json
from portal.core.toolsets import TOOL_TOOLSET, listing_cost

from .harness import mcp_client

pytestmark = pytest.mark.anyio


async def test_a_key_sees_and_calls_only_its_toolsets(worker, make_user, make_key):
    ana = make_user()
    key = make_key(ana, name="analytics only", toolsets=["analytics"])
    async with mcp_client(worker.url, key) as client:
        tools = (await client.list_tools()).tools
        names = {tool.name for tool in tools}
        assert names == {"whoami", "list_connections"} | {
            name for name, toolset in TOOL_TOOLSET.items() if toolset == "analytics" and name in names
        }
        assert {"burndown", "velocity"} <= names and "list_tasks" not in names
        refused = await client.call_tool("list_tasks", {})
        assert refused.is_error
        message = refused.content[0].text
        assert "lacks the 'tasks' toolset" in message and "/keys" in message
        me = await client.call_tool("whoami", {})
        assert me.structured_content["toolsets"] == ["analytics"]
    # What the keys page shows is the size of this very listing.
    wire = '{"tools":[' + ",".join(tool_json(tool) for tool in tools) + "]}"
    cost = listing_cost({"analytics"}, read_only=False)
    assert (cost.tools, cost.chars) == (len(tools), len(wire))


async def test_a_read_only_key_with_every_toolset_still_lists_no_write_tool(worker, make_user, make_key):
    ana = make_user()
    key = make_key(ana, read_only=True, toolsets=["tasks", "sprints", "work", "analytics", "bulk"])
    async with mcp_client(worker.url, key) as client:
        tools = (await client.list_tools()).tools
    assert tools and all(tool.annotations.read_only_hint for tool in tools)
    assert {"list_tasks", "get_task_history", "sprint_health"} <= {t.name for t in tools}
    assert listing_cost({"tasks", "sprints", "work", "analytics", "bulk"}, read_only=True).tools == len(tools)
