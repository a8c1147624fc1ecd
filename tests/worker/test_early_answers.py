"""An answer sent before the request's body was read (401 without a key, 404, 503) leaves the
connection usable: clients pool connections, and one the worker closed behind their back fails their
next request with "Server disconnected without sending a response"."""

from __future__ import annotations

import http.client
import json
import socket
import time
from urllib.parse import urlsplit

import anyio
import pytest

from mcp_worker.front import UNREAD_BODY_BYTES, UnreadBodyMiddleware

from .harness import INITIALIZE_REQUEST

INITIALIZE = json.dumps(INITIALIZE_REQUEST).encode()


def _head(path: str, host: str, length: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _response(sock: socket.socket) -> http.client.HTTPResponse:
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.read()
    return response


@pytest.mark.parametrize("path", ["/mcp", "/no-such-path"])
def test_a_refused_request_whose_body_came_late_keeps_its_connection(worker, path):
    parts = urlsplit(worker.url)
    host = f"{parts.hostname}:{parts.port}"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(_head(path, host, len(INITIALIZE)))
        # The headers and the body arriving in two reads is the condition under test: the worker
        # has the request, without its body, for this long.
        time.sleep(0.3)
        sock.sendall(INITIALIZE)
        refused = _response(sock)
        assert refused.status in (401, 404)
        assert refused.getheader("connection") is None
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert _response(sock).status == 200  # the same connection still answers


def test_a_large_unread_body_is_not_waited_for_and_the_answer_says_close(worker):
    parts = urlsplit(worker.url)
    host = f"{parts.hostname}:{parts.port}"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(_head("/mcp", host, 50_000_000))
        sock.sendall(b"x" * (4 * UNREAD_BODY_BYTES))  # far from the announced length
        refused = _response(sock)
        assert refused.status == 401
        assert refused.getheader("connection") == "close"


def _early_answer(status: int):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def _scope(length: int) -> dict:
    return {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": [(b"content-length", str(length).encode())],
    }


async def _run(app, scope, chunks):
    """Run `app` with `chunks` as the request's body; the chunks read and the messages sent."""
    sent: list[dict] = []
    read: list[int] = []

    async def receive():
        if len(read) < len(chunks):
            read.append(len(chunks[len(read)]))
            index = len(read) - 1
            return {"type": "http.request", "body": chunks[index], "more_body": index < len(chunks) - 1}
        await anyio.sleep_forever()

    async def send(message):
        sent.append({**message, "read_before": sum(read)})

    await app(scope, receive, send)
    return read, sent


@pytest.mark.anyio
async def test_the_rest_of_a_small_body_is_read_before_the_answer_starts():
    chunks = [b"a" * 1000, b"b" * 1000, b"c" * 500]
    read, sent = await _run(UnreadBodyMiddleware(_early_answer(401)), _scope(2500), chunks)
    assert sum(read) == 2500
    start = sent[0]
    assert start["type"] == "http.response.start" and start["read_before"] == 2500
    assert (b"connection", b"close") not in start["headers"]


@pytest.mark.anyio
async def test_a_body_beyond_the_limit_is_not_read_to_its_end():
    chunk = b"x" * 16384
    chunks = [chunk] * 1000
    read, sent = await _run(UnreadBodyMiddleware(_early_answer(404)), _scope(len(chunk) * 1000), chunks)
    assert sum(read) <= UNREAD_BODY_BYTES + len(chunk)
    assert (b"connection", b"close") in sent[0]["headers"]


@pytest.mark.anyio
async def test_a_request_without_a_body_is_answered_without_reading():
    async def receive():
        raise AssertionError("nothing to read")

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/sse", "headers": []}
    await UnreadBodyMiddleware(_early_answer(401))(scope, receive, send)
    assert sent[0]["status"] == 401 and (b"connection", b"close") not in sent[0]["headers"]
