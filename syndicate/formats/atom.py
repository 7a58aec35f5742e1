"""Atom 1.0 (RFC 4287), written by feedgen: tag: URI ids, html content, summary."""

from __future__ import annotations

from typing import cast

from syndicate.formats.feedgen_base import extra_links, new_generator
from syndicate.formats.model import FeedView


def render(view: FeedView) -> bytes:
    fg = new_generator(view, "application/atom+xml")
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
    return cast(bytes, fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True))
