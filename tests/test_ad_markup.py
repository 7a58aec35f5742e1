"""Served ad markup: html units made feed-safe, and every ad still a visible link after readers' sanitisers."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import bleach
import feedparser.sanitizer
import lxml.html
import nh3
import pytest

from tests.conftest import FEED_YAML, SiteFactory, article
from tests.test_tracking_http import serving
from tests.tracking_support import CLICK_LINK, CONFIG, PARTNER_KEY, use_test_secrets

JS = Path(__file__).resolve().parent / "js"
HTML_KEY = "html-partner-test-key"
KEYS = {"public": None, "partner-a": PARTNER_KEY, "html-partner": HTML_KEY}
SITE_CONFIG = (
    CONFIG
    + f"""\
  - id: html-partner
    keys: [{HTML_KEY}]
    allow_html: true
"""
)
HTML_UNIT = """\
label: Sponsored
units:
  - id: htm
    type: html
    url: https://ad.test/html-target
    html: |
      <div style="border:1px solid" onclick="x()"><p class="ad">Sponsored <b>offer</b>:
      <a href="https://elsewhere.test/" target="_blank">see it</a></p>
      <ul><li><a href="javascript:alert(1)">two</a></li></ul><script>alert(1)</script>
      <img src="https://ad.test/h.png" width="120" height="60" alt=""></div>
  - id: htm-image
    type: html
    url: https://ad.test/html-image
    title: Our html offer
    html: <a href="https://x.test/"><img src="https://ad.test/h2.png" alt=""></a>
"""
SPACES = {
    "adspaces/4.yaml": "label: Advertisement\nunits:\n  - {id: img, type: image, url: 'https://ad.test/img', "
    "src: 'https://ad.test/i.png', width: 300, height: 250, alt: Picture ad}\n"
    "  - {id: bare, type: image, url: 'https://ad.test/bare', src: 'https://ad.test/j.png'}\n",
    "adspaces/5.yaml": "label: Sponsored\nunits:\n  - {id: txt, type: text, url: 'https://ad.test/txt', "
    "title: Text ad, body: Five words of body.}\n",
    "adspaces/6.yaml": HTML_UNIT,
}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


def ad_site(make_site: SiteFactory) -> Path:
    """Each unit forced into a block slot, an inline slot and an enclosing one."""
    units = {"4": ["img", "bare"], "5": ["txt"], "6": ["htm", "htm-image"]}
    files = {"feeds/news/_feed.yaml": FEED_YAML, **SPACES}
    for space, ids in units.items():
        for unit in ids:
            call = f"bsa_pro_ad_space id={space} show_ids={unit}"
            body = f"Intro.\n\n[{call}]\n\nInline [{call}] text.\n\nAnd [{call}]enclosed words[/bsa_pro_ad_space]."
            files[f"feeds/news/{unit}.md"] = article(unit, body=body)
    return make_site(files, config=SITE_CONFIG)


async def served_contents(make_site: SiteFactory) -> dict[str, list[str]]:
    """Every item's content_html, per audience, from the real app with signed links."""
    out: dict[str, list[str]] = {}
    async with serving(ad_site(make_site)) as client:
        for who, key in KEYS.items():
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            response = await client.get("/feeds/news.json", headers=headers)
            assert response.status == 200
            out[who] = [item["content_html"] for item in (await response.json(content_type=None))["items"]]
    return out


def links(fragment: str) -> list[tuple[str, str]]:
    """(href, visible text) of every link, as a browser reads them."""
    root = lxml.html.fragment_fromstring(fragment or "<span></span>", create_parent="div")
    return [(a.get("href") or "", " ".join(a.text_content().split())) for a in root.iter("a")]


def ad_urls(fragment: str) -> set[str]:
    return {html.unescape(url) for url in CLICK_LINK.findall(fragment)}


async def test_html_units_are_valid_phrasing_with_every_link_signed(make_site: SiteFactory) -> None:
    contents = await served_contents(make_site)
    html_items = [c for c in contents["html-partner"] if "ad.test/h.png" in c or "ad.test/h2.png" in c]
    assert len(html_items) == 2
    for content in html_items:
        for bad in (
            "<div",
            "<ul",
            "<li",
            "<script",
            "alert",
            "style=",
            "onclick",
            "class=",
            "target=",
            "elsewhere.test",
            "x.test",
        ):
            assert bad not in content
        # no block element inside a paragraph (the W3C validator's NotHtml), checked on the raw markup
        for paragraph in re.findall(r"<p>(.*?)</p>", content, re.DOTALL):
            assert not re.search(r"<(?:p|div|ul|ol|li|table|h\d|blockquote|section)\b", paragraph), paragraph
        for href, _ in links(content):
            assert href.startswith("https://feeds.test/c/")
        assert content.count('rel="sponsored noopener"') == content.count("<a ")
        assert "  " not in content and " </a>" not in content  # dropped blocks leave one space between words
    async with serving(ad_site(make_site)) as client:
        targets = set()
        for url in set().union(*(ad_urls(c) for c in html_items)):
            response = await client.get(url.removeprefix("https://feeds.test"), allow_redirects=False)
            assert response.status == 302
            targets.add(response.headers["Location"])
    assert targets == {"https://ad.test/html-target", "https://ad.test/html-image"}
    # the unit's own words are a link; an image-only html unit gets a text link with its title
    assert any(text == "see it" for content in html_items for _, text in links(content))
    assert any(text == "Our html offer" for content in html_items for _, text in links(content))


def nh3_default(fragment: str) -> str:
    return nh3.clean(fragment)


def bleach_strip(fragment: str) -> str:
    return str(bleach.clean(fragment, strip=True))


def feedparser_default(fragment: str) -> str:
    return str(feedparser.sanitizer._sanitize_html(fragment, "utf-8", "text/html"))


def assert_every_ad_survives(original: str, cleaned: str, who: str, name: str) -> None:
    """Each signed click URL in ``original`` is still a link with words after sanitising."""
    worded = {href for href, text in links(cleaned) if text}
    missing = ad_urls(original) - worded
    assert not missing, f"{name} ({who}) left no worded link to {missing}: {cleaned!r}"


@pytest.mark.parametrize("sanitiser", [nh3_default, bleach_strip, feedparser_default], ids=lambda f: f.__name__)
async def test_ads_survive_python_sanitisers(make_site: SiteFactory, sanitiser: Callable[[str], str]) -> None:
    contents = await served_contents(make_site)
    checked = 0
    for who, items in contents.items():
        for content in items:
            checked += len(ad_urls(content))
            assert_every_ad_survives(content, sanitiser(content), who, sanitiser.__name__)
    assert checked == 3 + 3 + 5  # one signed URL per article and unit: image and text ones for all, html for one


def node_sanitisers(fragments: list[str]) -> dict[str, list[str]]:
    """sanitize-html and DOMPurify (on jsdom) with their defaults, from tests/js (npm ci there)."""
    node = shutil.which("node")
    if node is None or not (JS / "node_modules").is_dir():
        reason = "node or tests/js/node_modules missing (run: cd tests/js && npm ci)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must run these")
        pytest.skip(reason)
    done = subprocess.run(
        [node, str(JS / "sanitize.mjs")],
        input=json.dumps(fragments),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


async def test_ads_survive_node_sanitisers(make_site: SiteFactory) -> None:
    contents = await served_contents(make_site)
    pairs = [(who, content) for who, items in contents.items() for content in items]
    cleaned = node_sanitisers([content for _, content in pairs])
    assert set(cleaned) == {"sanitize-html", "dompurify"}
    for name, outputs in cleaned.items():
        for (who, content), output in zip(pairs, outputs, strict=True):
            assert_every_ad_survives(content, output, who, name)
