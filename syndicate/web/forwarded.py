"""The client's address behind proxies, from ``X-Forwarded-For``, as only trusted proxies can vouch for it.

Each proxy appends the address it saw, so the header's leftmost entries are
whatever the client wrote. Walking from the peer leftwards, every hop that is a
trusted proxy is skipped; the first one that is not is the client. A peer that
is not a trusted proxy is the client itself and its header is ignored.
"""

from __future__ import annotations

import functools
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


#: Longer than any address written out (an IPv6 address with a zone): never remembered, so a client can not
#: fill the table below with long entries.
_LONGEST_ADDRESS = 64


def _hop(text: str, trusted: tuple[Network, ...]) -> tuple[str, bool] | None:
    """One hop as written: its address in canonical form and whether it is a trusted proxy; None when it is
    no address. Remembered: the peer is nearly always the same proxy, and readers come back."""
    return _known_hop(text, trusted) if len(text) <= _LONGEST_ADDRESS else _read_hop(text, trusted)


def _read_hop(text: str, trusted: tuple[Network, ...]) -> tuple[str, bool] | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    seen = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
    return str(address), any(seen in network for network in trusted)


_known_hop = functools.lru_cache(maxsize=4096)(_read_hop)


def client_of(peer: str, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """The rightmost address not in ``trusted``, walking from ``peer`` back through ``forwarded``.

    An entry that is no address ends the walk at the hop that passed it on; when every hop is
    trusted, the farthest one is the client."""
    current = _hop(peer, trusted)
    if current is None or not forwarded or not current[1]:
        return peer
    for entry in reversed(forwarded.split(",")):
        hop = _hop(entry, trusted)
        if hop is None:
            return current[0]
        current = hop
        if not hop[1]:
            return hop[0]
    return current[0]
