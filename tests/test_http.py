"""The one HTTP client: the outbound address guard, redirects, and retries, against servers on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from portal.core.address_rule import why_blocked
from portal.core.providers import errors
from portal.core.providers import http as http_module
from portal.core.providers.http import HttpPolicy, ProviderHttp, check_address, check_url
from tests.fakes.base import FakeResponse, FakeVendor


@pytest.fixture
def server():
    fake = FakeVendor()
    fake.route("GET", "/ok", lambda request: FakeResponse(200, {"ok": True}))
    fake.route("GET", "/hop", lambda request: FakeResponse(302, None, {"Location": "/ok"}))
    fake.route(
        "GET", "/away", lambda request: FakeResponse(302, None, {"Location": "https://elsewhere.example/ok"})
    )
    fake.route(
        "GET", "/html", lambda request: FakeResponse(200, "<html>sign in</html>", content_type="text/html")
    )
    fake.route("POST", "/make", lambda request: FakeResponse(201, {"made": True}))
    fake.start()
    yield fake
    fake.stop()


def client(url: str, **policy) -> ProviderHttp:
    return ProviderHttp(url, vendor="Vendor", policy=HttpPolicy(backoff=0.01, **policy), sleep=lambda s: None)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "non-public"),
        ("0.0.0.0", "unspecified"),
    ],
)
def test_internal_addresses_are_refused_with_the_reason_and_the_remedy(address, why):
    with pytest.raises(errors.AddressNotAllowed) as caught:
        check_address("tracker.example", address, HttpPolicy())
    assert why in str(caught.value) and "ALLOWED_PROVIDER_HOSTS" in str(caught.value)


def test_public_addresses_pass():
    check_address("tracker.example", "93.184.216.34", HttpPolicy())


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("192.0.0.192", "IETF protocol assignment"),  # passes the ipaddress flags of Python 3.11.7
        ("192.0.0.8", "IETF protocol assignment"),
        ("192.0.2.10", "documentation"),
        ("192.88.99.1", "6to4 relay"),
        ("198.18.0.1", "benchmarking"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("172.31.255.255", "private"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:0a00:0001::1", "private network address (10.0.0.1) inside a 6to4 address"),
        ("2002:7f00:0001::", "loopback address (127.0.0.1) inside a 6to4 address"),
        ("64:ff9b::10.1.2.3", "private network address (10.1.2.3) inside a NAT64 address"),
        ("64:ff9b::169.254.169.254", "link-local"),
        ("64:ff9b:1::a01:203", "local-use NAT64"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("2001:2::1", "IETF protocol assignment"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("100::1", "discard-only"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "site-local"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("4000::1", "not global unicast"),
    ],
)
def test_every_blocked_range_is_listed_explicitly(address, words):
    why = why_blocked(ipaddress.ip_address(address))
    assert why is not None and words in why, why
    with pytest.raises(errors.AddressNotAllowed, match="ALLOWED_PROVIDER_HOSTS"):
        check_address("tracker.example", address, HttpPolicy())


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "1.1.1.1",
        "192.0.1.1",  # next to 192.0.0.0/24 and 192.0.2.0/24, but public
        "100.128.0.1",  # just past the carrier-grade NAT range
        "2606:4700:4700::1111",
        "2002:5db8:d822::1",  # 6to4 carrying the public 93.184.216.34
        "64:ff9b::93.184.216.34",  # NAT64 carrying a public address, as on IPv6-only networks
        "::ffff:93.184.216.34",
    ],
)
def test_public_addresses_and_wrapped_public_addresses_pass(address):
    assert why_blocked(ipaddress.ip_address(address)) is None
    check_address("tracker.example", address, HttpPolicy())


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that no request may reach: it would accept a connection if one came."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def assert_never_connected(listener: socket.socket) -> None:
    # The kernel completes a handshake for a listening socket without accept(), so a connection
    # that was ever opened would be waiting here.
    with pytest.raises(BlockingIOError):
        connection, _ = listener.accept()
        connection.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_refused_address_opens_no_socket(listener, host):
    port = listener.getsockname()[1]
    with pytest.raises(errors.AddressNotAllowed, match="loopback"):
        client(f"https://{host}:{port}").get("/ok")
    assert_never_connected(listener)


def test_closed_and_open_internal_ports_get_the_same_answer(server):
    """No port scanning through the guard: both are "address not allowed", neither is contacted."""
    open_port = int(server.base_url.rsplit(":", 1)[1])
    answers = []
    for port in (1, open_port):
        with pytest.raises(errors.AddressNotAllowed) as caught:
            client(f"https://127.0.0.1:{port}", retries=0).get("/ok")
        answers.append(str(caught.value))
    assert answers[0] == answers[1]
    assert server.requests == []


def test_the_checked_address_is_the_one_connected_to(monkeypatch, listener):
    """A name resolved by the guard is connected to by address: a second DNS answer is never used."""
    loopback_port = listener.getsockname()[1]
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def rebinding_resolver(host, port, *args, **kwargs):
        if host != "tracker.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        asked.append(host)
        # A public address for the first answer, the internal listener for any later one.
        address = "93.184.216.34" if len(asked) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    attempts: list[tuple[str, int]] = []

    def refusing_connect(address, *args, **kwargs):
        attempts.append(address)  # the public address stays unreached: this is a test, not the internet
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    monkeypatch.setattr(http_module, "create_connection", refusing_connect)
    with pytest.raises(errors.Unreachable, match="connection refused"):
        client(f"https://tracker.example:{loopback_port}", retries=0).get("/ok")
    assert asked == ["tracker.example"]
    assert attempts == [("93.184.216.34", loopback_port)]
    assert_never_connected(listener)


def test_plain_http_needs_an_allowance():
    with pytest.raises(errors.AddressNotAllowed, match="does not use https"):
        check_url("http://tracker.example", HttpPolicy(), resolve=False)
    check_url("http://tracker.example", HttpPolicy(allowed_hosts=("tracker.example",)), resolve=False)
    with pytest.raises(errors.AddressNotAllowed, match="credentials in the token field"):
        check_url("https://user:pw@tracker.example", HttpPolicy(), resolve=False)


def test_the_guard_checks_the_address_actually_connected_to(server):
    # A name that passes the URL check (https, not an IP) but connects to a loopback address.
    port = server.base_url.rsplit(":", 1)[1]
    with pytest.raises(errors.AddressNotAllowed) as caught:
        client(f"https://localhost:{port}").get("/ok")
    assert "127.0.0.1" in str(caught.value) or "::1" in str(caught.value)
    assert server.requests == []  # refused before anything was sent


def test_an_allowance_can_name_one_port(server):
    host_port = server.base_url.split("//", 1)[1]
    assert client(server.base_url, allowed_hosts=(host_port,)).get("/ok") == {"ok": True}
    with pytest.raises(errors.AddressNotAllowed):
        client(server.base_url, allowed_hosts=("127.0.0.1:1",)).get("/ok")


def test_redirects_stay_on_the_same_server(server):
    http = client(server.base_url, allowed_hosts=("127.0.0.1",))
    assert http.get("/hop") == {"ok": True}
    with pytest.raises(errors.NotThisProduct, match="another server"):
        http.get("/away")


def test_an_html_answer_is_not_this_product(server):
    with pytest.raises(errors.NotThisProduct, match="text/html"):
        client(server.base_url, allowed_hosts=("127.0.0.1",)).get("/html")


def test_reads_are_retried_on_server_errors_and_writes_are_not(server):
    http = client(server.base_url, allowed_hosts=("127.0.0.1",))
    server.fail_next(502, count=2)
    assert http.get("/ok") == {"ok": True}
    assert len(server.requests) == 3
    server.fail_next(502, count=1)
    with pytest.raises(errors.Unavailable):
        http.post("/make", json={})
    assert sum(1 for r in server.requests if r.method == "POST") == 1


def test_rate_limits_wait_within_the_bound_only(server):
    waits: list[float] = []
    http = ProviderHttp(
        server.base_url,
        vendor="Vendor",
        policy=HttpPolicy(allowed_hosts=("127.0.0.1",), max_rate_limit_wait=10),
        sleep=waits.append,
    )
    server.fail_next(429, headers={"Retry-After": "3"})
    assert http.get("/ok") == {"ok": True} and waits == [3.0]
    server.fail_next(429, count=5, headers={"Retry-After": "30"})
    with pytest.raises(errors.RateLimited) as caught:
        http.get("/ok")
    assert caught.value.retry_after == 30 and waits == [3.0]


def test_unreachable_server(server):
    url = server.base_url
    server.stop()
    with pytest.raises(errors.Unreachable, match="connection refused"):
        client(url, allowed_hosts=("127.0.0.1",)).get("/ok")
