"""The first step of `make run`: stop with one line when a port it needs is taken.

    python scripts/check_ports.py HOST WEB_PORT MCP_PORT
"""

from __future__ import annotations

import socket
import sys

HINT = "Choose free ports: make run WEB_PORT=5001 MCP_PORT=8081"


def problem(host: str, web_port: str, mcp_port: str) -> str | None:
    ports = []
    for name, value, what in (("WEB_PORT", web_port, "the portal"), ("MCP_PORT", mcp_port, "the MCP worker")):
        if not value.isdigit() or not 0 < int(value) < 65536:
            return f"{name}={value!r} is not a port number. {HINT}"
        ports.append((name, int(value), what))
    if ports[0][1] == ports[1][1]:
        return f"WEB_PORT and MCP_PORT are both {ports[0][1]}: the portal and the worker need a port each. {HINT}"
    for name, port, what in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            try:
                sock.bind((host, port))
            except OSError:
                return f"Port {port} on {host} ({name}, for {what}) is already in use. {HINT}"
    return None


if __name__ == "__main__":
    found = problem(*sys.argv[1:4])
    if found:
        print(f"Error: {found}", file=sys.stderr)
        sys.exit(1)
