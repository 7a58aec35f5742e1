"""RSS 2.0 with content:encoded, dc:creator and media:content, written by feedgen."""

from __future__ import annotations

import html
from typing import cast

from syndicate.formats.feedgen_base import AtomLinksExtension, extra_links, media_content, new_generator
from syndicate.formats.model import FeedView

# RSS 2.0 caps channel image dimensions; bigger values make validators fail the feed.
MAX_IMAGE_WIDTH, MAX_IMAGE_HEIGHT = 144, 400


def render(view: FeedView) -> bytes:
    fg = new_generator(view, "application/rss+xml")
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=False, rss=True)
    fg.register_extension("syndicate_links", AtomLinksExtension, None, atom=False, rss=True)
    fg.syndicate_links.links = extra_links(view)
    fg.lastBuildDate(view.updated)
    if view.image is not None:
        width = view.image.width if view.image.width and view.image.width <= MAX_IMAGE_WIDTH else None
        height = view.image.height if view.image.height and view.image.height <= MAX_IMAGE_HEIGHT else None
        fg.image(url=view.image.url, title=view.title, link=view.home_url,
                 width=str(width) if width and height else None, height=str(height) if width and height else None)
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
