"""The feed writers as feedgen writes them: the reference the lxml writers in ``syndicate.formats`` are held to.

Same FeedView, same element order and values; the documents must be equal after
canonicalisation (C14N), which ignores only the spelling of empty elements and the
order of namespace declarations.
"""

from __future__ import annotations

import html
from typing import Any, cast

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate import __version__
from syndicate.formats.common import ATOM_NS, extra_links, image_type, media_content
from syndicate.formats.model import FeedView
from syndicate.formats.rss import MAX_IMAGE_HEIGHT, MAX_IMAGE_WIDTH


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


def rss(view: FeedView) -> bytes:
    fg = new_generator(view, "application/rss+xml")
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=False, rss=True)
    fg.register_extension("syndicate_links", AtomLinksExtension, None, atom=False, rss=True)
    fg.syndicate_links.links = extra_links(view)
    fg.lastBuildDate(view.updated)
    if view.image is not None:
        width = view.image.width if view.image.width and view.image.width <= MAX_IMAGE_WIDTH else None
        height = view.image.height if view.image.height and view.image.height <= MAX_IMAGE_HEIGHT else None
        fg.image(
            url=view.image.url,
            title=view.title,
            link=view.home_url,
            width=str(width) if width and height else None,
            height=str(height) if width and height else None,
        )
    for item in view.items:
        fe = fg.add_entry(order="append")
        fe.guid(item.id, permalink=False)
        fe.title(item.title)
        fe.link(href=item.url)
        if item.summary:
            # Readers take <description> as HTML; the summary is plain text, so it is escaped as HTML
            # (then as XML by the writer): "<img onerror=…>" in a summary shows as those characters.
            fe.description(html.escape(item.summary, quote=False))
        if item.content_html:
            fe.content(item.content_html)
        fe.pubDate(item.published)
        for tag in item.tags:
            fe.category(term=tag)
        if item.author is not None:
            fe.dc.dc_creator(item.author.name)
        if item.image is not None:
            fe.media.content(media_content(item.image), group=None)  # a one-item media:group is invalid
    return cast(bytes, fg.rss_str(pretty=False, encoding="UTF-8", xml_declaration=True))


def atom(view: FeedView) -> bytes:
    fg = new_generator(view, "application/atom+xml")
    fg.load_extension("media", atom=True, rss=False)
    fg.register_extension("enclosure", BaseExtension, EnclosureEntryExtension, atom=True, rss=False)
    for rel, href in extra_links(view):
        fg.link(href=href, rel=rel)
    # RFC 4287 wants an author on the feed or on every entry; the feed-level one covers entries without.
    fg.author(name=view.author_name or view.title)
    if view.image is not None:
        fg.logo(view.image.url)
    for item in view.items:
        fe = fg.add_entry(order="append")
        fe.id(item.id)
        fe.title(item.title)
        fe.link(href=item.url, rel="alternate", type="text/html")
        fe.published(item.published)
        fe.updated(item.updated)
        if item.summary:
            fe.summary(item.summary)
        if item.content_html:
            fe.content(item.content_html, type="html")
        if item.author is not None:
            author = {"name": item.author.name}
            if item.author.url:
                author["uri"] = item.author.url
            fe.author(author)
        for tag in item.tags:
            fe.category(term=tag)
        if item.image is not None:
            kind = image_type(item.image)
            if kind is not None:
                fe.enclosure.href, fe.enclosure.type = item.image.url, kind
            fe.media.content(media_content(item.image), group=None)  # a one-item media:group is invalid
    return cast(bytes, fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True))
