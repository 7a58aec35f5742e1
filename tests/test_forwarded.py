"""The client address behind proxies: the rightmost X-Forwarded-For hop that is not a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.config import load_config
from syndicate.problems import LoadError
from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.forwarded import client_of, parse_networks
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, AppClient, SiteFactory, article

TRUSTED = parse_networks(["127.0.0.0/8", "10.0.0.0/8", "::1"])
addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
junk = st.one_of(addresses, st.text(alphabet=st.characters(codec="ascii", exclude_characters=","), max_size=20))


def trusted(address: str) -> bool:
    return any(ipaddress.ip_address(address) in network for network in TRUSTED)


@given(
    client=addresses,
    spoofed=st.lists(junk, max_size=5),
    proxies=st.lists(st.sampled_from(["10.0.0.1", "10.2.3.4", "127.0.0.1"]), max_size=3),
)
def test_whatever_the_client_writes_the_address_is_the_one_the_first_trusted_proxy_saw(
    client: str, spoofed: list[str], proxies: list[str]
) -> None:
    """The client may send any X-Forwarded-For; each trusted proxy appends the address it saw."""
    if trusted(client):
        return
    chain = [*spoofed, client, *proxies[:-1]] if proxies else [*spoofed]
    peer = proxies[-1] if proxies else client
    assert client_of(peer, ", ".join(chain) if chain else None, TRUSTED) == client


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not from a trusted proxy: the header is ignored
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the leftmost is the client's own claim
        ("127.0.0.1", "198.51.100.1,203.0.113.5 , 10.0.0.2", "203.0.113.5"),
        ("127.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # every hop trusted: the farthest one
        ("127.0.0.1", "garbage, 10.0.0.2", "10.0.0.2"),  # unreadable hop: the proxy that passed it on
        ("::1", "2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", "203.0.113.5, , 10.0.0.2", "10.0.0.2"),
    ],
)
def test_examples(peer: str, header: str | None, expected: str) -> None:
    assert client_of(peer, header, TRUSTED) == expected


def test_trusted_proxies_are_checked_in_config(make_site: SiteFactory) -> None:
    config = MINIMAL_CONFIG + "http:\n  trust_forwarded: true\n  trusted_proxies: [10.0.0.0/8, nonsense, 1.2.3.4/33]\n"
    with pytest.raises(LoadError) as caught:
        load_config(make_site(config=config))
    messages = [p.message for p in caught.value.problems]
    assert len(messages) == 2 and all(m.startswith("http.trusted_proxies:") for m in messages)
    assert "'nonsense'" in messages[0] and "'1.2.3.4/33'" in messages[1]


LIMITED = (
    MINIMAL_CONFIG
    + """\
http:
  trust_forwarded: true
  rate_limits: {public: {rate: 0.001, burst: 2}}
"""
)


async def test_a_client_cannot_pick_its_own_rate_limit_bucket(
    make_site: SiteFactory, aiohttp_client: Callable[..., Any]
) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML, "feeds/news/a.md": article()}, config=LIMITED)
    client: AppClient = await aiohttp_client(create_app(build_snapshot(config)))
    statuses = []
    for n in range(6):  # from behind the local proxy (the test client is 127.0.0.1), with a new claim each time
        response = await client.get("/feeds/news.rss", headers={"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.7"})
        statuses.append(response.status)
    assert statuses == [200, 200, 429, 429, 429, 429]
    other = await client.get("/feeds/news.rss", headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status == 200  # another real client has its own bucket
