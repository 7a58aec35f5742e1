"""Atom 1.0 (RFC 4287), written by feedgen: tag: URI ids, html content, summary.

The article image goes out twice, for the two kinds of reader: as Media RSS
``media:content`` (what the RSS item carries, read by most readers in Atom too)
and as RFC 4287's own ``link rel="enclosure"`` with its media type.
"""

from __future__ import annotations

from typing import cast

from feedgen.ext.base import BaseExtension

from syndicate.formats.feedgen_base import (
    EnclosureEntryExtension,
    extra_links,
    image_type,
    media_content,
    new_generator,
)
from syndicate.formats.model import FeedView


def render(view: FeedView) -> bytes:
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
