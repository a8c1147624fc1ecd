"""Benchmark the MCP worker: `whoami` round trips and the memory of idle SSE sessions.

    python benchmarks/worker_bench.py [--calls 400] [--sessions 200]

Starts its own worker (a throwaway SQLite database, a user and a key) and, for
comparison, the SDK's bare server (benchmarks/bare_server.py: same transports,
same hypercorn, no authentication, no database), each in its own process, and
drives them with the official MCP client over Streamable HTTP and SSE with 1
and 20 concurrent clients. The worker's own cost is its p50 minus the bare
server's p50. Then it opens idle SSE sessions and reads the worker's resident
memory from /proc. Prints a table; the README keeps the latest one.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx2
import requests
from cryptography.fernet import Fernet
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server at {url} exited")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"the server at {url} did not start")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def prepare_worker(workdir: Path) -> tuple[dict[str, str], str]:
    env = {
        **os.environ,
        "APP_ENV": "development",
        "INSTANCE_PATH": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "SECRET_KEY": "bench",
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
    }
    pm_portal = [sys.executable, "-m", "portal.cli"]
    subprocess.run([*pm_portal, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*pm_portal, "create-user", "bench@example.com", "--password-stdin"],
        env=env,
        input="bench password 123\n",
        text=True,
        check=True,
        capture_output=True,
    )
    made = subprocess.run(
        [*pm_portal, "create-key", "bench@example.com", "--name", "bench"],
        env=env,
        text=True,
        check=True,
        capture_output=True,
    )
    return env, made.stdout.strip().splitlines()[0]


async def one_client(url: str, transport: str, key: str | None, calls: int, latencies: list[float]) -> None:
    headers = {"X-MCP-API-Key": key} if key else {}
    if transport == "sse":
        async with Client(sse_client(f"{url}/sse", headers=headers), mode="legacy") as client:
            await client.call_tool("whoami", {})  # warm up
            for _ in range(calls):
                started = time.perf_counter()
                await client.call_tool("whoami", {})
                latencies.append(time.perf_counter() - started)
        return
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy") as client:
            await client.call_tool("whoami", {})
            for _ in range(calls):
                started = time.perf_counter()
                await client.call_tool("whoami", {})
                latencies.append(time.perf_counter() - started)


async def run_load(
    url: str, transport: str, key: str | None, clients: int, calls: int
) -> tuple[float, float, float]:
    latencies: list[float] = []
    per_client = max(1, calls // clients)
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(one_client, url, transport, key, per_client, latencies)
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return len(latencies) / elapsed, p50, p99


async def idle_sse_sessions(url: str, key: str, count: int) -> list:
    """Open `count` SSE streams and read their endpoint event; return the open responses."""
    client = httpx2.AsyncClient(
        headers={"X-MCP-API-Key": key}, timeout=60, limits=httpx2.Limits(max_connections=count + 10)
    )
    streams = []
    for _ in range(count):
        request = client.build_request("GET", f"{url}/sse")
        response = await client.send(request, stream=True)
        lines = response.aiter_lines()
        async for line in lines:
            if line.startswith("data:"):
                break
        streams.append((response, lines))
    return [client, streams]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=400, help="whoami calls per measurement")
    parser.add_argument("--sessions", type=int, default=200, help="idle SSE sessions for the memory figure")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env, key = prepare_worker(workdir)
        worker_port, bare_port = free_port(), free_port()
        worker = subprocess.Popen(
            [sys.executable, "-m", "mcp_worker"],
            env={**env, "MCP_PORT": str(worker_port), "LOG_LEVEL": "WARNING", "MCP_ACCESS_LOG": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "bare_server.py"), str(bare_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            worker_url, bare_url = f"http://127.0.0.1:{worker_port}", f"http://127.0.0.1:{bare_port}"
            wait_for(f"{worker_url}/healthz", worker)
            wait_for(f"{bare_url}/mcp", bare)
            rows = []
            for transport in ("http", "sse"):
                for clients in (1, 20):
                    ours = anyio.run(run_load, worker_url, transport, key, clients, args.calls)
                    base = anyio.run(run_load, bare_url, transport, None, clients, args.calls)
                    rows.append((transport, clients, ours, base))

            before = rss_kib(worker.pid)

            async def hold() -> int:
                client, streams = await idle_sse_sessions(worker_url, key, args.sessions)
                await anyio.sleep(2)
                during = rss_kib(worker.pid)
                for response, _ in streams:
                    await response.aclose()
                await client.aclose()
                return during

            during = anyio.run(hold)
        finally:
            for process in (worker, bare):
                process.terminate()
                process.wait(timeout=10)

    print(
        f"whoami round trips, {args.calls} calls per row (worker = auth + database + dispatch; bare = the SDK alone)"
    )
    print()
    print(
        "| transport | clients | worker calls/s | worker p50 ms | worker p99 ms | bare calls/s | bare p50 ms | bare p99 ms | worker's own cost (p50) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    names = {"http": "Streamable HTTP", "sse": "SSE"}
    for transport, clients, (rate, p50, p99), (brate, bp50, bp99) in rows:
        print(
            f"| {names[transport]} | {clients} | {rate:.0f} | {p50:.2f} | {p99:.2f} | {brate:.0f} | {bp50:.2f} | "
            f"{bp99:.2f} | {p50 - bp50:+.2f} ms |"
        )
    print()
    per_session = (during - before) / args.sessions
    print("| idle SSE sessions | worker RSS before | worker RSS with them open | per session |")
    print("|---|---|---|---|")
    print(f"| {args.sessions} | {before / 1024:.1f} MiB | {during / 1024:.1f} MiB | {per_session:.0f} KiB |")


if __name__ == "__main__":
    main()
