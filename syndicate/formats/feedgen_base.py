"""What RSS and Atom share: a feedgen generator filled with the feed-level fields.

feedgen writes the XML (and refuses missing required fields); this module only
maps ``FeedView`` onto it, so both formats agree on every shared field.
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate import __version__
from syndicate.content.model import Image
from syndicate.formats.model import FeedView

ATOM_NS = "http://www.w3.org/2005/Atom"


class AtomLinksExtension(BaseExtension):  # type: ignore[misc]
    """Adds ``atom:link`` elements feedgen's RSS writer leaves out (hub, RFC 5005 paging)."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def extend_rss(self, feed: Any) -> Any:
        channel = feed[0]
        anchor = channel.find(f"{{{ATOM_NS}}}link")
        position = channel.index(anchor) + 1 if anchor is not None else len(channel)
        for offset, (rel, href) in enumerate(self.links):
            link = etree.Element(f"{{{ATOM_NS}}}link", href=href, rel=rel)
            channel.insert(position + offset, link)
        return feed


class EnclosureEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """An Atom entry's ``link rel="enclosure"``: feedgen writes its own entry links without their rel."""

    def __init__(self) -> None:
        self.href = ""
        self.type = ""

    def extend_atom(self, entry: Any) -> Any:
        if self.href:
            # Unqualified like feedgen's own Atom elements: the document's default namespace is Atom.
            etree.SubElement(entry, "link", href=self.href, rel="enclosure", type=self.type)
        return entry


def new_generator(view: FeedView, self_type: str) -> FeedGenerator:
    """A generator holding the feed-level fields common to RSS and Atom."""
    fg = FeedGenerator()
    fg.id(view.id)
    fg.title(view.title)
    fg.description(view.description or view.title)
    fg.language(view.language)
    fg.link(href=view.self_url, rel="self", type=self_type)
    fg.link(href=view.home_url, rel="alternate")  # last: feedgen's RSS <link> takes the last one
    fg.updated(view.updated)
    fg.generator("Syndicate", version=__version__)
    return fg


def media_content(image: Image) -> dict[str, str]:
    """The Media RSS ``media:content`` of an item's image: the same element in RSS and Atom."""
    media = {"url": image.url, "medium": "image"}
    if image.width and image.height:
        media.update(width=str(image.width), height=str(image.height))
    return media


def image_type(image: Image) -> str | None:
    """The image's media type from its file name (``image/jpeg``), when it says one."""
    guessed, _ = mimetypes.guess_type(urlsplit(image.url).path, strict=False)
    return guessed if guessed and guessed.startswith("image/") else None


def extra_links(view: FeedView) -> list[tuple[str, str]]:
    """Hub and paging links, in a fixed order so output bytes are stable."""
    links = [("hub", hub) for hub in view.hubs]
    links += [(rel, view.pages[rel]) for rel in ("first", "previous", "next", "last") if rel in view.pages]
    return links
