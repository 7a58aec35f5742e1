"""Parse what we emit the way readers do: strict lxml, feedparser, and JSON Feed rules."""

from __future__ import annotations

from typing import Any

import feedparser
import orjson
from lxml import etree

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "media": "http://search.yahoo.com/mrss/",
}


def strict_xml(data: bytes) -> etree._Element:
    """Parse with a parser that forgives nothing and fetches nothing."""
    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


def feedparsed(data: bytes) -> Any:
    """feedparser's view; fails the test on any bozo (ill-formed or misdeclared) feed."""
    result = feedparser.parse(data)
    assert not result.bozo, f"feedparser bozo: {result.get('bozo_exception')!r}"
    return result


def json_feed(data: bytes) -> dict[str, Any]:
    """A JSON Feed 1.1 document with the spec's required fields checked."""
    feed = orjson.loads(data)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    ids = [item["id"] for item in feed["items"]]
    assert len(ids) == len(set(ids)), "item ids must be unique"
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
    assert isinstance(feed, dict)
    return feed


def check_any(fmt: str, data: bytes) -> Any:
    """Parse ``data`` as format ``fmt`` with every applicable check."""
    if fmt == "json":
        return json_feed(data)
    strict_xml(data)
    return feedparsed(data)


def xpath(node: Any, path: str, namespaces: dict[str, str] | None = None) -> list[Any]:
    """``node.xpath(path)``, typed as the list of nodes or strings the tests' paths select."""
    found = node.xpath(path, namespaces=namespaces) if namespaces else node.xpath(path)
    assert isinstance(found, list)
    return found
