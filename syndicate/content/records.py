"""A file's parse as plain values: how the disk cache stores a record and how a first start's worker
processes send theirs (``content/firstparse.py``).

A record is a tuple in field order (name, stat, time read, text hash, feed, article, problems); the article
a tuple of its fields, timestamps as ISO 8601 and each body part a string, bytes or a shortcode call's
tuple. ``marshal`` writes them: plain values only, never code. A change here changes the package's sources,
so the disk cache's key: files written by other code are not read.
"""

from __future__ import annotations

import datetime as dt
import marshal
import sys
from pathlib import Path
from typing import Any

from syndicate.content.loader import shared_author
from syndicate.content.model import Article, Body, Call, Image
from syndicate.content.parsecache import ArticleInputs, Parsed
from syndicate.problems import Level, Problem
from syndicate.shortcodes import Shortcode

MARSHAL_VERSION = 4


def record_bytes(feed_folder: Path, name: str, record: Parsed) -> bytes | None:
    """``record`` (of file ``name``) as the disk cache stores it and a worker sends it; None when it cannot
    be written so (its article is left out, to be parsed again)."""
    row = encoded_row(feed_folder, name, record)
    return None if row is None else marshal.dumps(row, MARSHAL_VERSION)


def record_of(blob: bytes | memoryview, feed_folder: Path, inputs: ArticleInputs) -> tuple[str, Parsed]:
    """The file name and record ``record_bytes`` wrote. Bytes of another shape raise ``ValueError``,
    ``TypeError``, ``EOFError``, ``KeyError`` or ``IndexError``."""
    row = marshal.loads(blob)
    return row[0], decoded_row(row, feed_folder, inputs)


def encoded_row(feed_folder: Path, name: str, record: Parsed) -> tuple[Any, ...] | None:
    article = _encoded_article(record.article, feed_folder / name) if record.article is not None else None
    if record.article is not None and article is None:
        return None  # not representable: left out, so parsed again at the next start
    problems = tuple((str(p.path), p.line, p.level.value, p.message) for p in record.problems)
    return (name, record.stat, record.read_ns, record.text_hash, record.feed, article, problems)


def decoded_row(row: tuple[Any, ...], feed_folder: Path, inputs: ArticleInputs) -> Parsed:
    name, stat, read_ns, text_hash, feed, article, problems = row
    return Parsed(
        tuple(stat),
        read_ns,
        text_hash,
        inputs,
        feed,
        _article(article, feed_folder / name) if article is not None else None,
        tuple(Problem(Path(p), line, Level(level), message) for p, line, level, message in problems),
    )


def _timestamp(value: dt.datetime) -> str | None:
    """ISO 8601, when that gives the very same value back (a fixed offset; not a named zone)."""
    return value.isoformat() if type(value.tzinfo) is dt.timezone else None


def _encoded_article(a: Article, path: Path) -> tuple[Any, ...] | None:
    published, updated = _timestamp(a.published), _timestamp(a.updated)
    if published is None or updated is None or a.path != path:
        return None
    author = (a.author.name, a.author.url) if a.author is not None else None
    image = (a.image.url, a.image.width, a.image.height, a.image.alt) if a.image is not None else None
    parts = a.body.parts if isinstance(a.body, Body) else a.body  # text kept as UTF-8 is written as it is
    body = tuple(s if isinstance(s, str | bytes) else _encoded_call(s) for s in parts)
    head = (a.feed, a.slug, a.id, a.uid, a.title, published, updated)
    return (*head, author, a.tags, a.summary, image, a.url, body, a.body_line)


def _article(row: tuple[Any, ...], path: Path) -> Article:
    feed, slug, id_, uid, title, published, updated, author, tags, summary, image, url, body, line = row
    published_at = dt.datetime.fromisoformat(published)
    return Article(
        feed=feed,
        slug=slug,
        id=id_,
        uid=uid,
        path=path,
        title=title,
        published=published_at,
        updated=published_at if updated == published else dt.datetime.fromisoformat(updated),
        author=shared_author(*author) if author is not None else None,
        tags=tuple(sys.intern(t) for t in tags),
        summary=summary,
        image=Image(*image) if image is not None else None,
        url=url,
        body=Body.of_parts([s if s.__class__ is str or s.__class__ is bytes else _call(s) for s in body]),
        body_line=line,
    )


def _encoded_call(call: Call) -> tuple[Any, ...]:
    s = call.shortcode
    return (s.tag, s.attrs, s.content, s.enclosing, s.start, s.end, s.raw, call.index, call.block, call.line, call.text)


def _call(value: tuple[Any, ...]) -> Call:
    tag, attrs, content, enclosing, start, end, raw, index, block, line, text = value
    return Call(Shortcode(tag, dict(attrs), content, enclosing, start, end, raw), index, block, line, text)
