"""Who a request came from, when reverse proxies may stand in between.

Both fronts (the portal's WSGI app and the worker's ASGI app) ask this module,
so their throttles, audit rows and access logs agree on a client's address.

The rule: `X-Forwarded-For` is believed only when the direct peer is a proxy
listed in `FORWARDED_ALLOW_IPS` (addresses or CIDR networks, or `*` for any
peer). The header is then read from the right, skipping the listed proxies, and
the first address that is not a listed proxy is the client. Everything to the
left of it was written by the client itself and can't be trusted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxiesError(ValueError):
    """A FORWARDED_ALLOW_IPS entry is neither an address nor a network."""


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies whose `X-Forwarded-For` is believed; empty means none."""

    networks: tuple[IPNetwork, ...] = ()
    any_peer: bool = False

    @classmethod
    def parse(cls, value: str | Iterable[str] | None) -> TrustedProxies:
        """From 'a.b.c.d, 10.0.0.0/8, ::1' (or a list of entries); '*' trusts every peer."""
        entries = value.split(",") if isinstance(value, str) else list(value or ())
        networks: list[IPNetwork] = []
        any_peer = False
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            if entry == "*":
                any_peer = True
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise TrustedProxiesError(
                    f"{entry!r} is not an IP address or a network such as 10.0.0.0/8"
                ) from None
        return cls(networks=tuple(networks), any_peer=any_peer)

    def __bool__(self) -> bool:
        return self.any_peer or bool(self.networks)

    def trusts(self, address: str | None) -> bool:
        """True when `address` is one of the listed proxies."""
        if self.any_peer:
            return True
        ip = _ip(address)
        if ip is None:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.networks)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: TrustedProxies) -> str:
    """The client's address: `peer`, or what trusted proxies say in `X-Forwarded-For`.

    `forwarded_for` holds every X-Forwarded-For header value of the request, in
    order (a value may list several comma-separated addresses). An entry that is
    not an IP address ends the walk: the last trusted hop before it is the client.
    """
    peer = peer or "unknown"
    if not trusted or not trusted.trusts(peer):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    client = peer
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            break
        client = str(ip)
        if not trusted.trusts(client) or trusted.any_peer:
            # With '*' only the nearest hop is believed: the proxy in front wrote it.
            break
    return client


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:5120"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
