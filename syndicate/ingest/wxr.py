"""WordPress eXtended RSS (Tools → Export, WXR 1.0–1.2) into plain records.

Only reads: nothing here knows about Syndicate's files. The parser never resolves
entities, never touches the network and keeps lxml's limits on text size and depth
(``huge_tree`` off), so a hostile or broken export is an ``ExportError`` with one
line that says why, never a hang or a half-read site.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from syndicate.ingest import safexml

MAX_EXPORT_BYTES = 512 * 1024 * 1024  # far above a real site's export; a 2 GB file is refused before reading
WP_NAMESPACE_PREFIX = "http://wordpress.org/export/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_ZERO_DATE = "0000-00-00 00:00:00"


class ExportError(Exception):
    """The file is not a usable WordPress export; the message is one line naming the file."""


@dataclass(frozen=True, slots=True)
class Term:
    domain: str  # "category", "post_tag", or a custom taxonomy
    slug: str  # WordPress's "nicename"
    name: str


@dataclass(frozen=True, slots=True)
class Item:
    """One ``<item>``: a post, page, attachment, menu item, revision..."""

    post_id: int
    post_type: str
    status: str
    title: str
    link: str
    creator: str  # the author's login
    content: str
    excerpt: str
    published: dt.datetime | None  # from wp:post_date_gmt (UTC), else the RSS pubDate
    modified: dt.datetime | None  # from wp:post_modified_gmt
    slug: str
    parent: int
    terms: tuple[Term, ...]
    meta: dict[str, str] = field(hash=False)
    attachment_url: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Export:
    path: Path
    version: str
    title: str
    link: str
    description: str
    language: str
    authors: dict[str, str]  # login -> display name
    items: tuple[Item, ...]


def _local(tag: object) -> tuple[str, str]:
    """(namespace, local name) of an element tag; comments and PIs have no string tag."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _is_wp(ns: str) -> bool:
    return ns.startswith(WP_NAMESPACE_PREFIX)


def _text(element: etree._Element) -> str:
    return "".join(str(part) for part in element.itertext())


def parse_gmt(value: str) -> dt.datetime | None:
    """``2024-05-01 10:00:00`` as UTC; WordPress writes zeros for posts never published."""
    value = value.strip()
    if not value or value == _ZERO_DATE:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _parse_pubdate(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None or parsed.year < 1971:  # WordPress writes 1970 or year -0001 for "no date"
        return None
    return parsed.astimezone(dt.UTC)


def _line(element: etree._Element) -> int:
    line: object = element.sourceline
    return line if isinstance(line, int) else 0


def _item(element: etree._Element) -> Item:
    fields: dict[str, str] = {}
    terms: list[Term] = []
    meta: dict[str, str] = {}
    for child in element:
        ns, name = _local(child.tag)
        if not name:
            continue
        if name == "category" and not ns:
            terms.append(Term(child.get("domain", "category"), child.get("nicename", ""), _text(child).strip()))
        elif name == "postmeta" and _is_wp(ns):
            key = value = ""
            for part in child:
                _, part_name = _local(part.tag)
                if part_name == "meta_key":
                    key = _text(part)
                elif part_name == "meta_value":
                    value = _text(part)
            if key:
                meta[key] = value
        elif ns == CONTENT_NS and name == "encoded":
            fields["content"] = _text(child)
        elif name == "encoded" and "excerpt" in ns:
            fields["excerpt"] = _text(child)
        elif ns == DC_NS and name == "creator":
            fields["creator"] = _text(child).strip()
        elif _is_wp(ns) or not ns:
            fields[name] = _text(child)
    try:
        post_id = int(fields.get("post_id", "").strip())
    except ValueError:
        post_id = 0
    try:
        parent = int(fields.get("post_parent", "0").strip() or 0)
    except ValueError:
        parent = 0
    published = parse_gmt(fields.get("post_date_gmt", "")) or _parse_pubdate(fields.get("pubDate", ""))
    return Item(
        post_id=post_id,
        post_type=fields.get("post_type", "post").strip() or "post",
        status=fields.get("status", "").strip(),
        title=fields.get("title", "").strip(),
        link=fields.get("link", "").strip(),
        creator=fields.get("creator", ""),
        content=fields.get("content", ""),
        excerpt=fields.get("excerpt", ""),
        published=published,
        modified=parse_gmt(fields.get("post_modified_gmt", "")),
        slug=fields.get("post_name", "").strip(),
        parent=parent,
        terms=tuple(terms),
        meta=meta,
        attachment_url=fields.get("attachment_url", "").strip(),
        line=_line(element),
    )


def _author(element: etree._Element) -> tuple[str, str]:
    login = display = ""
    for child in element:
        _, name = _local(child.tag)
        if name == "author_login":
            login = _text(child).strip()
        elif name == "author_display_name":
            display = _text(child).strip()
    return login, display or login


#: C0 control characters XML 1.0 forbids (tab, LF and CR are allowed). As bytes they are the same in UTF-8
#: and every other encoding an export comes in, and never part of a multi-byte character.
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D))


class _WithoutControlBytes:
    """A file whose reads skip control characters: WordPress writes post text into CDATA as it is, so one
    pasted from a word processor (a vertical tab, say) would otherwise make the whole export unreadable.
    Newlines stay, so line numbers in errors are the file's."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source

    def read(self, size: int = -1) -> bytes:
        return self.source.read(size).translate(None, _CONTROL_BYTES)


def _events(source: BinaryIO) -> Iterator[tuple[str, etree._Element]]:
    return etree.iterparse(  # type: ignore[no-any-return]
        _WithoutControlBytes(source),
        events=("start", "end"),
        **safexml.OPTIONS,
    )


class _Reader:
    """The state of one pass over an export: channel fields, authors and items so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.channel: dict[str, str] = {}
        self.authors: dict[str, str] = {}
        self.items: list[Item] = []
        self.root_seen = False
        self.wxr_ns = ""

    def read(self, source: BinaryIO) -> None:
        depth = 0
        for event, element in _events(source):
            ns, name = _local(element.tag)
            if event == "start":
                depth += 1
                if depth == 1:
                    self.root(element, name)
                continue
            depth -= 1
            if depth == 2 and name == "item" and not ns:
                self.items.append(_item(element))
                element.clear()
            elif depth == 2 and name == "author" and _is_wp(ns):
                login, display = _author(element)
                if login:
                    self.authors[login] = display
                element.clear()
            elif depth == 2 and name in ("title", "link", "description", "language", "wxr_version"):
                self.channel.setdefault(name, _text(element).strip())

    def root(self, element: etree._Element, name: str) -> None:
        self.root_seen = True
        if name != "rss":
            raise ExportError(
                f"{self.path}:{_line(element)}: not a WordPress export (the root element is <{name}>, not <rss>)"
            )
        self.wxr_ns = next((uri for uri in (element.nsmap or {}).values() if uri and _is_wp(uri)), "")


def read_export(path: Path, limit: int = MAX_EXPORT_BYTES) -> Export:
    """Every item and author of the export at ``path``. Raises ``ExportError`` (one line) when unusable."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if size > limit:
        raise ExportError(f"{path}: file is {size} bytes, over the {limit}-byte limit for an export") from None
    reader = _Reader(path)
    try:
        with path.open("rb") as source:
            reader.read(source)
    except etree.XMLSyntaxError as exc:
        reason = str(exc.msg or exc).splitlines()[0] if str(exc.msg or exc) else "unreadable"
        what = "broken or truncated XML" if reader.root_seen else "not XML"
        raise ExportError(f"{path}:{exc.lineno or 0}: {what}: {reason}") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    channel = reader.channel
    if not reader.wxr_ns or "wxr_version" not in channel:
        raise ExportError(
            f"{path}: an RSS file but not a WordPress export (no wp:wxr_version); "
            "export it from WordPress with Tools → Export"
        )
    return Export(
        path,
        channel["wxr_version"],
        channel.get("title", ""),
        channel.get("link", ""),
        channel.get("description", ""),
        channel.get("language", ""),
        reader.authors,
        tuple(reader.items),
    )
