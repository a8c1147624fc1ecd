"""Starting on a busy port: one line naming the port and how to choose another, never a traceback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("which", ["WEB_PORT", "MCP_PORT"])
def test_make_run_on_a_busy_port_says_which_and_how_to_choose_another(tmp_path, busy_port, which):
    ports = {"WEB_PORT": str(free_port()), "MCP_PORT": str(free_port()), which: str(busy_port)}
    # As a person types it, even when the suite itself runs under make (make test).
    env = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
    result = subprocess.run(
        ["make", "--no-print-directory", "run", *(f"{k}={v}" for k, v in ports.items())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    assert ours == [
        f"Error: Port {busy_port} on 127.0.0.1 ({which}, for "
        f"{'the portal' if which == 'WEB_PORT' else 'the MCP worker'}) is already in use. "
        "Choose free ports: make run WEB_PORT=5001 MCP_PORT=8081"
    ]
    assert "started" not in result.stdout and not (tmp_path / "instance").exists()  # nothing else ran


def test_the_worker_on_a_busy_port_stops_with_one_line(tmp_path, busy_port):
    env = {
        "PATH": "/usr/bin:/bin",
        "INSTANCE_PATH": str(tmp_path),
        "MCP_PORT": str(busy_port),
        "SECRET_KEY": "s",
        "CREDENTIALS_KEY": "Z2V0LWEtMzItYnl0ZS1rZXktZm9yLXRoZS10ZXN0cyE=",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mcp_worker"], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: The MCP worker can't listen on 127.0.0.1:{busy_port}: port {busy_port} on 127.0.0.1 is already "
        "in use. Choose another with MCP_HOST / MCP_PORT (with make run: make run WEB_PORT=5001 MCP_PORT=8081)."
    ]
    assert "Traceback" not in result.stderr
