"""User-agent classes: browsers, feed readers, image proxies, known bots, and the rest."""

from __future__ import annotations

import pytest

from syndicate.tracking.bots import Agent, classify

CASES = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
        "Safari/537.36",
        Agent.BROWSER,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        Agent.BROWSER,
    ),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", Agent.BROWSER),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
        "Safari/537.36 Edg/124.0.0.0",
        Agent.BROWSER,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
        "Safari/537.36",
        Agent.BROWSER,
    ),
    # bots that dress as browsers are bots: the exclude list wins over the include list
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Agent.BOT),
    (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
        "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
        Agent.BOT,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
        Agent.BOT,
    ),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", Agent.BOT),
    ("curl/8.5.0", Agent.BOT),
    ("python-requests/2.31.0", Agent.BOT),
    # image proxies load pixels for their users, often under a browser's name
    ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", Agent.PROXY),
    ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", Agent.PROXY),
    # feed readers and fetchers: how feeds are served
    ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 5 subscribers; like FeedFetcher-Google)", Agent.FEED),
    ("Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 3 subscribers; )", Agent.FEED),
    ("NetNewsWire (RSS Reader; https://netnewswire.com/)", Agent.FEED),
    ("Mozilla/5.0 (compatible; Miniflux/2.1.0; +https://miniflux.app)", Agent.FEED),
    ("Tiny Tiny RSS/21.05 (http://tt-rss.org/)", Agent.FEED),
    # nobody we know
    ("", Agent.OTHER),
    ("   ", Agent.OTHER),
    ("SomeInHouseApp/3.2", Agent.OTHER),
]


@pytest.mark.parametrize(("agent", "expected"), CASES, ids=[f"{e}-{i}" for i, (_, e) in enumerate(CASES)])
def test_classify(agent: str, expected: Agent) -> None:
    assert classify(agent) is expected


def test_huge_agents_are_cut_before_matching() -> None:
    assert classify("Mozilla/5.0 (X11) Firefox/125.0 " + "x" * 100_000) is Agent.BROWSER
    assert classify("x" * 100_000 + " Googlebot/2.1") is Agent.OTHER  # past the cut: not looked at
