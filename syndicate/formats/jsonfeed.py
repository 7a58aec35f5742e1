"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written with orjson.

feedgen has no JSON Feed, so this maps ``FeedView`` directly; field comments
quote the spec's meaning where it is easy to get wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from syndicate.formats.model import FeedView, ItemView

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


def render(view: FeedView) -> bytes:
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
    feed["items"] = [item_json(item) for item in view.items]
    return orjson.dumps(feed)
