"""Off-the-shelf MCP clients against the real worker, as people run them.

- mcp-remote, launched exactly as the portal's Claude Desktop snippet says
  (`npx mcp-remote URL --header X-MCP-API-Key:${PM_MCP_KEY}` with the key in env),
  driven over stdio by the official Python client. Such clients probe for OAuth
  metadata on every start: several launches within a minute must all connect.
- The MCP Inspector CLI (Node.js 22) listing tools and calling whoami, and
  showing our refusal for a wrong key.

The clients come from scripts/install-test-clients.sh (into .test-clients/).
Without them these tests skip, except where REAL_CLIENTS_REQUIRED=1 (CI),
where a missing client is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from portal.core.client_configs import snippets_for
from portal.core.toolsets import ALWAYS, DEFAULT_TOOLSETS, TOOL_TOOLSET
from tests.worker.harness import start_worker

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / ".test-clients"
NODE22 = CLIENTS / "node_modules" / ".bin" / "node"
MCP_REMOTE = CLIENTS / "node_modules" / ".bin" / "mcp-remote"
INSPECTOR = CLIENTS / "node_modules" / "@modelcontextprotocol" / "inspector" / "cli" / "build" / "cli.js"
REQUIRED = os.environ.get("REAL_CLIENTS_REQUIRED") == "1"


def need(*paths: Path) -> None:
    missing = [str(p.relative_to(ROOT)) for p in paths if not p.exists()]
    if missing:
        message = f"{', '.join(missing)} missing: run scripts/install-test-clients.sh"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def shipped_worker(worker_env, tmp_path):
    """A worker with the shipped authentication throttle (20 wrong keys per address per minute)."""
    process = start_worker(
        {**worker_env, "MCP_AUTH_FAILURE_LIMIT": "", "MCP_AUTH_FAILURE_WINDOW": ""}, tmp_path / "worker.log"
    )
    yield process
    process.stop()


async def test_mcp_remote_as_the_claude_desktop_snippet_runs_it_connects_on_every_launch(
    shipped_worker, make_user, make_key, tmp_path
):
    need(MCP_REMOTE)
    key = make_key(make_user(), name="desktop", client="claude-desktop")
    launches = 0
    with open(tmp_path / "mcp-remote.log", "w") as errlog:
        for snippet in snippets_for("claude-desktop", shipped_worker.url, key):  # Streamable HTTP, then SSE
            server = json.loads(snippet.text)["mcpServers"]["pm-server"]
            assert server["command"] == "npx" and "${PM_MCP_KEY}" in " ".join(server["args"])
            parameters = StdioServerParameters(
                command=server["command"],
                args=server["args"],
                env={
                    **server["env"],
                    "HOME": str(tmp_path),  # mcp-remote keeps OAuth state under ~/.mcp-auth
                    "npm_config_offline": "true",  # npx runs the installed mcp-remote, never a download
                    "npm_config_update_notifier": "false",
                },
                cwd=CLIENTS,
            )
            for _ in range(4):
                async with Client(stdio_client(parameters, errlog=errlog), mode="legacy") as client:
                    names = {tool.name for tool in (await client.list_tools()).tools}
                    result = await client.call_tool("whoami", {})
                launches += 1
                assert {"whoami", "list_my_tasks", "create_task"} <= names
                assert not result.is_error and result.structured_content["key_name"] == "desktop"
    assert launches == 8
    log = shipped_worker.log()
    # They probed for OAuth metadata on every start: answered with the RFC 9728 metadata or a 404, never
    # counted against the address, so no launch was refused.
    assert log.count(" /.well-known/") >= launches
    assert '" 429 ' not in log and '" 401 ' not in log


def run_inspector(cwd: Path, url: str, key: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(NODE22),
            str(INSPECTOR),
            "--cli",
            url,
            "--transport",
            "http",
            "--header",
            f"X-MCP-API-Key: {key}",
        ]
        + list(arguments),
        cwd=cwd,  # a folder without a package.json above it: the CLI looks for its own relative to the cwd
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_mcp_inspector_cli_lists_tools_and_calls_whoami(shipped_worker, make_user, make_key, tmp_path):
    need(NODE22, INSPECTOR)
    assert subprocess.run([str(NODE22), "--version"], capture_output=True, text=True).stdout.startswith(
        "v22."
    )
    key = make_key(make_user(), name="inspector")
    url = f"{shipped_worker.url}/mcp"
    listed = run_inspector(tmp_path, url, key, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr
    tools = {tool["name"]: tool for tool in json.loads(listed.stdout)["tools"]}
    # A new key has the default toolsets: the client sees exactly their tools.
    default = DEFAULT_TOOLSETS | {ALWAYS}
    assert set(tools) == {tool for tool, toolset in TOOL_TOOLSET.items() if toolset in default}
    assert tools["whoami"]["annotations"]["readOnlyHint"] is True
    assert "story_points" in tools["update_task"]["inputSchema"]["properties"]

    called = run_inspector(tmp_path, url, key, "--method", "tools/call", "--tool-name", "whoami")
    assert called.returncode == 0, called.stderr
    whoami = json.loads(called.stdout)
    assert whoami["isError"] is False and whoami["structuredContent"]["key_name"] == "inspector"
    assert "ana@example.com" in whoami["content"][0]["text"]

    # A wrong key: the client shows our message, not a bare status.
    refused = run_inspector(tmp_path, url, "mcp_" + "0" * 64, "--method", "tools/list")
    assert refused.returncode != 0
    assert "This MCP API key is not known here" in refused.stdout + refused.stderr
