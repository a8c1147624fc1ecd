"""Benchmark several workers behind HAProxy: `whoami` calls per second with 1, 2 and 3 worker processes
behind the balancer (round-robin, no stickiness), against one worker reached directly.

    python benchmarks/workers.py --database-url postgresql://postgres@127.0.0.1:55432/pm_bench \\
        [--clients 20] [--calls 1000]

Needs PostgreSQL (several workers share it) and Debian's haproxy. The database's tables are created if
missing; a user and key with a unique email are added (a throwaway database is best). The workers run
/mcp stateless (MCP_STATELESS=1), as the README says to with several workers; the clients use the
official MCP client over Streamable HTTP. Every figure is bounded by the machine's cores: the workers,
the balancer, PostgreSQL and the client all share them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

import anyio
import httpx2
from cryptography.fernet import Fernet
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal.core import accounts  # noqa: E402
from portal.core import keys as key_service  # noqa: E402
from portal.core.config import normalize_database_url  # noqa: E402
from portal.core.db import Database  # noqa: E402
from portal.core.models import Base  # noqa: E402
from tests.worker.balancer import start_balancer  # noqa: E402
from tests.worker.harness import start_worker  # noqa: E402


def prepare(database_url: str) -> str:
    database = Database(database_url)
    try:
        Base.metadata.create_all(database.engine)
        with database.session() as session:
            user = accounts.create_user(
                session,
                email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                password=secrets.token_urlsafe(16),
                display_name="Bench",
            )
            return key_service.mint_key(session, user, name="bench").raw_key
    finally:
        database.dispose()


async def one_client(url: str, key: str, calls: int, done: list[int], failures: list[str]) -> None:
    try:
        async with httpx2.AsyncClient(headers={"X-MCP-API-Key": key}, timeout=60) as http:
            async with Client(
                streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy"
            ) as client:
                for _ in range(calls):
                    result = await client.call_tool("whoami", {})
                    if result.is_error:
                        failures.append(str(result.content[0])[:200])
                    done.append(1)
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}"[:200])


async def measure(url: str, key: str, clients: int, calls: int) -> tuple[float, int]:
    """(calls per second, failures) for `calls` calls spread over `clients` concurrent clients."""
    done: list[int] = []
    failures: list[str] = []
    async with anyio.create_task_group() as warm:  # connections and caches warm before the clock starts
        for _ in range(clients):
            warm.start_soon(one_client, url, key, 1, [], [])
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(one_client, url, key, max(1, calls // clients), done, failures)
    return len(done) / (time.perf_counter() - started), len(failures)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith(("postgres://", "postgresql")):
        raise SystemExit("Give a PostgreSQL database with --database-url (several workers share it).")
    database_url = normalize_database_url(args.database_url)
    key = prepare(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="pm-workers-bench-"))
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench",
        "CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(workdir),
        "MCP_STATELESS": "1",
        "MCP_ACCESS_LOG": "0",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    workers = [start_worker(env, workdir / f"worker{n}.log") for n in range(3)]
    rows: list[tuple[str, float, int]] = []
    try:
        rate, failed = anyio.run(measure, workers[0].url, key, args.clients, args.calls)
        rows.append(("1 worker, direct", rate, failed))
        for count in (1, 2, 3):
            balancer_dir = workdir / f"haproxy{count}"
            balancer_dir.mkdir()
            balancer = start_balancer([w.url for w in workers[:count]], balancer_dir)
            try:
                rate, failed = anyio.run(measure, balancer.url, key, args.clients, args.calls)
            finally:
                balancer.stop()
            rows.append((f"{count} worker{'s' if count > 1 else ''} behind HAProxy", rate, failed))
    finally:
        for worker in workers:
            worker.stop()
    print(
        f"{args.clients} clients, {args.calls} whoami calls each setup, Streamable HTTP, {os.cpu_count()} cores"
    )
    print("| setup | calls/s | failed |")
    print("|---|---:|---:|")
    for name, rate, failed in rows:
        print(f"| {name} | {rate:.0f} | {failed} |")


if __name__ == "__main__":
    main()
