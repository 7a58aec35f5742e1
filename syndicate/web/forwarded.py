"""The client's address behind proxies, from ``X-Forwarded-For``, as only trusted proxies can vouch for it.

Each proxy appends the address it saw, so the header's leftmost entries are
whatever the client wrote. Walking from the peer leftwards, every hop that is a
trusted proxy is skipped; the first one that is not is the client. A peer that
is not a trusted proxy is the client itself and its header is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: When ``http.trust_forwarded`` is on and no list is given: a proxy on the same machine.
DEFAULT_TRUSTED = ("127.0.0.0/8", "::1/128")


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR blocks; raises ``ValueError`` naming the first bad entry."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"expected an IP address or network like 10.0.0.0/8, got {entry!r}") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: tuple[Network, ...]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted)


def client_of(peer: str, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """The rightmost address not in ``trusted``, walking from ``peer`` back through ``forwarded``.

    An entry that is no address ends the walk at the hop that passed it on; when every hop is
    trusted, the farthest one is the client."""
    current = _address(peer)
    if current is None or not forwarded or not _trusted(current, trusted):
        return peer
    for entry in reversed(forwarded.split(",")):
        hop = _address(entry)
        if hop is None:
            return str(current)
        current = hop
        if not _trusted(hop, trusted):
            return str(hop)
    return str(current)
