"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written with orjson.

This maps ``FeedView`` directly; field comments quote the spec's meaning where it
is easy to get wrong. Item fragments (``items``) are orjson's own output for the
fields around ``content_html``, joined in the key order ``render`` writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson

from syndicate.formats.model import FeedView, ItemView
from syndicate.formats.xmlwriter import Content, Written

VERSION = "https://jsonfeed.org/version/1.1"


def _date(value: dt.datetime) -> str:
    return value.isoformat()  # RFC 3339: our datetimes always carry an offset


def item_json(item: ItemView) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "url": item.url, "title": item.title}
    # "content_html" or "content_text" must be present; an empty string is allowed.
    out["content_html"] = item.content_html
    if item.summary:
        out["summary"] = item.summary
    if item.image is not None:
        out["image"] = item.image.url
    out["date_published"] = _date(item.published)
    out["date_modified"] = _date(item.updated)
    if item.author is not None:
        author: dict[str, str] = {"name": item.author.name}
        if item.author.url:
            author["url"] = item.author.url
        out["authors"] = [author]
    if item.tags:
        out["tags"] = list(item.tags)
    return out


def _header(view: FeedView) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": view.title,
        "home_page_url": view.home_url,
        "feed_url": view.self_url,  # the URL of this document, so readers can update it
    }
    if view.description:
        feed["description"] = view.description
    if view.image is not None:
        feed["icon"] = view.image.url
    feed["language"] = view.language
    if view.author_name:
        feed["authors"] = [{"name": view.author_name}]
    if "next" in view.pages:
        feed["next_url"] = view.pages["next"]
    if view.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in view.hubs]
    return feed


def render(view: FeedView) -> bytes:
    feed = _header(view)
    feed["items"] = [item_json(item) for item in view.items]  # last: ``head_and_tail_of`` relies on it
    return orjson.dumps(feed)


def head_and_tail_of(view: FeedView) -> tuple[bytes, bytes]:
    """``render``'s output without items, as the bytes before and after them (joined with ``,``)."""
    return orjson.dumps(_header(view))[:-1] + b',"items":[', b"]}"


def escape_texts(values: Sequence[str]) -> list[bytes]:
    """Each value as the inside of a JSON string, as orjson writes it."""
    return [orjson.dumps(value)[1:-1] for value in values]


def _item(item: ItemView, content: Content) -> Written:
    fields = item_json(item)
    fields.pop("content_html")
    before = {key: fields.pop(key) for key in ("id", "url", "title")}
    # {before..., "content_html": "<content>", after...}: ``after`` always holds the dates.
    runs = [orjson.dumps(before)[:-1] + b',"content_html":"']
    slots = []
    for part in content:
        if isinstance(part, str):
            runs[-1] += orjson.dumps(part)[1:-1]
        else:
            slots.append(part)
            runs.append(b"")
    runs[-1] += b'",' + orjson.dumps(fields)[1:]
    return tuple(runs), tuple(slots)


def items(entries: Sequence[tuple[ItemView, Content]]) -> list[Written]:
    """Each item's bytes as ``render`` writes it, cut where each of its slots goes."""
    return [_item(item, content) for item, content in entries]
