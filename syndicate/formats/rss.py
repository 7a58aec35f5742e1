"""RSS 2.0 with content:encoded, dc:creator and media:content, on the shared lxml writer.

Element order and contents are feedgen's (the library these feeds were first written
with, still the reference the tests hold them to): readers and validators see the
same document, written without feedgen's per-element Python objects.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from syndicate.formats.common import ATOM_NS, GENERATOR, MEDIA_NS, extra_links, media_content, rfc822
from syndicate.formats.model import FeedView, ItemView
from syndicate.formats.xmlwriter import Content, Writer, Written, head_and_tail, write_items, writing

# RSS 2.0 caps channel image dimensions; bigger values make validators fail the feed.
MAX_IMAGE_WIDTH, MAX_IMAGE_HEIGHT = 144, 400
DOCS = "http://www.rssboard.org/rss-specification"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
NSMAP: dict[str | None, str] = {"dc": DC_NS, "media": MEDIA_NS, "atom": ATOM_NS, "content": CONTENT_NS}
_ATOM_LINK = f"{{{ATOM_NS}}}link"
_ENCODED = f"{{{CONTENT_NS}}}encoded"
_CREATOR = f"{{{DC_NS}}}creator"
_MEDIA = f"{{{MEDIA_NS}}}content"


@contextmanager
def _root(out: Writer) -> Iterator[None]:
    with out.element("rss", {"version": "2.0"}, nsmap=NSMAP):
        yield


@contextmanager
def _document(out: Writer, view: FeedView) -> Iterator[None]:
    """The channel's own fields; the items go where this yields."""
    with _root(out), out.element("channel"):
        out.text("title", view.title)
        out.text("link", view.home_url)
        out.text("description", view.description or view.title)
        out.empty(_ATOM_LINK, {"href": view.self_url, "rel": "self", "type": "application/rss+xml"})
        for rel, href in extra_links(view):
            out.empty(_ATOM_LINK, {"href": href, "rel": rel})
        out.text("docs", DOCS)
        out.text("generator", GENERATOR)
        if view.image is not None:
            width = view.image.width if view.image.width and view.image.width <= MAX_IMAGE_WIDTH else None
            height = view.image.height if view.image.height and view.image.height <= MAX_IMAGE_HEIGHT else None
            with out.element("image"):
                out.text("url", view.image.url)
                out.text("title", view.title)
                out.text("link", view.home_url)
                if width and height:
                    out.text("width", str(width))
                    out.text("height", str(height))
        if view.language:
            out.text("language", view.language)
        out.text("lastBuildDate", rfc822(view.updated))
        yield


def write_item(out: Writer, item: ItemView, content: Content) -> None:
    """One ``<item>``; its content is ``content`` (text, and slot numbers whose text is spliced in later)."""
    with out.element("item"):
        if item.title:
            out.text("title", item.title)
        out.text("link", item.url)
        has_content = any(part != "" for part in content)
        if item.summary:
            # Readers take <description> as HTML; the summary is plain text, so it is escaped as HTML
            # (then as XML by the writer): "<img onerror=…>" in a summary shows as those characters.
            out.text("description", html.escape(item.summary, quote=False))
            if has_content:
                out.content(_ENCODED, content)
        elif has_content:
            out.content("description", content)
        out.text("guid", item.id, {"isPermaLink": "false"})
        for tag in item.tags:
            out.text("category", tag)
        out.text("pubDate", rfc822(item.published))
        if item.author is not None:
            out.text(_CREATOR, item.author.name)
        if item.image is not None:
            out.empty(_MEDIA, media_content(item.image))  # a one-item media:group is invalid


def render(view: FeedView) -> bytes:
    with writing() as out, _document(out, view):
        for item in view.items:
            write_item(out, item, (item.content_html,))
    return out.getvalue()


def head_and_tail_of(view: FeedView) -> tuple[bytes, bytes]:
    return head_and_tail(lambda out: _document(out, view))


def items(entries: Sequence[tuple[ItemView, Content]]) -> list[Written]:
    return write_items(_root, len(entries), lambda out, i: write_item(out, *entries[i]))
