"""Which IP addresses outbound requests to trackers may reach: the SSRF rule, spelled out.

The blocked ranges are listed here rather than taken from the interpreter's
`ipaddress` flags, whose tables differ between Python releases (3.11.7 lets
192.0.0.192 and 6to4 addresses through). IPv6 addresses that carry an IPv4
address (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address they carry;
Teredo tunnels are refused outright. An operator lets an on-premises tracker
through by name with ALLOWED_PROVIDER_HOSTS, never by loosening this table.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK = "a loopback address"
PRIVATE = "a private network address"
LINK_LOCAL = "a link-local address (cloud metadata services live there)"
UNSPECIFIED = "an unspecified address"
MULTICAST = "a multicast address"
DOCUMENTATION = "a documentation address (non-public)"

BLOCKED_V4: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", UNSPECIFIED + " ('this network')"),
    ("10.0.0.0/8", PRIVATE),
    ("100.64.0.0/10", "a carrier-grade NAT address (non-public)"),
    ("127.0.0.0/8", LOOPBACK),
    ("169.254.0.0/16", LINK_LOCAL),
    ("172.16.0.0/12", PRIVATE),
    ("192.0.0.0/24", "an IETF protocol assignment (non-public)"),
    ("192.0.2.0/24", DOCUMENTATION),
    ("192.88.99.0/24", "a 6to4 relay anycast address (non-public)"),
    ("192.168.0.0/16", PRIVATE),
    ("198.18.0.0/15", "a benchmarking address (non-public)"),
    ("198.51.100.0/24", DOCUMENTATION),
    ("203.0.113.0/24", DOCUMENTATION),
    ("224.0.0.0/4", MULTICAST),
    ("240.0.0.0/4", "a reserved address (non-public)"),  # with 255.255.255.255, the broadcast address
)

BLOCKED_V6: tuple[tuple[str, str], ...] = (
    ("::/128", UNSPECIFIED),
    ("::1/128", LOOPBACK),
    ("::/96", "a deprecated IPv4-compatible address (non-public)"),
    ("64:ff9b:1::/48", "a local-use NAT64 address (non-public)"),
    ("100::/64", "a discard-only address (non-public)"),
    ("2001::/32", "a Teredo tunnel address (refused: it hides the address it reaches)"),
    ("2001::/23", "an IETF protocol assignment (non-public)"),
    ("2001:db8::/32", DOCUMENTATION),
    ("3fff::/20", DOCUMENTATION),
    ("5f00::/16", "a segment-routing address (non-public)"),
    ("fc00::/7", PRIVATE + " (unique local)"),
    ("fe80::/10", LINK_LOCAL),
    ("fec0::/10", PRIVATE + " (site-local)"),
    ("ff00::/8", MULTICAST),
)

# Outside these, an IPv6 address is not a global unicast address at all.
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")

# IPv6 ranges whose addresses carry an IPv4 address, and where it sits.
IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

_V4 = tuple((ipaddress.IPv4Network(net), why) for net, why in BLOCKED_V4)
_V6 = tuple((ipaddress.IPv6Network(net), why) for net, why in BLOCKED_V6)


def carried_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv4-mapped, NAT64 or 6to4 address carries, and what carries it."""
    if ip in IPV4_MAPPED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "an IPv4-mapped address"
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "a NAT64 address"
    if ip in SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF), "a 6to4 address"
    return None


def why_blocked(ip: IPAddress) -> str | None:
    """Why `ip` may not be contacted (words for a message), or None for a public address."""
    if isinstance(ip, ipaddress.IPv4Address):
        for network, why in _V4:
            if ip in network:
                return why
        return None
    carried = carried_ipv4(ip)
    if carried is not None:
        inner, wrapper = carried
        inner_why = why_blocked(inner)
        return f"{inner_why} ({inner}) inside {wrapper}" if inner_why else None
    for network6, why6 in _V6:
        if ip in network6:
            return why6
    if ip not in GLOBAL_UNICAST_V6:
        return "a reserved IPv6 address (not global unicast)"
    return None
