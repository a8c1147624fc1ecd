"""Ready-to-paste MCP client configurations for a key, one per client.

Formats, as each client documents them:
- Cursor (`~/.cursor/mcp.json` or `.cursor/mcp.json`): `mcpServers.<name>` with `url` and `headers`.
- VS Code (`.vscode/mcp.json`): `servers.<name>` with `type` ("http" or "sse"), `url`, `headers`;
  the `inputs` variant prompts for the key (`promptString`, `password: true`) instead of storing it.
- Windsurf (`~/.codeium/windsurf/mcp_config.json`): `mcpServers.<name>` with `serverUrl` and `headers`.
- Claude Code: `claude mcp add --transport http|sse <name> <url> --header "X-MCP-API-Key: ..."`.
- Claude Desktop (`claude_desktop_config.json`): a stdio bridge, `npx mcp-remote <url> --header ...`,
  with the key in `env` so it stays out of the argument list's spaces.

Clients that speak the MCP authorization spec need no key: `oauth_snippets` gives
them the worker's URL alone, and they sign in through the portal.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from urllib.parse import urlsplit

SERVER_NAME = "pm-server"
HEADER = "X-MCP-API-Key"


@dataclass(frozen=True)
class Snippet:
    title: str
    where: str  # where the text goes, in words
    language: str  # "json" or "shell"
    text: str


def endpoints(public_mcp_url: str) -> tuple[str, str]:
    """The Streamable HTTP and SSE URLs of the worker."""
    base = public_mcp_url.rstrip("/")
    return f"{base}/mcp", f"{base}/sse"


def _json(value: dict) -> str:
    return json.dumps(value, indent=2)


def _plain_http(url: str) -> bool:
    return urlsplit(url).scheme == "http"


def snippets_for(client: str, public_mcp_url: str, key: str) -> list[Snippet]:
    """Configurations for `client`, Streamable HTTP first, then SSE where the client supports both."""
    http_url, sse_url = endpoints(public_mcp_url)
    headers = {HEADER: key}
    if client == "cursor":
        return [
            Snippet(
                "Cursor (Streamable HTTP)",
                "~/.cursor/mcp.json, or .cursor/mcp.json in a project",
                "json",
                _json({"mcpServers": {SERVER_NAME: {"url": http_url, "headers": headers}}}),
            ),
            Snippet(
                "Cursor (SSE)",
                "~/.cursor/mcp.json, or .cursor/mcp.json in a project",
                "json",
                _json({"mcpServers": {SERVER_NAME: {"url": sse_url, "headers": headers}}}),
            ),
        ]
    if client == "vscode":
        prompt_input = {
            "type": "promptString",
            "id": "pm-mcp-key",
            "description": "MCP API key for pm-server",
            "password": True,
        }
        return [
            Snippet(
                "VS Code: prompt for the key (recommended: the key is not written into the file)",
                ".vscode/mcp.json, or your user mcp.json",
                "json",
                _json(
                    {
                        "inputs": [prompt_input],
                        "servers": {
                            SERVER_NAME: {
                                "type": "http",
                                "url": http_url,
                                "headers": {HEADER: "${input:pm-mcp-key}"},
                            }
                        },
                    }
                ),
            ),
            Snippet(
                "VS Code (Streamable HTTP, key in the file)",
                ".vscode/mcp.json, or your user mcp.json",
                "json",
                _json({"servers": {SERVER_NAME: {"type": "http", "url": http_url, "headers": headers}}}),
            ),
            Snippet(
                "VS Code (SSE, key in the file)",
                ".vscode/mcp.json, or your user mcp.json",
                "json",
                _json({"servers": {SERVER_NAME: {"type": "sse", "url": sse_url, "headers": headers}}}),
            ),
        ]
    if client == "windsurf":
        return [
            Snippet(
                "Windsurf (Streamable HTTP)",
                "~/.codeium/windsurf/mcp_config.json",
                "json",
                _json({"mcpServers": {SERVER_NAME: {"serverUrl": http_url, "headers": headers}}}),
            ),
            Snippet(
                "Windsurf (SSE)",
                "~/.codeium/windsurf/mcp_config.json",
                "json",
                _json({"mcpServers": {SERVER_NAME: {"serverUrl": sse_url, "headers": headers}}}),
            ),
        ]
    if client == "claude-code":
        return [
            Snippet(
                "Claude Code (Streamable HTTP)",
                "run in a terminal",
                "shell",
                shlex.join(
                    [
                        "claude",
                        "mcp",
                        "add",
                        "--transport",
                        "http",
                        SERVER_NAME,
                        http_url,
                        "--header",
                        f"{HEADER}: {key}",
                    ]
                ),
            ),
            Snippet(
                "Claude Code (SSE)",
                "run in a terminal",
                "shell",
                shlex.join(
                    [
                        "claude",
                        "mcp",
                        "add",
                        "--transport",
                        "sse",
                        SERVER_NAME,
                        sse_url,
                        "--header",
                        f"{HEADER}: {key}",
                    ]
                ),
            ),
        ]
    if client == "claude-desktop":

        def bridge(url: str, transport: str) -> dict:
            args = ["mcp-remote", url, "--header", f"{HEADER}:${{PM_MCP_KEY}}", "--transport", transport]
            if _plain_http(url):
                args.append("--allow-http")
            return {"mcpServers": {SERVER_NAME: {"command": "npx", "args": args, "env": {"PM_MCP_KEY": key}}}}

        return [
            Snippet(
                "Claude Desktop (Streamable HTTP, through mcp-remote; needs Node.js)",
                "claude_desktop_config.json (Settings → Developer → Edit Config)",
                "json",
                _json(bridge(http_url, "http-only")),
            ),
            Snippet(
                "Claude Desktop (SSE, through mcp-remote; needs Node.js)",
                "claude_desktop_config.json (Settings → Developer → Edit Config)",
                "json",
                _json(bridge(sse_url, "sse-only")),
            ),
        ]
    return [
        Snippet(
            "Any MCP client (Streamable HTTP)",
            "your client's MCP server settings",
            "json",
            _json({"url": http_url, "headers": headers}),
        ),
        Snippet(
            "Any MCP client (SSE)",
            "your client's MCP server settings",
            "json",
            _json({"url": sse_url, "headers": headers}),
        ),
    ]


def oauth_snippets(public_mcp_url: str) -> list[Snippet]:
    """Header-less configurations for clients that sign in with OAuth: the worker's URL is all they need."""
    http_url, _sse_url = endpoints(public_mcp_url)
    return [
        Snippet(
            "Claude (claude.ai, Claude Desktop)",
            "Settings → Connectors → Add custom connector; paste the URL, then Connect",
            "text",
            http_url,
        ),
        Snippet(
            "ChatGPT and other web chat connectors",
            "the connector's MCP server URL; choose OAuth when asked how to authenticate",
            "text",
            http_url,
        ),
        Snippet(
            "Claude Code",
            "run in a terminal, then `/mcp` in Claude Code to sign in",
            "shell",
            shlex.join(["claude", "mcp", "add", "--transport", "http", SERVER_NAME, http_url]),
        ),
        Snippet(
            "VS Code",
            ".vscode/mcp.json, or your user mcp.json; VS Code opens the sign-in on first use",
            "json",
            _json({"servers": {SERVER_NAME: {"type": "http", "url": http_url}}}),
        ),
        Snippet(
            "Cursor",
            "~/.cursor/mcp.json; Cursor shows a Login button for the server",
            "json",
            _json({"mcpServers": {SERVER_NAME: {"url": http_url}}}),
        ),
    ]
