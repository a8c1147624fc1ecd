"""The worker's file descriptors: client-closed connections released at once, a connection cap
answered with 503, the open-file limit raised at start, and a flood that doesn't fail real clients."""

from __future__ import annotations

import http.client
import logging
import os
import resource
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest

from mcp_worker.listener import ThrottledLoopErrors, default_connection_cap

from .harness import mcp_client, start_worker


def _soft_limit(value: int):
    def apply() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (value, hard))

    return apply


def _open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _close_wait(port: int) -> int:
    """Sockets of the worker's port in CLOSE-WAIT (the client closed, the worker hasn't)."""
    out = subprocess.run(
        ["ss", "-Htan", "state", "close-wait", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return str(parts.hostname), int(parts.port or 80)


def _max_open_files(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no open-files line")


def test_client_closed_keep_alive_connections_are_released_at_once(worker_env, tmp_path):
    # A long keep-alive timeout: without the prompt close, every socket below would sit in
    # CLOSE-WAIT for two minutes.
    worker = start_worker({**worker_env, "MCP_KEEP_ALIVE_SECONDS": "120"}, tmp_path / "worker.log")
    try:
        host, port = _address(worker.url)
        before = _open_descriptors(worker.process.pid)
        connections = []
        for _ in range(40):
            connection = http.client.HTTPConnection(host, port, timeout=10)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            connections.append(connection)  # kept alive: the worker holds it open
        assert _open_descriptors(worker.process.pid) >= before + 35
        for connection in connections:
            connection.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if _close_wait(port) == 0 and _open_descriptors(worker.process.pid) <= before + 2:
                break
            time.sleep(0.2)
        assert _close_wait(port) == 0
        assert _open_descriptors(worker.process.pid) <= before + 2
    finally:
        worker.stop()


def test_an_idle_connection_outlives_the_clients_own_keep_alive(worker_env, tmp_path):
    # httpx and Node keep an idle pooled connection for 4 to 5 seconds and then send on it: a worker that
    # closed its end at the same moment would answer that request with nothing ("Server disconnected
    # without sending a response"), so by default it keeps an idle connection well past that.
    client_keep_alive = httpx2.Limits().keepalive_expiry
    assert client_keep_alive is not None
    worker = start_worker(
        {k: v for k, v in worker_env.items() if k != "MCP_KEEP_ALIVE_SECONDS"}, tmp_path / "w.log"
    )
    try:
        connection = http.client.HTTPConnection(*_address(worker.url), timeout=10)
        connection.request("GET", "/healthz")
        assert connection.getresponse().read() and connection.sock is not None
        time.sleep(client_keep_alive + 1)  # the idle time itself is what is tested
        connection.request("GET", "/healthz")  # http.client would reconnect only after an error
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        worker.stop()


def test_connections_beyond_the_cap_get_a_clean_503(worker_env, tmp_path):
    worker = start_worker({**worker_env, "MCP_MAX_CONNECTIONS": "4"}, tmp_path / "worker.log")
    try:
        host, port = _address(worker.url)
        time.sleep(0.5)  # the start-up probe's connection is closed
        held = []
        for _ in range(4):
            connection = http.client.HTTPConnection(host, port, timeout=10)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            held.append(connection)
        extra = http.client.HTTPConnection(host, port, timeout=10)
        extra.request("POST", "/mcp", body=b"{}", headers={"Content-Type": "application/json"})
        response = extra.getresponse()
        body = response.read().decode()
        assert response.status == 503
        assert response.getheader("Retry-After") and response.getheader("Connection") == "close"
        assert "too many open connections" in body and '"jsonrpc": "2.0"' in body
        extra.close()
        for connection in held:
            connection.close()
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            again = http.client.HTTPConnection(host, port, timeout=10)
            again.request("GET", "/healthz")
            status = again.getresponse().status
            again.close()
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200
        assert "At most 4 client connections at once" in worker.log()
    finally:
        worker.stop()


def test_the_soft_open_file_limit_is_raised_to_the_hard_one_and_logged(worker_env, tmp_path):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip(f"this machine's hard open-file limit ({hard}) leaves nothing to raise")
    worker = start_worker(worker_env, tmp_path / "worker.log", preexec_fn=_soft_limit(256))
    try:
        assert _max_open_files(worker.process.pid) == (hard, hard)
        assert f"Open-file limit: {hard} (raised from 256)" in worker.log()
    finally:
        worker.stop()


def _flood(host: str, port: int, rounds: int) -> int:
    """Open and close connections to /healthz: half with a request, half bare. Returns how many answered."""
    answered = 0
    for i in range(rounds):
        if i % 2:
            try:
                with socket.create_connection((host, port), timeout=10):
                    pass
            except OSError:
                pass
            continue
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            answered += 1
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
    return answered


@pytest.mark.anyio
async def test_a_worker_at_256_descriptors_survives_load_and_a_flood(
    worker_env, tmp_path, make_user, make_key
):
    worker = start_worker(
        {**worker_env, "MCP_RAISE_OPEN_FILE_LIMIT": "0", "MCP_ACCESS_LOG": "0"},
        tmp_path / "worker.log",
        preexec_fn=_soft_limit(256),
    )
    try:
        pid = worker.process.pid
        assert _max_open_files(pid)[0] == 256
        host, port = _address(worker.url)
        user_id = make_user()
        keys = [make_key(user_id, name=f"client {n}") for n in range(50)]
        failures: list[str] = []
        calls = 0
        peak = 0
        stop_sampling = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop_sampling.is_set():
                try:
                    peak = max(peak, _open_descriptors(pid))
                except OSError:
                    pass
                time.sleep(0.05)

        async def client(key: str) -> None:
            nonlocal calls
            try:
                async with mcp_client(worker.url, key) as session:
                    for _ in range(40):
                        result = await session.call_tool("whoami", {})
                        calls += 1
                        if result.is_error:
                            failures.append(result.content[0].text)
            except Exception as exc:
                failures.append(repr(exc))

        pool = ThreadPoolExecutor(max_workers=7)
        flood = [pool.submit(_flood, host, port, 300) for _ in range(6)]
        pool.submit(sample)
        async with anyio.create_task_group() as group:
            for key in keys:
                group.start_soon(client, key)
        flooded = sum(future.result(timeout=300) for future in flood)
        stop_sampling.set()
        pool.shutdown(wait=True)

        assert failures == []
        assert calls == 2000
        assert flooded > 0
        assert peak < 256, f"the worker reached {peak} open descriptors"
        log_text = worker.log()
        assert "Open-file limit: 256 (MCP_RAISE_OPEN_FILE_LIMIT=0)" in log_text
        assert "Too many open files" not in log_text
    finally:
        worker.stop()


def test_running_out_of_descriptors_is_logged_once_per_interval(caplog):
    now = [1000.0]
    handler = ThrottledLoopErrors(interval=60, clock=lambda: now[0])
    error = OSError(24, "Too many open files")
    with caplog.at_level(logging.ERROR, logger="mcp_worker.listener"):
        for _ in range(500):
            handler(None, {"message": "socket.accept() out of system resource", "exception": error})
        assert len(caplog.records) == 1
        now[0] += 61
        handler(None, {"message": "socket.accept() out of system resource", "exception": error})
    assert len(caplog.records) == 2
    assert "499 more since the last report" in caplog.records[1].getMessage()
    assert "MCP_MAX_CONNECTIONS" in caplog.records[0].getMessage()


def test_default_connection_cap_leaves_room_under_the_limit():
    assert default_connection_cap(256) == 192
    assert default_connection_cap(1_048_576) == 10_000
    assert default_connection_cap(40) == 16
