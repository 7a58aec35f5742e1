"""An upstream RSS 2.0 or Atom 1.0 document into entries: the fields an article file needs.

Parsed with lxml with entities, DTDs and the network off and lxml's size limits on;
garbage is a ``FeedError`` with one line, never an exception of another kind.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
from dataclasses import dataclass

from lxml import etree

from syndicate.ingest import safexml

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA = "http://search.yahoo.com/mrss/"
_PARSER = etree.XMLParser(**safexml.OPTIONS)


class FeedError(Exception):
    """Not a usable RSS or Atom document; the message is one line."""


@dataclass(frozen=True, slots=True)
class Entry:
    key: str  # guid / id, else the link: what makes the item the same item on the next poll
    title: str
    link: str
    published: dt.datetime | None
    updated: dt.datetime | None
    author: str
    categories: tuple[str, ...]
    html: str  # the full content when the feed has it, else the description / summary
    summary: str  # the description / summary when the full content is there too (HTML)
    image: str


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(str(part) for part in element.itertext()).strip()


def _rfc822(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _iso(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _rss_item(item: etree._Element) -> Entry:
    content = item.find(f"{{{CONTENT}}}encoded")
    description = _text(item.find("description"))
    full = _text(content) if content is not None else ""
    image = ""
    for enclosure in item.findall("enclosure"):
        if enclosure.get("type", "").startswith("image/") and enclosure.get("url"):
            image = enclosure.get("url", "")
            break
    if not image:
        media = item.find(f"{{{MEDIA}}}content")
        if media is None:
            media = item.find(f"{{{MEDIA}}}thumbnail")
        if media is not None and media.get("medium", "image") == "image":
            image = media.get("url", "")
    guid = _text(item.find("guid"))
    link = _text(item.find("link"))
    return Entry(
        key=guid or link,
        title=_text(item.find("title")),
        link=link,
        published=_rfc822(_text(item.find("pubDate"))) or _iso(_text(item.find(f"{{{DC}}}date"))),
        updated=None,
        author=_text(item.find(f"{{{DC}}}creator")) or _text(item.find("author")),
        categories=tuple(c for c in (_text(c) for c in item.findall("category")) if c),
        html=full or description,
        summary=description if full else "",
        image=image,
    )


def _atom_entry(entry: etree._Element) -> Entry:
    link = image = ""
    for element in entry.findall(f"{{{ATOM}}}link"):
        rel = element.get("rel", "alternate")
        if rel == "alternate" and not link:
            link = element.get("href", "")
        elif rel == "enclosure" and element.get("type", "").startswith("image/") and not image:
            image = element.get("href", "")
    content = entry.find(f"{{{ATOM}}}content")
    summary = entry.find(f"{{{ATOM}}}summary")
    full = _atom_html(content)
    short = _atom_html(summary)
    author = entry.find(f"{{{ATOM}}}author")
    updated = _iso(_text(entry.find(f"{{{ATOM}}}updated")))
    return Entry(
        key=_text(entry.find(f"{{{ATOM}}}id")) or link,
        title=_text(entry.find(f"{{{ATOM}}}title")),
        link=link,
        published=_iso(_text(entry.find(f"{{{ATOM}}}published"))) or updated,
        updated=updated,
        author=_text(author.find(f"{{{ATOM}}}name")) if author is not None else "",
        categories=tuple(
            str(c.get("label") or c.get("term") or "") for c in entry.findall(f"{{{ATOM}}}category") if c.get("term")
        ),
        html=full or short,
        summary=short if full else "",
        image=image,
    )


def _atom_html(element: etree._Element | None) -> str:
    """Atom text constructs as HTML: ``html`` as is, ``xhtml`` serialised, ``text`` escaped."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        found = element.find("{http://www.w3.org/1999/xhtml}div")
        div = copy.deepcopy(found if found is not None else element)
        for node in div.iter():
            if isinstance(node.tag, str) and node.tag.startswith("{"):
                node.tag = etree.QName(node).localname
        etree.cleanup_namespaces(div)
        return (div.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html") for child in div)
    text = _text(element)
    if kind == "html":
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def read_feed(data: bytes) -> tuple[str, list[Entry]]:
    """(feed kind, entries) of an RSS 2.0 or Atom document. Raises ``FeedError``."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not XML: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}") from None
    if root is None:
        raise FeedError("not XML: empty document")
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedError("an <rss> document without a <channel>")
        return "rss", [_rss_item(item) for item in channel.findall("item")]
    if root.tag == f"{{{ATOM}}}feed":
        return "atom", [_atom_entry(entry) for entry in root.findall(f"{{{ATOM}}}entry")]
    raise FeedError(f"neither RSS 2.0 nor Atom (the root element is <{etree.QName(root).localname}>)")
