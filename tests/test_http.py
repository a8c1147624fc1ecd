"""The one HTTP client: the outbound address guard, redirects, and retries, against servers on 127.0.0.1."""

from __future__ import annotations

import pytest

from portal.core.providers import errors
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
