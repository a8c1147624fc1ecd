"""The one rule both fronts use to find a client's address behind reverse proxies."""

from __future__ import annotations

import pytest

from portal.core.client_address import TrustedProxies, TrustedProxiesError, client_address
from portal.core.config import ConfigError, Settings

PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.0.2.1, 2001:db8::/32")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # No proxy listed: the header is whatever the client wrote, and is ignored.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        # A listed proxy: the address it appended is the client.
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("192.0.2.1", ["198.51.100.1"], "198.51.100.1"),
        # Addresses the client wrote itself (left of what the proxies appended) are not believed.
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        # Several listed proxies in a row are skipped, across several header lines.
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1", "10.4.4.4"], "198.51.100.1"),
        ("2001:db8::5", ["2001:db8::9, 2001:db8:1::1"], "2001:db8::9"),
        # An unlisted peer's header is ignored even if it names a listed proxy.
        ("198.51.100.1", ["10.1.2.3"], "198.51.100.1"),
        # Only listed proxies all the way: the leftmost address is as far as the chain goes.
        ("10.1.2.3", ["10.7.7.7"], "10.7.7.7"),
        # Garbage stops the walk at the last trustworthy hop.
        ("10.1.2.3", ["198.51.100.1, not-an-ip"], "10.1.2.3"),
        ("10.1.2.3", ["unknown, 10.2.2.2"], "10.2.2.2"),
        # No header: the peer.
        ("10.1.2.3", [], "10.1.2.3"),
        # Ports and brackets some proxies add.
        ("10.1.2.3", ["198.51.100.1:5123"], "198.51.100.1"),
        ("10.1.2.3", ["[2001:db8:1::7]:443"], "2001:db8:1::7"),
        # An IPv4 proxy seen through an IPv4-mapped IPv6 socket address.
        ("::ffff:10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
    ],
)
def test_the_client_is_the_first_address_that_is_not_a_listed_proxy(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_nothing_is_trusted_by_default():
    assert client_address("10.1.2.3", ["198.51.100.1"], TrustedProxies()) == "10.1.2.3"
    assert client_address(None, ["198.51.100.1"], TrustedProxies.parse("")) == "unknown"


def test_a_star_trusts_the_nearest_hop_of_any_peer():
    anyone = TrustedProxies.parse("*")
    assert client_address("203.0.113.9", ["6.6.6.6, 198.51.100.1"], anyone) == "198.51.100.1"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.example", "10.0.0.1;10.0.0.2"])
def test_a_bad_entry_is_a_configuration_error_naming_it(value, tmp_path):
    with pytest.raises(TrustedProxiesError):
        TrustedProxies.parse(value)
    with pytest.raises(ConfigError, match="FORWARDED_ALLOW_IPS") as caught:
        Settings.from_env({"FORWARDED_ALLOW_IPS": value, "INSTANCE_PATH": str(tmp_path)})
    assert repr(value) in str(caught.value)
