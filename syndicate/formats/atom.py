"""Atom 1.0 (RFC 4287) on the shared lxml writer: tag: URI ids, html content, summary.

The article image goes out twice, for the two kinds of reader: as Media RSS
``media:content`` (what the RSS item carries, read by most readers in Atom too)
and as RFC 4287's own ``link rel="enclosure"`` with its media type. Element order
is feedgen's, as in ``rss``; elements are unqualified under a default namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from syndicate import __version__
from syndicate.formats.common import ATOM_NS, GENERATOR, MEDIA_NS, extra_links, image_type, media_content
from syndicate.formats.model import FeedView, ItemView
from syndicate.formats.xmlwriter import Content, Writer, Written, head_and_tail, write_items, writing

NSMAP: dict[str | None, str] = {"media": MEDIA_NS}
_MEDIA = f"{{{MEDIA_NS}}}content"


@contextmanager
def _root(out: Writer, language: str = "") -> Iterator[None]:
    attrib = {"xmlns": ATOM_NS, **({"xml:lang": language} if language else {})}
    with out.element("feed", attrib, nsmap=NSMAP):
        yield


@contextmanager
def _document(out: Writer, view: FeedView) -> Iterator[None]:
    """The feed's own fields; the entries go where this yields."""
    with _root(out, view.language):
        out.text("id", view.id)
        out.text("title", view.title)
        out.text("updated", view.updated.isoformat())
        # RFC 4287 wants an author on the feed or on every entry; the feed-level one covers entries without.
        with out.element("author"):
            out.text("name", view.author_name or view.title)
        out.empty("link", {"href": view.self_url, "rel": "self", "type": "application/atom+xml"})
        out.empty("link", {"href": view.home_url, "rel": "alternate"})
        for rel, href in extra_links(view):
            out.empty("link", {"href": href, "rel": rel})
        out.text("generator", GENERATOR, {"version": __version__})
        if view.image is not None:
            out.text("logo", view.image.url)
        out.text("subtitle", view.description or view.title)
        yield


def write_item(out: Writer, item: ItemView, content: Content) -> None:
    """One ``<entry>``; its content is ``content`` (text, and slot numbers whose text is spliced in later)."""
    with out.element("entry"):
        out.text("id", item.id)
        out.text("title", item.title)
        out.text("updated", item.updated.isoformat())
        if item.author is not None:
            with out.element("author"):
                out.text("name", item.author.name)
                if item.author.url:
                    out.text("uri", item.author.url)
        if any(part != "" for part in content):
            out.content("content", content, {"type": "html"})
        out.empty("link", {"href": item.url})
        if item.summary:
            out.text("summary", item.summary)
        for tag in item.tags:
            out.empty("category", {"term": tag})
        out.text("published", item.published.isoformat())
        if item.image is not None:
            out.empty(_MEDIA, media_content(item.image))  # a one-item media:group is invalid
            kind = image_type(item.image)
            if kind is not None:
                out.empty("link", {"href": item.image.url, "rel": "enclosure", "type": kind})


def render(view: FeedView) -> bytes:
    with writing() as out, _document(out, view):
        for item in view.items:
            write_item(out, item, (item.content_html,))
    return out.getvalue()


def head_and_tail_of(view: FeedView) -> tuple[bytes, bytes]:
    return head_and_tail(lambda out: _document(out, view))


def items(entries: Sequence[tuple[ItemView, Content]]) -> list[Written]:
    return write_items(_root, len(entries), lambda out, i: write_item(out, *entries[i]))
