"""Start the real worker process and talk to it with the official MCP client, or the worker in process.

Tests about HTTP (authentication, transports, headers) use the process; tests about what the tools do
use `in_process_client`, the SDK's in-memory client on the same server object, signed in with a real key.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
import requests
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from mcp_worker.app import WorkerApp

WORKER_TEST_SETTINGS = {"MCP_KEY_CACHE_SECONDS": "1", "MCP_AUTH_FAILURE_LIMIT": "10000"}

# The first message of a 2025-11-25 session, for tests that speak HTTP to the worker without the SDK.
INITIALIZE_REQUEST = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s; nothing when it has already ended."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class WorkerProcess:
    url: str
    log_path: Path
    process: subprocess.Popen

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)


def start_worker(
    env_overrides: dict[str, str],
    log_path: Path,
    timeout: float = 30,
    preexec_fn: Callable[[], None] | None = None,
) -> WorkerProcess:
    port = free_port()
    env = {
        **os.environ,
        **WORKER_TEST_SETTINGS,
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "PUBLIC_MCP_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
        **env_overrides,
    }
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "mcp_worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(process, url, log_path, "the worker", timeout)
    return WorkerProcess(url=url, log_path=log_path, process=process)


def wait_until_healthy(
    process: subprocess.Popen, url: str, log_path: Path, name: str, timeout: float = 30
) -> None:
    """Return once `url`/healthz answers 200; RuntimeError with the log if the process exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log_path.read_text(errors='replace')}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop_process(process)
    raise RuntimeError(f"{name} did not start: {log_path.read_text(errors='replace')}")


def key_headers(key: str, form: str = "header") -> dict[str, str]:
    if form == "bearer":
        return {"Authorization": f"Bearer {key}"}
    return {"X-MCP-API-Key": key}


@contextlib.asynccontextmanager
async def mcp_client(
    base_url: str,
    key: str,
    *,
    transport: str = "http",
    form: str = "header",
    mode: str = "legacy",
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
) -> AsyncIterator[Client]:
    """An MCP client session: transport "sse" or "http"; mode "legacy" (initialize) or "auto".

    `timeout`: for HTTP operations other than reading a stream (the SDK's defaults when None).
    """
    headers = {**key_headers(key, form), **(headers or {})}
    if transport == "sse":
        transport_timeout = {"timeout": timeout} if timeout is not None else {}
        async with Client(
            sse_client(f"{base_url}/sse", headers=headers, **transport_timeout), mode="legacy"
        ) as client:
            yield client
        return
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(timeout or 30, read=60)) as http:
        async with Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode=mode) as client:
            yield client


@contextlib.asynccontextmanager
async def in_process_client(worker: WorkerApp, key: str) -> AsyncIterator[Client]:
    """An MCP client session with the worker's server in this process, as the holder of `key`."""
    async with worker.signed_in(key), Client(worker.server) as client:
        yield client
