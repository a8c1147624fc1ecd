"""Vendor requests are bounded: a total deadline (connect, headers and body) and a size cap read
while streaming, against hostile servers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from portal.core.providers import errors
from portal.core.providers.http import HttpPolicy, ProviderHttp
from tests.fakes.base import FakeResponse, FakeVendor


@pytest.fixture
def server():
    fake = FakeVendor()
    fake.route("GET", "/ok", lambda request: FakeResponse(200, {"ok": True}))
    fake.start()
    yield fake
    fake.stop()


def client(url: str, **policy) -> ProviderHttp:
    return ProviderHttp(
        url, vendor="Vendor", policy=HttpPolicy(allowed_hosts=("127.0.0.1",), **policy), sleep=lambda s: None
    )


def test_a_dripping_body_ends_at_the_deadline_with_a_clear_message(server):
    server.misbehave("drip")
    http = client(server.base_url, deadline=2, read_timeout=20)
    started = time.monotonic()
    with pytest.raises(errors.TimedOut) as caught:
        http.get("/ok")
    # Each byte comes within the read timeout; only the total deadline ends it (generous bound).
    assert time.monotonic() - started < 8
    message = str(caught.value)
    assert "Vendor at 127.0.0.1" in message and "2 seconds" in message
    assert "VENDOR_DEADLINE_SECONDS" in message


@pytest.fixture
def header_dripper():
    """A server that sends its status line and then one header byte a second."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    for _ in range(60):
                        if stop.is_set():
                            break
                        conn.sendall(b"a")
                        time.sleep(1)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_dripping_headers_end_at_the_deadline(header_dripper):
    http = client(header_dripper, deadline=2, read_timeout=20)
    started = time.monotonic()
    with pytest.raises(errors.TimedOut) as caught:
        http.get("/anything")
    assert time.monotonic() - started < 8
    assert "VENDOR_DEADLINE_SECONDS" in str(caught.value)


def test_an_oversized_answer_is_refused_while_streaming(server):
    server.misbehave("oversize", size=50 * 1024 * 1024)
    http = client(server.base_url, max_response_bytes=1024 * 1024)
    with pytest.raises(errors.ResponseTooLarge) as caught:
        http.get("/ok")
    message = str(caught.value)
    assert "Vendor at 127.0.0.1" in message and "1 MB" in message
    assert "VENDOR_MAX_RESPONSE_BYTES=1048576" in message


def test_a_declared_oversized_answer_is_refused_before_reading(server):
    server.route("GET", "/big", lambda request: FakeResponse(200, "x" * (200 * 1024)))
    http = client(server.base_url, max_response_bytes=64 * 1024)
    with pytest.raises(errors.ResponseTooLarge):
        http.get("/big")
    # An error body is held to the same cap.
    server.fail_next(500, body="y" * (200 * 1024))
    with pytest.raises(errors.ResponseTooLarge):
        http.get("/ok")


def test_answers_within_the_limits_are_unchanged(server):
    http = client(server.base_url, deadline=5, max_response_bytes=64 * 1024)
    assert http.get("/ok") == {"ok": True}
    assert http.get("/ok") == {"ok": True}  # the kept-alive connection is reused after a read body
