"""A WordPress export's posts as Syndicate article files, mapped as WordPress itself means each field.

Dates come from ``post_date_gmt`` (UTC), never the zone-less local ``post_date``; the
id comes from the WordPress post id, so a re-import finds the same file and readers
never see a new item; the body is what WordPress would show: block comments removed,
classic text given paragraphs by ``wpautop``, ``[caption]`` turned into a figure, and
every other shortcode left in place for Syndicate to resolve per partner.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin

import lxml.html

from syndicate import shortcodes
from syndicate.ingest.wpautop import wpautop
from syndicate.ingest.wxr import Export, Item

IMPORTED_STATUSES = frozenset({"publish", "future"})  # "future": scheduled, held back until its date
CAPTION_TAGS = ("caption", "wp_caption")
DEFAULT_FEED = "wordpress"
# WP_Block_Parser's delimiter: JSON attributes may hold "}" and "-->" inside strings, only "} -->" ends them.
_BLOCK_COMMENT = re.compile(
    r"<!--\s+/?wp:(?:[a-z][a-z0-9_-]*/)?[a-z][a-z0-9_-]*\s+"
    r"(?:\{(?:(?:[^}]+|}+(?=})|(?!}\s+/?-->).)*+)?}\s+)?/?-->\n?",
    re.DOTALL,
)
_CAPTION_IMAGE = re.compile(r"((?:<a [^>]+>\s*)?<img [^>]+>(?:\s*</a>)?)(.*)", re.IGNORECASE | re.DOTALL)
_IMAGE_SIZE = re.compile(r's:5:"width";i:(\d+);s:6:"height";i:(\d+);')
_NOT_FEED_CHAR = re.compile(r"[^a-z0-9_-]+")
_NOT_SLUG_CHAR = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Converted:
    """One post ready to be written: which feed, which post, the front matter and the HTML body."""

    feed: str
    post_id: int
    slug: str
    meta: dict[str, Any]
    body: str


def has_blocks(content: str) -> bool:
    """WordPress's ``has_blocks``: block-editor content carries ``<!-- wp:`` delimiters."""
    return "<!-- wp:" in content


def remove_block_comments(content: str) -> str:
    """The block delimiters (``<!-- wp:paragraph -->``, ``<!-- /wp:paragraph -->``, ``<!-- wp:x /-->``) gone."""
    return _BLOCK_COMMENT.sub("", content)


def _caption(attrs: dict[str, str], content: str, tag: str) -> str:
    """``img_caption_shortcode`` as an HTML5 figure; no width or no caption gives the content alone, as there."""
    caption = attrs.get("caption")
    if caption is None:
        match = _CAPTION_IMAGE.match(content.strip())
        if match:
            content, caption = match.group(1), match.group(2).strip()
    try:
        width = int(attrs.get("width", "0").strip() or 0)
    except ValueError:
        width = 0
    if width < 1 or not caption:
        return content
    return f"<figure>{content}<figcaption>{caption}</figcaption></figure>"


def wordpress_body(content: str) -> str:
    """The post body as WordPress displays it, short of running shortcodes (Syndicate resolves those)."""
    content = content.replace("\r\n", "\n")
    content = shortcodes.render(content, dict.fromkeys(CAPTION_TAGS, _caption))
    if has_blocks(content):
        return remove_block_comments(content).strip("\n")
    return wpautop(content).strip("\n")


def plain(text: str) -> str:
    """HTML (a title, an excerpt) as plain text: tags and entities resolved, spaces at either end removed,
    every other character (``&nbsp;``, runs of spaces) kept, as WordPress's own feed keeps them."""
    if "<" in text:
        text = lxml.html.fragment_fromstring(text, create_parent="div").text_content()
    return html.unescape(text).strip(" \t\r\n")


def plain_names(names: Iterable[str]) -> list[str]:
    """Each name (a category, a tag) as plain text, in order, without empty or repeated ones."""
    return list(dict.fromkeys(text for text in map(plain, names) if text))


def feed_name(slug: str, fallback: str) -> str:
    """A category slug as a feed folder name (lower-case letters, digits, '-' and '_')."""
    name = _NOT_FEED_CHAR.sub("-", unquote(slug).lower()).strip("-_")[:64].strip("-_")
    return name if name and name != "all" else fallback


def file_slug(item: Item) -> str:
    """An ASCII slug for the file name, for people browsing ``feeds/``; the id does not depend on it."""
    return _NOT_SLUG_CHAR.sub("-", unquote(item.slug).lower()).strip("-")[:60].strip("-")


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _image(item: Item, attachments: dict[int, Item], site: str) -> dict[str, Any] | None:
    try:
        attachment = attachments.get(int(item.meta.get("_thumbnail_id", "").strip()))
    except ValueError:
        return None
    if attachment is None:
        return None
    url = attachment.attachment_url or attachment.link
    if not url:
        return None
    url = urljoin(site + "/", url)  # uploads outside the WordPress folder are exported as relative URLs
    image: dict[str, Any] = {"url": url}
    size = _IMAGE_SIZE.search(attachment.meta.get("_wp_attachment_metadata", ""))
    if size and int(size.group(1)) > 0 and int(size.group(2)) > 0:
        image["width"], image["height"] = int(size.group(1)), int(size.group(2))
    alt = plain(attachment.meta.get("_wp_attachment_image_alt", ""))
    if alt:
        image["alt"] = alt
    return image


def article_id(post_id: int) -> str:
    return f"wp-{post_id}"


def convert(item: Item, export: Export, feed: str, attachments: dict[int, Item]) -> Converted:
    """The article for ``item`` (already known to be a published post or page with a date)."""
    assert item.published is not None
    meta: dict[str, Any] = {"title": plain(item.title) or f"(untitled {item.post_id})", "date": _iso(item.published)}
    if item.modified is not None and item.modified > item.published:
        meta["updated"] = _iso(item.modified)
    meta["id"] = article_id(item.post_id)
    author = export.authors.get(item.creator, item.creator)
    if author:
        meta["author"] = author
    tags = plain_names(t.name for t in _ordered_terms(item))
    if tags:
        meta["tags"] = tags
    summary = plain(item.excerpt)
    if summary:
        meta["summary"] = summary
    image = _image(item, attachments, export.link.rstrip("/"))
    if image:
        meta["image"] = image
    if item.link:
        meta["canonical_url"] = item.link
    return Converted(feed, item.post_id, file_slug(item), meta, wordpress_body(item.content))


def _ordered_terms(item: Item) -> Iterable[Any]:
    """Categories first, then tags: the order WordPress's own feed lists them."""
    return [t for t in item.terms if t.domain == "category"] + [t for t in item.terms if t.domain == "post_tag"]


def primary_category(item: Item) -> str:
    """The first category the export lists for the post ("" when it has none)."""
    return next((t.slug or t.name for t in item.terms if t.domain == "category"), "")


def skip_reason(item: Item, pages: bool) -> str | None:
    """Why ``item`` is not imported, or None when it is."""
    if item.post_type == "page" and not pages:
        return "page (use --pages)"
    if item.post_type not in ("post", "page"):
        return {"attachment": "attachment", "revision": "revision", "nav_menu_item": "menu item"}.get(
            item.post_type, f"type {item.post_type}"
        )
    if item.status not in IMPORTED_STATUSES:
        return f"status {item.status or 'none'}"
    if item.post_id <= 0:
        return "no post id"
    if item.published is None:
        return "no publication date"
    return None


def shortcode_counts(items: Iterable[Item]) -> Counter[str]:
    """Every shortcode-like tag in the imported posts' content, with how often it occurs."""
    from syndicate.advice import _looks_like_shortcode  # the rule `check` uses, so both report the same tags

    counts: Counter[str] = Counter()
    for item in items:
        for _, name in shortcodes.find_tokens(item.content):
            if _looks_like_shortcode(name, item.content):
                counts[name] += 1
    return counts
